"""What ``preview`` predicts for an object is what a sync then does to it.

Random small directories and random rule sets (scope, join, projection, sticky join,
precedence, expression flows, outbound provisioning with a reverse join). After an
initial cycle one object changes (or a new one arrives) and is imported; preview shows
it, a delta sync then processes it (it is the only object with a pending import), and
the store must hold what preview said: the link, the metaverse values and the rule
behind each, and the pending export of every target. Both evaluation paths, generated
code and the reference implementations, are drawn.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from tests.unit.engine.writable_directory import WritableDirectory

from hybridsync.connectors.recording import RecordingConfig, RecordingTarget
from hybridsync.core.objects import CSObject, PendingImport
from hybridsync.core.rules import (
    AttributeFlow,
    Direction,
    FlowType,
    JoinClause,
    JoinGroup,
    LinkType,
    RuleSet,
    ScopeClause,
    ScopeGroup,
    ScopeOperator,
    SyncRule,
)
from hybridsync.engine import Engine, EngineContext, Profile
from hybridsync.engine.preview import _show
from hybridsync.engine.settings import EngineSettings
from hybridsync.expressions import compile_expression
from hybridsync.store import open_sqlite

DEPARTMENTS = st.sampled_from([None, "Sales", "Legal"])
MAILS = st.sampled_from([None, *(f"{name}@contoso.com" for name in ("ann", "bob", "cy", "dee"))])
NAMES = st.sampled_from(["Ann", "Bob", "Cy"])
SCOPES = st.sampled_from([
    (),
    (ScopeGroup((ScopeClause("department", ScopeOperator.EQUAL, "Sales"),)),),
    (ScopeGroup((ScopeClause("department", ScopeOperator.NOTEQUAL, "Legal"),)),),
    (ScopeGroup((ScopeClause("department", ScopeOperator.ISNOTNULL),)),),
])  # fmt: skip
BY_MAIL = (JoinGroup((JoinClause("mail", "mail"),)),)
UPPER = compile_expression("IIF(IsPresent([department]), UCase([department]), IgnoreThisFlow)")
FLOWS = [
    AttributeFlow("displayName", FlowType.DIRECT, ("displayName",)),
    AttributeFlow("department", FlowType.DIRECT, ("department",)),
    AttributeFlow("mail", FlowType.DIRECT, ("mail",)),
    AttributeFlow("department", FlowType.EXPRESSION, expression=UPPER,
                  expression_text=UPPER.text),
    AttributeFlow("title", FlowType.CONSTANT, constant="Partner"),
]  # fmt: skip


@st.composite
def inbound_rule(draw: st.DrawFn, number: int) -> SyncRule:
    links = [LinkType.PROVISION, LinkType.JOIN, LinkType.STICKY_JOIN]
    link = draw(st.sampled_from([LinkType.PROVISION, *links] if number == 0 else links))
    # Several join rules in scope are an error on the object (rarely drawn: one is enough).
    first = link is not LinkType.PROVISION or draw(st.booleans())
    joins = first if number == 0 else draw(st.integers(0, 9)) == 0
    flows = draw(st.lists(st.sampled_from(FLOWS), max_size=3, unique_by=id))
    return SyncRule(
        f"in-{number}", Direction.INBOUND, "ad", "user", "person", link,
        draw(st.integers(1, 50)), scope=draw(SCOPES), join=BY_MAIL if joins else (),
        flows=tuple(flows),
    )  # fmt: skip


@st.composite
def outbound_rule(draw: st.DrawFn, number: int) -> SyncRule:
    flows = draw(st.lists(st.sampled_from(FLOWS[:3]), max_size=3, unique_by=id))
    return SyncRule(
        f"out-{number}", Direction.OUTBOUND, "cloud", "person", "user", LinkType.PROVISION,
        100 + number, scope=draw(SCOPES), join=BY_MAIL if draw(st.booleans()) else (),
        flows=tuple(flows),
    )  # fmt: skip


@st.composite
def hr_rule(draw: st.DrawFn) -> SyncRule:
    """A second source (an HR feed) projects people that the directory's users join."""
    flows = [FLOWS[2], *draw(st.lists(st.sampled_from(FLOWS[:2]), max_size=2, unique_by=id))]
    return SyncRule(
        "hr-in", Direction.INBOUND, "hr", "user", "person", LinkType.PROVISION,
        draw(st.integers(1, 50)), flows=tuple(flows),
    )  # fmt: skip


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    inbound = [draw(inbound_rule(n)) for n in range(draw(st.integers(1, 3)))]
    outbound = [draw(outbound_rule(n)) for n in range(draw(st.integers(0, 2)))]
    return RuleSet.of([*inbound, draw(hr_rule()), *outbound], content_hash="property")


