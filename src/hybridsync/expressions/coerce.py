"""Conversions between the language's value kinds, shared by operators and functions.

Values: ``None`` is Null; ``str``, ``int``, ``bool``, ``bytes``, ``datetime`` and
:class:`Reference` are single values; a ``list`` or ``tuple`` (so a :class:`MultiValue`
too) holds the values of a multi-valued attribute.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NoReturn

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions.datetimes import as_utc, iso, parse_datetime
from hybridsync.expressions.values import EnumConstant, MultiValue, Reference, Sentinel

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def fail(message: str) -> NoReturn:
    """Raise the evaluation error for one object (the caller adds the position)."""
    raise ExpressionEvalError(message)


def kind(value: object) -> str:
    """The language's name for the kind of ``value``, for error messages."""
    if value is None:
        return "Null"
    if isinstance(value, list | tuple):
        return "a multi-valued value"
    if isinstance(value, bool):
        return "a boolean"
    names = {
        str: "a string",
        int: "a number",
        bytes: "a binary value",
        Reference: "a reference",
        datetime: "a date",
    }
    for python_type, name in names.items():
        if isinstance(value, python_type):
            return name
    if isinstance(value, Sentinel | EnumConstant):
        return value.name
    return f"an unsupported value ({type(value).__name__})"


def is_multi(value: object) -> bool:
    return isinstance(value, list | tuple)


def values_of(value: object) -> tuple[object, ...]:
    """The values of ``value``: none for Null, one for a single value, all for multi."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(item for item in value if item is not None)
    return (value,)


def multi(items: Iterable[object]) -> MultiValue | None:
    """A multi-valued result: Nulls dropped, nested multi-values flattened; Null if empty."""
    flat: list[object] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, list | tuple):
            flat.extend(value for value in item if value is not None)
        else:
            flat.append(item)
    return MultiValue(flat) if flat else None


def single(value: object, role: str) -> object:
    """``value`` when it is not multi-valued (a one-value multi counts as that value)."""
    if isinstance(value, list | tuple):
        present = values_of(value)
        if len(present) == 1:
            return present[0]
        if not present:
            return None
        fail(f"{role} must be a single value, not {len(present)} values")
    return value


def to_text(value: object, role: str = "the value") -> str:
    """``value`` as a string (what CStr gives); fails for binary and flow values."""
    value = single(value, role)
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Reference):
        return value.dn
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, EnumConstant):
        return value.name
    fail(f"{role} must be a string, not {kind(value)}")


def to_number(value: object, role: str = "the value") -> int:
    """``value`` as a 64-bit integer; a string must hold a decimal integer."""
    value = single(value, role)
    if isinstance(value, int) and not isinstance(value, bool):
        return check_int64(value)
    if isinstance(value, str) and (number := _integer(value)) is not None:
        return check_int64(number)
    if isinstance(value, str):
        fail(f"{role} must be a number, not the string {value!r}")
    fail(f"{role} must be a number, not {kind(value)}")


def _integer(text: str) -> int | None:
    """The decimal integer ``text`` holds, if any. ``int()`` rejects a few characters
    the pattern's whitespace allows (U+001C to U+001F), hence both tests."""
    if not _INTEGER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:
        return None


def check_int64(number: int) -> int:
    if not INT64_MIN <= number <= INT64_MAX:
        fail(f"number out of the 64-bit range: {number}")
    return number


def to_bool(value: object, role: str = "the condition") -> bool:
    """``value`` as a boolean: numbers are true when not 0; "True"/"False" strings.

    Null is False.
    """
    value = single(value, role)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if (number := _integer(value)) is not None:
            return number != 0
        fail(f"{role} must be a boolean, not the string {value!r}")
    fail(f"{role} must be a boolean, not {kind(value)}")


def to_datetime(value: object, role: str = "the date") -> datetime:
    """``value`` as a UTC datetime; strings are read as CDate reads them."""
    value = single(value, role)
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError as error:
            fail(f"{role}: {error}")
    fail(f"{role} must be a date, not {kind(value)}")


def to_bytes(value: object, role: str = "the binary value") -> bytes:
    """``value`` as bytes; a string must be base64."""
    value = single(value, role)
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            fail(f"{role} must be binary or base64 text, not {value[:40]!r}")
    fail(f"{role} must be binary, not {kind(value)}")


def to_enum(value: object, allowed: Iterable[str], role: str) -> str:
    """The name of an enum argument, given as a bare identifier or a string."""
    value = single(value, role)
    if isinstance(value, EnumConstant | str):
        name = value.name if isinstance(value, EnumConstant) else value
        for candidate in allowed:
            if candidate.lower() == name.lower():
                return candidate
        fail(f"{role} must be one of {', '.join(allowed)}, not {name!r}")
    fail(f"{role} must be one of {', '.join(allowed)}, not {kind(value)}")


def per_value(function: Callable[..., object], value: object, *args: object) -> object:
    """Apply a single-value string function to ``value``.

    Null gives Null; a multi-valued input gives the multi-valued result of applying the
    function to every value; other values are converted to a string first.
    """
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return multi(function(to_text(item), *args) for item in values_of(value))
    return function(to_text(value), *args)
