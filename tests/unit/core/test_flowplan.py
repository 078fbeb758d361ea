"""A flow plan gives exactly what contributions + resolve give, for any rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hybridsync.core.flowplan import plan_for
from hybridsync.core.flows import contributions, resolve
from hybridsync.core.rules import (
    AttributeFlow,
    Direction,
    FlowType,
    LinkType,
    MergeType,
    SyncRule,
)
from hybridsync.expressions import compile_expression

EXPRESSIONS = [
    '"x"', "IgnoreThisFlow", "AuthoritativeNull", "NULL", 'Error("bad value")', "[s1]",
    'IIF(IsPresent([s2]), [s2], NULL)', 'IIF(IsPresent([s1]), "Guest", "member")', "[multi]",
]  # fmt: skip
COMPILED = {text: compile_expression(text) for text in EXPRESSIONS}


@st.composite
def flows(draw: st.DrawFn) -> AttributeFlow:
    kind = draw(st.sampled_from(list(FlowType)))
    common = {
        "target": draw(st.sampled_from(["a", "b", "c"])),
        "merge_type": draw(st.sampled_from(list(MergeType))),
        "apply_once": draw(st.booleans()),
        "allowed_values": draw(st.sampled_from([(), ("Member", "Guest")])),
    }
    if kind is FlowType.DIRECT:
        sources = draw(st.sampled_from([("s1",), ("s2",), ("multi",), ("missing",), ()]))
        return AttributeFlow(flow_type=kind, sources=sources, **common)
    if kind is FlowType.CONSTANT:
        constant = draw(st.sampled_from(["k", "guest", None]))
        return AttributeFlow(flow_type=kind, constant=constant, **common)
    text = draw(st.sampled_from(EXPRESSIONS))
    return AttributeFlow(flow_type=kind, expression=COMPILED[text], expression_text=text, **common)


@st.composite
def rules(draw: st.DrawFn) -> SyncRule:
    return SyncRule(
        draw(st.sampled_from(["r1", "r2", "r3", "r4"])),
        Direction.INBOUND,
        "ad",
        "user",
        "person",
        draw(st.sampled_from([LinkType.JOIN, LinkType.PROVISION, LinkType.JOIN_NO_FLOW])),
        draw(st.sampled_from([10, 20, 50])),
        flows=tuple(draw(st.lists(flows(), max_size=4))),
    )


ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "s1": st.sampled_from([("Guest",), ("x",), ()]),
        "s2": st.sampled_from([("MEMBER",), (7,)]),
        "multi": st.sampled_from([("p", "P"), ("q",)]),
    },
)


@settings(max_examples=400, deadline=None)
@given(st.lists(rules(), max_size=4), ATTRIBUTES, st.booleans())
def test_a_plan_resolves_as_contributions_and_resolve_do(
    in_scope: list[SyncRule], attributes: dict[str, tuple[object, ...]], creating: bool
) -> None:
    multi, parameters = frozenset({"multi"}), {"Domain.FQDN": "contoso.com"}
    found, errors = [], []
    for rule in in_scope:
        items, failed = contributions(rule, attributes, multi, parameters, creating=creating)  # type: ignore[arg-type]
        found.extend(items)
        errors.extend(failed)
    expected, conflicts = resolve(found)
    plan = plan_for(tuple(in_scope), creating=creating)
    resolved, plan_errors = plan.run(attributes, multi, parameters)  # type: ignore[arg-type]
    assert resolved == expected
    assert plan_errors == errors + conflicts


def test_plans_are_reused_for_the_same_rules_and_told_apart_by_creating() -> None:
    rule = SyncRule("r", Direction.INBOUND, "ad", "user", "person", LinkType.JOIN, 1)
    assert plan_for((rule,), creating=False) is plan_for((rule,), creating=False)
    assert plan_for((rule,), creating=True) is not plan_for((rule,), creating=False)
