"""Scoping filters compiled: one generated Python function per list of rules.

:mod:`hybridsync.core.scope` states the semantics one clause at a time, dispatching on
the operator and converting every value to text for every clause of every rule. A sync
asks the same few rule lists about every object, so each list is compiled once into a
function ``(object_type, attributes, member_of) -> rules in scope``: ``applies_to``
becomes one string comparison, groups and clauses become ``or``/``and`` of inline
tests, and the operator is decided when generating, not when running.

Each clause's test has a fast path for its common input, a single ``str`` value (an
``int`` for ``ISBITSET`` and numeric orderings); any other input (bytes, booleans,
references, several values) is answered by the reference,
:func:`~hybridsync.core.scope.positive_holds`, so the outcome is always the reference's
(``tests/unit/core/test_scopegen.py`` compares them on random filters and objects).

The generated source holds only names this module makes up (``_k0``, ``_v0``...) and
operator symbols from a fixed table: attribute names, clause values and rules reach the
function through its namespace, never through its text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from typing import cast

from hybridsync.core.rules import ScopeClause, ScopeGroup, ScopeOperator, SyncRule
from hybridsync.core.scope import NEGATIONS, MemberOf, integer_value, positive_holds
from hybridsync.core.values import Values
from hybridsync.expressions.generated import Constants, define

ScopeFilter = Callable[[Mapping[str, Values], MemberOf | None], bool]
"""One rule's scope, compiled: whether an object (attributes, membership) is in scope."""
RuleSelector = Callable[[str, Mapping[str, Values], MemberOf | None], tuple[SyncRule, ...]]
"""A rule list, compiled: the rules that apply to an object type and have the object
in scope, in list order."""

KIND = "scope filter"
_ORDERINGS = {
    ScopeOperator.LESSTHAN: "<",
    ScopeOperator.LESSTHAN_OR_EQUAL: "<=",
    ScopeOperator.GREATERTHAN: ">",
    ScopeOperator.GREATERTHAN_OR_EQUAL: ">=",
}
_TEXT_TESTS = {
    ScopeOperator.EQUAL: "{x}.lower() == {w}",
    ScopeOperator.ISIN: "{x}.lower() == {w}",
    ScopeOperator.CONTAINS: "{w} in {x}.lower()",
    ScopeOperator.STARTSWITH: "{x}.lower().startswith({w})",
    ScopeOperator.ENDSWITH: "{x}.lower().endswith({w})",
}
"""Fast tests of a single ``str`` value ``{x}`` against the lowered clause value ``{w}``."""


class _Source:
    """The constants and the clause tests of one generated function."""

    def __init__(self) -> None:
        self.constants = Constants()
        self.clauses = 0

    def constant(self, value: object) -> str:
        """A name in the generated function's namespace standing for ``value``."""
        return self.constants.name(value)

    def scope(self, groups: tuple[ScopeGroup, ...]) -> str:
        """An expression, true when the object is in scope: groups ORed, clauses ANDed."""
        if not groups:
            return "True"
        return "(" + " or ".join(self._group(group) for group in groups) + ")"

    def _group(self, group: ScopeGroup) -> str:
        if not group.clauses:
            return "True"
        return "(" + " and ".join(self._clause(clause) for clause in group.clauses) + ")"

    def _clause(self, clause: ScopeClause) -> str:
        positive = NEGATIONS.get(clause.operator)
        if positive is not None:
            return f"(not {self._positive(positive, clause)})"
        return self._positive(clause.operator, clause)

    def _positive(self, operator: ScopeOperator, clause: ScopeClause) -> str:
        """An expression, true when ``operator`` (a positive one) holds for the clause."""
        if operator is ScopeOperator.ISMEMBEROF:
            return f"(_M is not None and _M({self.constant(clause.value)}))"
        a = self.constant(clause.attribute)
        if operator is ScopeOperator.ISNULL:
            return f"(not _A.get({a}, ()))"
        number = self.clauses
        self.clauses += 1
        v, x = f"_v{number}", f"_x{number}"
        fast = self._first_value_test(operator, clause, x)
        if fast is None:
            return "False"
        test, kind = fast
        reference = partial(positive_holds, operator, clause)
        fallback = f"{self.constant(reference)}(_A, _M)"
        # A boolean reads as fixed text or number: its answer is known now (from the reference).
        when_true, when_false = (
            bool(reference({clause.attribute: (b,)}, None)) for b in (True, False)
        )
        first = (
            f"{test} if type({x} := {v}[0]) is {kind} else {when_true} if {x} is True"
            f" else {when_false} if {x} is False else {fallback}"
        )
        read = f"({v} := _A.get({a}, ()))"
        if operator is ScopeOperator.EQUAL:  # exactly one value
            return f"(len{read} == 1 and ({first}))"
        if operator is ScopeOperator.ISIN:  # any of the values
            return f"(bool{read} and (({first}) if len({v}) == 1 else {fallback}))"
        return f"(bool{read} and ({first}))"  # the first value

    def _first_value_test(
        self, operator: ScopeOperator, clause: ScopeClause, x: str
    ) -> tuple[str, str] | None:
        """A test of the first value ``x`` when its type is the one named beside it (``str``
        or ``int``); None when the clause never holds (ISBITSET without an integer mask)."""
        if operator in _TEXT_TESTS:
            return _TEXT_TESTS[operator].format(x=x, w=self.constant(clause.value.lower())), "str"
        wanted = integer_value(clause.value)
        if operator is ScopeOperator.ISBITSET:
            if wanted is None:
                return None
            mask = self.constant(wanted)
            return f"{x} & {mask} == {mask}", "int"
        symbol = _ORDERINGS[operator]
        if wanted is None:  # a text ordering, whatever the value
            return f"{x}.lower() {symbol} {self.constant(clause.value.lower())}", "str"
        return f"{x} {symbol} {self.constant(wanted)}", "int"  # numeric for an integer value


def _build(source: _Source, lines: list[str], name: str) -> object:
    """The function ``name`` defined by ``lines`` (made-up names only, see above)."""
    text = "\n".join(lines) + "\n"
    return define(text, name, kind=KIND, runtime={}, constants=source.constants)


@lru_cache(maxsize=512)
def compile_scope(groups: tuple[ScopeGroup, ...]) -> ScopeFilter:
    """One rule's scope as a function; the same answers as ``in_scope(groups, ...)``."""
    source = _Source()
    expression = source.scope(groups)
    lines = ["def in_scope(_A, _M=None):", f"    return bool({expression})"]
    return cast(ScopeFilter, _build(source, lines, "in_scope"))


def compile_rules(rules: Sequence[SyncRule]) -> RuleSelector:
    """The rules that apply to an object type and have an object in scope, as a function.

    The same answers as ``tuple(rule for rule in rules if rule.applies_to(object_type)
    and in_scope(rule.scope, attributes, member_of))``.
    """
    source = _Source()
    body: list[str] = []
    for rule in rules:
        tests = [source.scope(rule.scope)]
        if rule.source_object_type != "*":
            tests.insert(0, f"_T == {source.constant(rule.source_object_type.lower())}")
        body += [
            f"    if {' and '.join(tests)}:",
            f"        _found.append({source.constant(rule)})",
        ]
    lines = [
        "def select(object_type, _A, _M=None):",
        "    _T = object_type.lower()",
        "    _found = []",
        *body,
        "    return tuple(_found)",
    ]
    return cast(RuleSelector, _build(source, lines, "select"))
