"""Scoping filters: groups ORed, clauses ANDed; every operator of the spec.

Choices the documentation leaves open (written down in docs/rules.md):
- string comparisons ignore case; booleans read as ``True``/``False``;
- ``EQUAL``/``NOTEQUAL`` compare a single value: a multi-valued attribute with several
  values is not EQUAL to anything (use ``ISIN``); ``NOTEQUAL`` is the negation of
  ``EQUAL``, so an absent attribute is NOTEQUAL to every value;
- ``LESSTHAN`` and friends mean ``attribute < value``; numerically when both are
  integers, else as case-insensitive text;
- every ``NOT...`` operator is the negation of its positive form, so an absent
  attribute satisfies it.

This module is the reference statement of those semantics, one clause at a time. A sync
runs the compiled form from :mod:`hybridsync.core.scopegen` (one generated function per
list of rules), which tests compare with this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from hybridsync.core.rules import ScopeClause, ScopeGroup, ScopeOperator
from hybridsync.core.values import AttributeValue, Values

MemberOf = Callable[[str], bool]
"""Answers "is the object a member of the group with this DN?"."""

NEGATIONS = {
    ScopeOperator.NOTEQUAL: ScopeOperator.EQUAL,
    ScopeOperator.NOTCONTAINS: ScopeOperator.CONTAINS,
    ScopeOperator.NOTSTARTSWITH: ScopeOperator.STARTSWITH,
    ScopeOperator.NOTENDSWITH: ScopeOperator.ENDSWITH,
    ScopeOperator.ISNOTNULL: ScopeOperator.ISNULL,
    ScopeOperator.ISNOTIN: ScopeOperator.ISIN,
    ScopeOperator.ISNOTBITSET: ScopeOperator.ISBITSET,
    ScopeOperator.ISNOTMEMBEROF: ScopeOperator.ISMEMBEROF,
}
"""Each ``NOT...`` operator and the positive operator it negates."""


def in_scope(
    groups: tuple[ScopeGroup, ...],
    attributes: Mapping[str, Values],
    member_of: MemberOf | None = None,
) -> bool:
    """Whether an object with ``attributes`` is in scope; no groups means every object."""
    if not groups:
        return True
    return any(
        all(clause_holds(clause, attributes, member_of) for clause in group.clauses)
        for group in groups
    )


def clause_holds(
    clause: ScopeClause, attributes: Mapping[str, Values], member_of: MemberOf | None = None
) -> bool:
    positive = NEGATIONS.get(clause.operator)
    if positive is not None:
        return not positive_holds(positive, clause, attributes, member_of)
    return positive_holds(clause.operator, clause, attributes, member_of)


def positive_holds(
    operator: ScopeOperator,
    clause: ScopeClause,
    attributes: Mapping[str, Values],
    member_of: MemberOf | None,
) -> bool:
    """Whether ``operator`` (a positive one) holds for the clause's attribute and value."""
    values = attributes.get(clause.attribute, ())
    if operator is ScopeOperator.ISNULL:
        return not values
    if operator is ScopeOperator.ISMEMBEROF:
        return member_of is not None and member_of(clause.value)
    if operator is ScopeOperator.ISIN:
        return any(_text(value).lower() == clause.value.lower() for value in values)
    if operator is ScopeOperator.EQUAL:
        return len(values) == 1 and _text(values[0]).lower() == clause.value.lower()
    if not values:
        return False
    return _single_value_test(operator, values[0], clause.value)


def _single_value_test(operator: ScopeOperator, value: AttributeValue, wanted: str) -> bool:
    if operator is ScopeOperator.ISBITSET:
        number, mask = integer_value(value), integer_value(wanted)
        return number is not None and mask is not None and number & mask == mask
    text, wanted_text = _text(value).lower(), wanted.lower()
    if operator is ScopeOperator.CONTAINS:
        return wanted_text in text
    if operator is ScopeOperator.STARTSWITH:
        return text.startswith(wanted_text)
    if operator is ScopeOperator.ENDSWITH:
        return text.endswith(wanted_text)
    return _ordered(operator, value, wanted)


def _ordered(operator: ScopeOperator, value: AttributeValue, wanted: str) -> bool:
    left_number, right_number = integer_value(value), integer_value(wanted)
    left: int | str
    right: int | str
    if left_number is not None and right_number is not None:
        left, right = left_number, right_number
    else:
        left, right = _text(value).lower(), wanted.lower()
    if operator is ScopeOperator.LESSTHAN:
        return left < right  # type: ignore[operator]
    if operator is ScopeOperator.LESSTHAN_OR_EQUAL:
        return left <= right  # type: ignore[operator]
    if operator is ScopeOperator.GREATERTHAN:
        return left > right  # type: ignore[operator]
    if operator is ScopeOperator.GREATERTHAN_OR_EQUAL:
        return left >= right  # type: ignore[operator]
    raise ValueError(f"not a comparison operator: {operator.value}")


def integer_value(value: AttributeValue | str) -> int | None:
    """The value as an integer (booleans as 0/1, text in decimal or ``0x`` hex), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 0) if value.strip().lower().startswith("0x") else int(value)
        except ValueError:
            return None
    return None


def _text(value: AttributeValue) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