USER = st.fixed_dictionaries({"department": DEPARTMENTS, "mail": MAILS, "displayName": NAMES})


@dataclass
class Scenario:
    rules: RuleSet
    hr: list[dict[str, str | None]]
    users: list[dict[str, str | None]]
    changed: int
    """The index of the user that changes (``len(users)``: a new user)."""
    change: dict[str, str | None]
    reference: bool


scenarios = st.builds(
    Scenario,
    rule_sets(),
    st.lists(USER, max_size=3),
    st.lists(USER, min_size=1, max_size=3),
    st.integers(0, 4),
    USER,
    st.booleans(),
)


def _user(mail: str | None, name: str = "Ann") -> dict[str, str | None]:
    return {"department": "Sales", "mail": mail, "displayName": name}


JOINING = Scenario(
    RuleSet.of([
        SyncRule("in-0", Direction.INBOUND, "ad", "user", "person", LinkType.STICKY_JOIN, 5,
                 join=BY_MAIL, flows=(FLOWS[0], FLOWS[3])),
        SyncRule("hr-in", Direction.INBOUND, "hr", "user", "person", LinkType.PROVISION, 9,
                 flows=(FLOWS[0], FLOWS[2])),
        SyncRule("out-0", Direction.OUTBOUND, "cloud", "person", "user", LinkType.PROVISION,
                 100, join=BY_MAIL, flows=tuple(FLOWS[:3])),
    ], content_hash="property"),
    hr=[_user("ann@contoso.com", "Hr")],
    users=[_user("bob@contoso.com")],
    changed=1,
    change=_user("ann@contoso.com", "Ad"),
    reference=False,
)  # fmt: skip
"""A new user joins the person the HR feed projected (and provisioned): its values win
by precedence, and the person's target object gets the change."""


def add(directory: WritableDirectory, number: int, user: dict[str, str | None]) -> str:
    values = {name: value for name, value in user.items() if value is not None}
    anchor, _ = directory.add_user(f"u{number}", **values)
    return anchor


def event(text: str) -> None:
    """Count what the examples covered (``--hypothesis-show-statistics``)."""
    if currently_in_test_context():
        hypothesis_event(text)


def shown_values(attributes: Any) -> dict[str, list[Any]]:
    return {name: _show(values) for name, values in attributes.items() if values}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
@example(JOINING)
def test_preview_predicts_what_the_next_sync_does_to_the_object(scenario: Scenario) -> None:
    predict_then_sync(scenario)


def test_preview_names_the_source_of_each_metaverse_value() -> None:
    shown = predict_then_sync(JOINING)
    assert shown is not None
    assert shown["join"]["action"] == "join"
    assert shown["metaverse_sources"] == {
        "department": ["ad: CN=u1,OU=Staff,DC=contoso,DC=com"],
        "displayName": ["ad: CN=u1,OU=Staff,DC=contoso,DC=com"],  # precedence 5 beats 9
        "mail": ["hr: CN=u100,OU=Staff,DC=contoso,DC=com"],
    }
    assert shown["targets"]["cloud"]["action"] == "flow"


