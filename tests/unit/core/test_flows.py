"""Precedence, merge types, and NULL vs AuthoritativeNull vs IgnoreThisFlow."""

from __future__ import annotations

from hybridsync.core.flows import resolve
from hybridsync.core.inbound import LinkedSource, metaverse_values
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.rules import (
    AttributeFlow,
    Direction,
    FlowType,
    LinkType,
    MergeType,
    SyncRule,
)
from hybridsync.expressions import compile_expression


def rule(name: str, precedence: int, *flows: AttributeFlow, connector: str = "ad") -> SyncRule:
    return SyncRule(
        name, Direction.INBOUND, connector, "user", "person", LinkType.JOIN, precedence, flows=flows
    )


def expression(
    target: str, text: str, merge: MergeType = MergeType.UPDATE, once: bool = False
) -> AttributeFlow:
    return AttributeFlow(
        target,
        FlowType.EXPRESSION,
        expression=compile_expression(text),
        expression_text=text,
        merge_type=merge,
        apply_once=once,
    )


def direct(target: str, source: str, merge: MergeType = MergeType.UPDATE) -> AttributeFlow:
    return AttributeFlow(target, FlowType.DIRECT, (source,), merge_type=merge)


def sync(
    rules: list[SyncRule],
    attributes: dict[str, tuple[object, ...]],
    previous: dict | None = None,
    creating: bool = False,
):  # type: ignore[no-untyped-def]
    cs = CSObject("cs1", "ad", "a1", "CN=x", "user", attributes)  # type: ignore[arg-type]
    before = MVObject("mv1", "person", previous or {}) if previous is not None else None
    return metaverse_values(
        before,
        [LinkedSource(cs, tuple(rules), frozenset({"proxyAddresses"}), {})],
        creating=creating,
    )


def test_lowest_precedence_number_wins() -> None:
    values = sync(
        [rule("late", 100, direct("title", "a")), rule("early", 10, direct("title", "b"))],
        {"a": ("from-late",), "b": ("from-early",)},
    )
    assert values.attributes["title"] == ("from-early",)
    assert values.lineage["title"] == "early"


def test_null_lets_a_lower_precedence_rule_contribute() -> None:
    values = sync(
        [rule("high", 10, expression("title", "NULL")), rule("low", 100, direct("title", "a"))],
        {"a": ("x",)},
    )
    assert values.attributes["title"] == ("x",)
    assert values.lineage["title"] == "low"


def test_authoritative_null_empties_and_stops_lower_rules() -> None:
    values = sync(
        [
            rule("high", 10, expression("title", "AuthoritativeNull")),
            rule("low", 100, direct("title", "a")),
        ],
        {"a": ("x",)},
        previous={"title": ("old",)},
    )
    assert "title" not in values.attributes


def test_ignore_this_flow_keeps_the_existing_value() -> None:
    values = sync(
        [rule("only", 10, expression("title", "IgnoreThisFlow"))], {}, previous={"title": ("old",)}
    )
    assert values.attributes["title"] == ("old",)
    lower = sync(
        [
            rule("high", 10, expression("title", "IgnoreThisFlow")),
            rule("low", 100, direct("title", "a")),
        ],
        {"a": ("x",)},
        previous={"title": ("old",)},
    )
    assert lower.attributes["title"] == ("x",)


def test_nobody_contributing_removes_the_attribute() -> None:
    values = sync([rule("only", 10, direct("title", "a"))], {}, previous={"title": ("old",)})
    assert "title" not in values.attributes


def test_merge_unions_values_and_case_insensitive_merge_drops_case_twins() -> None:
    flows = [
        rule("r1", 10, direct("proxyAddresses", "p1", MergeType.MERGE)),
        rule("r2", 20, direct("proxyAddresses", "p2", MergeType.MERGE)),
    ]
    attributes = {"p1": ("SMTP:bob@contoso.com",), "p2": ("smtp:bob@contoso.com", "x500:/o=c")}
    assert sync(flows, attributes).attributes["proxyAddresses"] == (
        "SMTP:bob@contoso.com",
        "smtp:bob@contoso.com",
        "x500:/o=c",
    )
    insensitive = [
        rule("r1", 10, direct("proxyAddresses", "p1", MergeType.MERGE_CASE_INSENSITIVE)),
        rule("r2", 20, direct("proxyAddresses", "p2", MergeType.MERGE_CASE_INSENSITIVE)),
    ]
    assert sync(insensitive, attributes).attributes["proxyAddresses"] == (
        "SMTP:bob@contoso.com",
        "x500:/o=c",
    )


def test_mixing_update_and_merge_is_an_error_on_the_object() -> None:
    values = sync(
        [
            rule("r1", 10, direct("title", "a")),
            rule("r2", 20, direct("title", "a", MergeType.MERGE)),
        ],
        {"a": ("x",)},
    )
    assert [(e.attribute, "different merge types" in e.message) for e in values.errors] == [
        ("title", True)
    ]


def test_replace_behaves_as_update() -> None:
    values = sync(
        [
            rule("r1", 10, direct("title", "a", MergeType.REPLACE)),
            rule("r2", 20, direct("title", "b")),
        ],
        {"a": ("x",), "b": ("y",)},
    )
    assert values.attributes["title"] == ("x",)
    assert not values.errors


def test_apply_once_flows_only_when_the_object_is_created() -> None:
    rules = [rule("r", 10, expression("initialPassword", '"Welcome1"', once=True))]
    assert sync(rules, {}, creating=True).attributes["initialPassword"] == ("Welcome1",)
    assert "initialPassword" not in sync(rules, {}, previous={}, creating=False).attributes


def test_an_expression_error_is_reported_with_rule_and_attribute() -> None:
    values = sync([rule("r", 10, expression("title", 'Error("no title")'))], {})
    assert [(e.rule, e.attribute, e.message) for e in values.errors] == [("r", "title", "no title")]


def test_constant_flow_and_resolve_of_nothing() -> None:
    flow = AttributeFlow("cloudFiltered", FlowType.CONSTANT, constant=True)
    assert sync([rule("r", 10, flow)], {}).attributes["cloudFiltered"] == (True,)
    assert resolve([]) == ({}, [])


def test_equal_precedence_is_decided_by_rule_name() -> None:
    from hybridsync.core.rules import RuleSet

    rules = RuleSet.of(
        [rule("b-rule", 10, direct("title", "b")), rule("a-rule", 10, direct("title", "a"))]
    )
    values = sync(list(rules.rules), {"a": ("from-a",), "b": ("from-b",)})
    assert values.lineage["title"] == "a-rule"


def test_a_join_no_flow_rule_contributes_no_attribute() -> None:
    no_flow = SyncRule(
        "join only", Direction.INBOUND, "ad", "user", "person", LinkType.JOIN_NO_FLOW, 10,
        flows=(direct("title", "a"),),
    )  # fmt: skip
    values = sync([no_flow, rule("low", 100, direct("title", "b"))], {"a": ("x",), "b": ("y",)})
    assert values.attributes["title"] == ("y",)
    assert values.lineage["title"] == "low"
