"""A flow plan gives exactly what contributions + resolve give, for any rules: both its
walk (``run``) and its generated function (``outcome``), and so do the inbound and
outbound code that read the outcome."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridsync.core.compiled import CompiledRules
from hybridsync.core.flowplan import FlowPlan
from hybridsync.core.flows import FlowError, FlowOutcome, Resolved, contributions, resolve
from hybridsync.core.inbound import LinkedSource, metaverse_values
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.outbound import DN_ATTRIBUTE, TargetAction, target_state
from hybridsync.core.rules import (
    AttributeFlow,
    Direction,
    FlowType,
    LinkType,
    MergeType,
    SyncRule,
)
from hybridsync.core.values import Values
from hybridsync.expressions import compile_expression

EXPRESSIONS = [
    '"x"', '""', "IgnoreThisFlow", "AuthoritativeNull", "NULL", 'Error("bad value")', "[s1]",
    'IIF(IsPresent([s2]), [s2], NULL)', 'IIF(IsPresent([s1]), "Guest", "member")', "[multi]",
    'IIF(IsPresent([s1]), IgnoreThisFlow, AuthoritativeNull)', 'Split("Member,x", ",")',
    'ValueCount("multi")', "CNum([s1])", '[q"\'\\n}]',
]  # fmt: skip
"""Every kind of result: text, empty text, the sentinels, Null, errors (Error() and
CNum of a non-number), a multi-value, a number, and an attribute with an odd name."""
COMPILED = {text: compile_expression(text) for text in EXPRESSIONS}
ODD = "q\"'\\n}"
"""A name that would break generated code pasted into its source text."""
RULE_NAMES = ["r1", "r2", "r3", "r4", 'r"); raise SystemExit(3) #', ""]
TARGETS = ["a", "b", "c", "x')]; import os; ('", DN_ATTRIBUTE]
PARAMETERS = {"Domain.FQDN": "contoso.com"}
MULTI = frozenset({"multi"})


@st.composite
def flows(draw: st.DrawFn) -> AttributeFlow:
    kind = draw(st.sampled_from(list(FlowType)))
    common = {
        "target": draw(st.sampled_from(TARGETS) | st.just("a")),  # often several into "a"
        "merge_type": draw(
            st.sampled_from(list(MergeType)) | st.just(MergeType.UPDATE)  # mostly Update
        ),
        "apply_once": draw(st.booleans()),
        "allowed_values": draw(st.sampled_from([(), (), ("Member", "Guest")])),
    }
    if kind is FlowType.DIRECT:
        sources = draw(st.sampled_from([("s1",), ("s2",), ("multi",), ("missing",), (ODD,), ()]))
        return AttributeFlow(flow_type=kind, sources=sources, **common)
    if kind is FlowType.CONSTANT:
        constant = draw(st.sampled_from(["k", "guest", "", 0, None]))
        return AttributeFlow(flow_type=kind, constant=constant, **common)
    text = draw(st.sampled_from(EXPRESSIONS))
    return AttributeFlow(flow_type=kind, expression=COMPILED[text], expression_text=text, **common)


@st.composite
def rules(draw: st.DrawFn, direction: Direction = Direction.INBOUND) -> SyncRule:
    return SyncRule(
        draw(st.sampled_from(RULE_NAMES)),
        direction,
        "ad",
        "user" if direction is Direction.INBOUND else "person",
        "person" if direction is Direction.INBOUND else "user",
        draw(st.sampled_from([LinkType.JOIN, LinkType.PROVISION, LinkType.JOIN_NO_FLOW])),
        draw(st.sampled_from([10, 20, 50])),
        flows=tuple(draw(st.lists(flows(), max_size=5))),
    )


ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "s1": st.sampled_from([("Guest",), ("x",), ("12",), ()]),
        "s2": st.sampled_from([("MEMBER",), (7,)]),
        "multi": st.sampled_from([("p", "P"), ("q",), ("guest", "Member")]),
        ODD: st.sampled_from([("odd",), ("a", "b")]),
    },
)


def expected(
    in_scope: list[SyncRule], attributes: Mapping[str, Values], *, creating: bool
) -> tuple[dict[str, Resolved], list[FlowError]]:
    """``resolve(contributions(...))``: the semantics, stated one contribution at a time."""
    found, errors = [], []
    for rule in in_scope:
        items, failed = contributions(rule, attributes, MULTI, PARAMETERS, creating=creating)
        found.extend(items)
        errors.extend(failed)
    resolved, conflicts = resolve(found)
    return resolved, errors + conflicts


@settings(max_examples=500, deadline=None)
@given(st.lists(rules(), max_size=4), ATTRIBUTES, st.booleans())
def test_a_plan_resolves_as_contributions_and_resolve_do(
    in_scope: list[SyncRule], attributes: dict[str, Values], creating: bool
) -> None:
    resolved, errors = expected(in_scope, attributes, creating=creating)
    plan = FlowPlan(tuple(in_scope), creating=creating)
    walked = plan.run(attributes, MULTI, PARAMETERS)
    assert walked == (resolved, errors)
    outcome = plan.outcome(attributes, MULTI, PARAMETERS)
    assert outcome == FlowOutcome.of(resolved, errors)  # errors in the same order, too
    reference = FlowPlan(tuple(in_scope), creating=creating, reference=True)
    assert reference.outcome(attributes, MULTI, PARAMETERS) == outcome
    in_plan_order = FlowOutcome.of(*walked)  # targets by their first flow, failed or not
    assert list(outcome.values) == list(in_plan_order.values)
    assert list(outcome.lineage) == list(in_plan_order.lineage)
    assert outcome.kept == in_plan_order.kept


@settings(max_examples=300, deadline=None)
@given(
    st.lists(rules(), min_size=1, max_size=3),
    ATTRIBUTES,
    st.dictionaries(st.sampled_from(TARGETS), st.sampled_from([("old",), ("o1", "o2")])),
    st.booleans(),
)
def test_the_metaverse_gets_what_the_resolved_outcomes_say(
    in_scope: list[SyncRule],
    attributes: dict[str, Values],
    before: dict[str, Values],
    creating: bool,
) -> None:
    previous = MVObject("mv1", "person", before, {name: "old-rule" for name in before})
    cs = CSObject("cs1", "ad", "a1", "CN=x", "user", {**attributes, "dn": ("CN=x",)})
    source = LinkedSource(cs, tuple(in_scope), MULTI, PARAMETERS)
    got = metaverse_values(previous, [source], creating=creating)

    resolved, errors = expected(in_scope, cs.attributes, creating=creating)
    attributes_after: dict[str, Values] = {}
    lineage_after: dict[str, str] = {}
    for name in set(resolved) | {error.attribute for error in errors}:
        outcome = resolved.get(name)
        if outcome is None or outcome.keep:  # failed or IgnoreThisFlow: previous value
            if before.get(name):
                attributes_after[name] = before[name]
                lineage_after[name] = "old-rule"
        elif outcome.values:  # empty: the attribute is removed
            attributes_after[name] = outcome.values
            if outcome.rule:
                lineage_after[name] = outcome.rule
    assert (got.attributes, got.lineage, got.errors) == (attributes_after, lineage_after, errors)


@settings(max_examples=300, deadline=None)
@given(st.lists(rules(Direction.OUTBOUND), max_size=3), ATTRIBUTES, st.booleans())
def test_a_target_gets_what_the_resolved_outcomes_say(
    in_scope: list[SyncRule], attributes: dict[str, Values], creating: bool
) -> None:
    mv = MVObject("mv1", "person", attributes)
    linked = None if creating else CSObject("cs1", "cloud", "c1", "", "user", {}, mv_id="mv1")
    provisioning = SyncRule("p", Direction.OUTBOUND, "cloud", "person", "user",
                            LinkType.PROVISION, 100)  # fmt: skip
    everything = [*in_scope, provisioning]
    state = target_state(mv, linked, everything, MULTI, PARAMETERS)
    assert state.action is (TargetAction.PROVISION if creating else TargetAction.FLOW)

    resolved, errors = expected(everything, attributes, creating=creating)
    wanted = {name: item.values for name, item in resolved.items() if not item.keep}
    lineage = {name: item.rule for name, item in resolved.items() if item.rule and not item.keep}
    dn = wanted.pop(DN_ATTRIBUTE, ())
    assert state.attributes == wanted  # empty values: clear the target's attribute
    assert state.lineage == lineage
    assert state.dn == (str(dn[0]) if dn else None)
    assert state.errors == errors


def inbound(name: str, precedence: int, *flows: AttributeFlow) -> SyncRule:
    return SyncRule(name, Direction.INBOUND, "ad", "user", "person", LinkType.JOIN, precedence,
                    flows=flows)  # fmt: skip


KINDS = ['"x"', "NULL", "IgnoreThisFlow", "AuthoritativeNull", 'Error("bad value")']


@pytest.mark.parametrize(("first", "second", "third"), list(itertools.product(KINDS, KINDS, KINDS)))
def test_every_mix_of_update_flows_into_one_target_resolves_as_resolve_does(
    first: str, second: str, third: str
) -> None:
    def flow(text: str, merge: MergeType = MergeType.UPDATE) -> AttributeFlow:
        return AttributeFlow("a", FlowType.EXPRESSION, expression=COMPILED[text], merge_type=merge)

    in_scope = [
        inbound("late", 30, flow(third, MergeType.REPLACE)),
        inbound("early", 10, flow(first), AttributeFlow("b", FlowType.CONSTANT, constant="k")),
        inbound("middle", 20, flow(second)),
    ]
    resolved, errors = expected(in_scope, {}, creating=False)
    assert FlowPlan(tuple(in_scope), creating=False).outcome({}, MULTI, {}) == FlowOutcome.of(
        resolved, errors
    )


def test_targets_fed_by_several_interleaved_flows_keep_their_order() -> None:
    # "a" is decided after the last of its flows, "b" after its only one: put back in order
    first = inbound("r1", 20, AttributeFlow("a", FlowType.DIRECT, ("s1",)),
                    AttributeFlow("b", FlowType.CONSTANT, constant="k"))  # fmt: skip
    ignore = COMPILED["IgnoreThisFlow"]
    second = inbound("r2", 10, AttributeFlow("a", FlowType.CONSTANT, constant="early"),
                     AttributeFlow("c", FlowType.EXPRESSION, expression=ignore))  # fmt: skip
    outcome = FlowPlan((first, second), creating=False).outcome({"s1": ("x",)}, MULTI, {})
    assert list(outcome.values.items()) == [("a", ("early",)), ("b", ("k",))]
    assert list(outcome.lineage.items()) == [("a", "r2"), ("b", "r1")]
    assert outcome.kept == ["c"]


def test_names_are_data_never_source_text() -> None:
    odd = COMPILED["[q\"'\\n}]"]
    rule = inbound(RULE_NAMES[4], 10, AttributeFlow(TARGETS[3], FlowType.DIRECT, (ODD,)),
                   AttributeFlow(ODD, FlowType.EXPRESSION, expression=odd))  # fmt: skip
    plan = FlowPlan((rule,), creating=False)
    for name in (RULE_NAMES[4], TARGETS[3], ODD, '[q"'):
        assert name not in plan.source
    outcome = plan.outcome({ODD: ("v",)}, MULTI, {})
    assert outcome.values == {TARGETS[3]: ("v",), ODD: ("v",)}
    assert outcome.lineage == {TARGETS[3]: RULE_NAMES[4], ODD: RULE_NAMES[4]}


def test_a_failing_flow_reports_its_rule_and_target_and_counts_as_absent() -> None:
    failing = AttributeFlow("a", FlowType.EXPRESSION, expression=COMPILED["CNum([s1])"])
    rule = inbound("r1", 10, failing, AttributeFlow("b", FlowType.DIRECT, ("s1",)))
    outcome = FlowPlan((rule,), creating=False).outcome({"s1": ("x",)}, MULTI, {})
    assert outcome.values == {"b": ("x",)}
    assert [(error.rule, error.attribute) for error in outcome.errors] == [("r1", "a")]
    assert outcome.kept == []


def test_plans_are_reused_for_the_same_rules_and_told_apart_by_creating() -> None:
    rule = SyncRule("r", Direction.INBOUND, "ad", "user", "person", LinkType.JOIN, 1)
    other = SyncRule("o", Direction.INBOUND, "ad", "user", "person", LinkType.JOIN, 2)
    rules = CompiledRules((rule, other))
    assert rules.plan((rule,), creating=False) is rules.plan([rule], creating=False)
    assert rules.plan((rule,), creating=True) is not rules.plan((rule,), creating=False)
    assert rules.plan((rule,), creating=False) is not rules.plan((rule, other), creating=False)
    assert CompiledRules((rule,)).plan((rule,), creating=False) is not rules.plan(
        (rule,), creating=False
    )  # kept by the compiled rules that made them, never shared through a global