def predict_then_sync(scenario: Scenario) -> dict[str, Any] | None:
    """Preview the changed object, sync, compare; the preview (None: not one object alone)."""
    with tempfile.TemporaryDirectory(prefix="hybridsync-property-") as tmp:
        store = open_sqlite(Path(tmp) / "state.db")
        cloud = RecordingTarget(RecordingConfig(name="cloud"))
        try:
            directory = WritableDirectory(write_back=False)
            hr = WritableDirectory(name="hr", write_back=False)
            for number, user in enumerate(scenario.hr):
                add(hr, 100 + number, user)
            connectors: dict[str, Any] = {"hr": hr, "ad": directory, "cloud": cloud}
            settings_ = EngineSettings(reference_evaluation=scenario.reference)
            engine = Engine(EngineContext(store, scenario.rules, connectors, settings_))
            for number, user in enumerate(scenario.users):
                add(directory, number, user)
            engine.cycle("initial")
            number = min(scenario.changed, len(scenario.users))
            anchor = add(directory, number, scenario.change)
            engine.run("ad", Profile.DELTA_IMPORT)
            before = store.cs_by_anchor("ad", anchor)
            assert before is not None
            if [cs for cs in store.get_cs_many(store.cs_ids("ad", pending_only=True))
                    if cs.cs_id != before.cs_id]:  # fmt: skip
                event("skipped: another object is pending")
                return None  # an earlier object is still pending (an error): not one object alone
            shown = engine.preview("ad", anchor)
            targets_before = _targets(store, before.mv_id)
            engine.run("ad", Profile.DELTA_SYNC)
            after = store.get_cs(before.cs_id)
            assert after is not None
            _compare(store, shown, before, after, targets_before)
            return shown
        finally:
            store.close()
            cloud.close()


def _targets(store: Any, mv_id: str | None) -> dict[str, CSObject]:
    if mv_id is None:
        return {}
    return {cs.connector: cs for cs in store.cs_linked_to(mv_id) if cs.connector == "cloud"}


def _compare(
    store: Any,
    shown: dict[str, Any],
    before: CSObject,
    after: CSObject,
    targets_before: dict[str, CSObject],
) -> None:
    join = shown["join"]
    action = join["action"]
    event(f"link {action}" + (" (error)" if join["error"] else ""))
    if join["error"] or action in ("stay-disjoined", "disconnect"):
        assert after.mv_id is None if not join["error"] else after.mv_id == before.mv_id
        return
    if shown["errors"]:  # flow errors: nothing changes, the import stays pending
        assert after.pending_import is not PendingImport.NONE
        return
    assert after.mv_id is not None
    assert after.joined_by == join["rule"]
    if action == "project":
        assert after.mv_id != before.mv_id
    else:
        assert after.mv_id == join["metaverse_object"]
    mv = store.get_mv(after.mv_id)
    if shown.get("metaverse_deleted"):
        assert mv is None
    else:
        assert mv is not None
        expected = {name: item["values"] for name, item in shown["metaverse"].items()}
        assert shown_values(mv.attributes) == expected
        lineage = {name: item["rule"] for name, item in shown["metaverse"].items()}
        assert {name: mv.lineage.get(name) for name in mv.attributes} == lineage
        for name, rule in lineage.items():  # a value's source: a connector of its rules
            connectors = {"hr" if r == "hr-in" else "ad" for r in (rule or "").split(", ")}
            shown_sources = shown["metaverse_sources"][name]
            assert {source.split(":")[0] for source in shown_sources} <= connectors
    for name, predicted in shown.get("targets", {}).items():
        _compare_target(store, name, predicted, mv.mv_id if mv else None, targets_before)


def _compare_target(
    store: Any,
    name: str,
    predicted: dict[str, Any],
    mv_id: str | None,
    targets_before: dict[str, CSObject],
) -> None:
    linked = [cs for cs in (store.cs_linked_to(mv_id) if mv_id else []) if cs.connector == name]
    action, pending = predicted["action"], predicted["pending_export"]
    event(f"target {action}" + (" with export" if pending else ""))
    if predicted["errors"]:
        return
    if action in ("provision", "flow"):
        assert len(linked) == 1, (action, linked)
        (target,) = linked
        got = target.pending_export
        if pending is None:
            assert got is None
        else:
            assert got is not None
            assert got.kind.value == pending["kind"]
            assert {k: _show(v) for k, v in got.changes.items()} == pending["changes"]
        if predicted["dn"] is not None:
            assert target.dn == predicted["dn"]
    elif action in ("deprovision", "disconnect"):
        assert linked == []
        old = targets_before.get(name)
        assert old is not None
        gone = store.get_cs(old.cs_id)
        if action == "disconnect" or gone is None:
            return
        assert gone.pending_export is not None
        assert gone.pending_export.kind.value == "delete"
    else:
        assert action == "nothing"
        assert linked == []
