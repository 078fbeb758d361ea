"""Between stored attribute tuples and the values the expression language works on."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from hybridsync.core.values import AttributeValue, Reference, Values
from hybridsync.expressions import MultiValue
from hybridsync.expressions.datetimes import iso


def expression_input(
    attributes: Mapping[str, Values], multi_valued: Collection[str]
) -> dict[str, Any]:
    """Single-valued attributes as scalars, multi-valued ones as tuples; absent ones left out."""
    converted: dict[str, Any] = {}
    for name, values in attributes.items():
        if not values:
            continue
        converted[name] = values if name in multi_valued or len(values) > 1 else values[0]
    return converted


def as_values(result: Any) -> Values:
    """An expression result (None, scalar or MultiValue) as a stored tuple."""
    if type(result) is str:
        return (result,)  # the usual result, kept as it is
    if result is None:
        return ()
    if isinstance(result, MultiValue):
        return tuple(_scalar(value) for value in result if value is not None)
    if isinstance(result, tuple | list):
        return tuple(_scalar(value) for value in result if value is not None)
    return (_scalar(result),)


def _scalar(value: Any) -> AttributeValue:
    """Stored as it will be compared and sent: a reference stays a reference, a date is
    ISO-8601 in UTC with ``Z`` (``2026-11-22T01:30:00Z``, Graph's DateTimeOffset form),
    whatever zone the expression left it in."""
    if isinstance(value, str | bytes | int | bool | Reference):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


def value_key(value: AttributeValue) -> str:
    """A canonical text for a value, used to compare and to index (join lookups)."""
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, bytes):
        return "x:" + value.hex()
    if isinstance(value, int):
        return f"i:{value}"
    return f"s:{value}"


def same_values(left: Values, right: Values) -> bool:
    """Equal as sets of values (order of multi-valued attributes does not matter)."""
    if len(left) == 1 and len(right) == 1:
        return value_key(left[0]) == value_key(right[0])
    return sorted(map(value_key, left)) == sorted(map(value_key, right))
