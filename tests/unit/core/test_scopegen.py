"""A compiled scoping filter answers exactly as the reference ``in_scope`` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hybridsync.core.compiled import CompiledRules
from hybridsync.core.inbound import rules_in_scope
from hybridsync.core.objects import CSObject
from hybridsync.core.rules import (
    Direction,
    LinkType,
    ScopeClause,
    ScopeGroup,
    ScopeOperator,
    SyncRule,
)
from hybridsync.core.scope import MemberOf, clause_holds, in_scope
from hybridsync.core.scopegen import compile_rules, compile_scope
from hybridsync.core.values import AttributeValue, Reference, Values

NAMES = ["a", "b", "member", 'x") or True or ("']
"""Attribute names; the last one would change the filter if pasted into its source."""
TEXTS = [
    "", "a", "A", "ab", "aB", "AB", "b", "Sales", "SALES", "sa", "LES", "2", "7", "12", "512",
    " 7 ", "-3", "0x1F", "0X10", "1_2", "True", "false", "TRUE", "İ", "i̇", "ß", "SS",
    "'; raise SystemExit; '", "{_A}",
]  # fmt: skip
"""Few texts, so that values and clause values often meet in either case: numbers in
every spelling, booleans' text, letters whose lower case is longer, quotes."""
INTEGERS = [0, 1, 2, 7, 12, 31, 512, 514, -3, 2**40]

texts = st.sampled_from(TEXTS) | st.text(max_size=4)
attribute_values: st.SearchStrategy[AttributeValue] = st.one_of(
    texts,
    st.sampled_from(INTEGERS) | st.integers() | st.booleans() | st.binary(max_size=2),
    st.builds(Reference, texts),
)
values: st.SearchStrategy[Values] = st.lists(attribute_values, max_size=3).map(tuple)
attribute_maps = st.dictionaries(st.sampled_from(NAMES), values, max_size=4)
clauses = st.builds(
    ScopeClause, st.sampled_from(NAMES), st.sampled_from(list(ScopeOperator)), texts
)
groups = st.lists(st.builds(ScopeGroup, st.lists(clauses, max_size=3).map(tuple)), max_size=3).map(
    tuple
)
memberships = st.none() | st.frozensets(texts, max_size=3)


def member_of(groups: frozenset[str] | None) -> MemberOf | None:
    return None if groups is None else groups.__contains__


def outcome(answer: Callable[..., bool], *arguments: Any) -> object:
    """The answer, or the type of exception raised instead (both sides must agree)."""
    try:
        return answer(*arguments)
    except Exception as error:
        return type(error)


@settings(max_examples=1000, deadline=None)
@given(groups, attribute_maps, memberships)
@example((ScopeGroup((ScopeClause("a", ScopeOperator.ISNOTBITSET, "2"),)),), {"a": (514,)}, None)
@example((ScopeGroup((ScopeClause("a", ScopeOperator.EQUAL, "İ"),)),), {"a": ("i̇",)}, None)
@example((ScopeGroup((ScopeClause("a", ScopeOperator.LESSTHAN, "0x1F"),)),), {"a": (30,)}, None)
def test_a_compiled_scope_answers_as_in_scope(
    scope: tuple[ScopeGroup, ...],
    attributes: dict[str, Values],
    membership: frozenset[str] | None,
) -> None:
    lookup = member_of(membership)
    compiled = outcome(compile_scope(scope), attributes, lookup)
    assert compiled == outcome(in_scope, scope, attributes, lookup)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(list(ScopeOperator)), texts, values, memberships)
def test_a_compiled_clause_answers_as_clause_holds(
    operator: ScopeOperator, wanted: str, found: Values, membership: frozenset[str] | None
) -> None:
    clause, lookup = ScopeClause("a", operator, wanted), member_of(membership)
    for attributes in ({"a": found}, {}):
        compiled = outcome(compile_scope((ScopeGroup((clause,)),)), attributes, lookup)
        assert compiled == outcome(clause_holds, clause, attributes, lookup)


def rule(name: str, object_type: str, scope: tuple[ScopeGroup, ...]) -> SyncRule:
    return SyncRule(
        name, Direction.INBOUND, "ad", object_type, "person", LinkType.JOIN, 10, scope=scope
    )


rule_lists = st.lists(
    st.builds(
        rule,
        st.sampled_from(["r1", "r2", "r3"]),
        st.sampled_from(["user", "USER", "*", "group"]),
        groups,
    ),
    max_size=4,
)


@settings(max_examples=500, deadline=None)
@given(rule_lists, st.sampled_from(["user", "User", "group", "contact"]), attribute_maps)
def test_compiled_rules_select_as_applies_to_and_in_scope(
    rules: list[SyncRule], object_type: str, attributes: dict[str, Values]
) -> None:
    expected = tuple(
        r for r in rules if r.applies_to(object_type) and in_scope(r.scope, attributes)
    )
    selected = compile_rules(rules)(object_type, attributes, None)
    assert [id(r) for r in selected] == [id(r) for r in expected]


def test_membership_is_asked_only_while_the_answer_is_open() -> None:
    partners = ScopeClause("", ScopeOperator.ISMEMBEROF, "CN=Partners")
    staff = ScopeClause("", ScopeOperator.ISNOTMEMBEROF, "CN=Staff")
    asked: list[str] = []

    def lookup(dn: str) -> bool:
        asked.append(dn)
        return dn == "CN=Partners"

    scope = (ScopeGroup((partners, staff)), ScopeGroup((staff,)))
    assert compile_scope(scope)({}, lookup)
    assert asked == ["CN=Partners", "CN=Staff"]  # the second group is never looked at
    # Without a membership lookup the object is a member of no group.
    assert not compile_scope(scope[:1])({}, None)
    assert compile_scope(scope[1:])({}, None)


@pytest.mark.parametrize("reference", [False, True])
def test_rules_in_scope_answers_from_compiled_rules_or_a_plain_list(reference: bool) -> None:
    enabled = ScopeGroup((ScopeClause("userAccountControl", ScopeOperator.ISNOTBITSET, "2"),))
    rules = (rule("enabled", "user", (enabled,)), rule("all", "*", ()))
    compiled = CompiledRules(rules, reference=reference)
    cs = CSObject("1", "ad", "a1", "CN=a", "User", {"userAccountControl": (512,)})
    assert rules_in_scope(rules, cs) == rules_in_scope(compiled, cs) == rules
    disabled = CSObject("2", "ad", "a2", "CN=b", "user", {"userAccountControl": (514,)})
    assert rules_in_scope(list(rules), disabled) == rules_in_scope(compiled, disabled)
    assert rules_in_scope(compiled, disabled) == (rules[1],)


@pytest.mark.parametrize("name", NAMES)
def test_names_and_values_never_become_code(name: str) -> None:
    quoted = ScopeClause(name, ScopeOperator.EQUAL, "') or True or ('")
    assert not compile_scope((ScopeGroup((quoted,)),))({name: ("x",)}, None)
    assert compile_scope((ScopeGroup((quoted,)),))({name: ("') OR TRUE OR ('",)}, None)
