"""Attribute values as a person reads them (not as Python prints them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

NONE = "(none)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``): a value comes from a
    directory anyone with write access filled, and must not move the cursor, clear the
    screen or forge a line of the output a reviewer reads."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def value_text(value: Any) -> str:
    """``true``/``false`` for a boolean (as in the directory's JSON), else the value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return printable(str(value))


def values_text(values: Sequence[Any]) -> str:
    """The values joined by commas, ``(none)`` when there is none."""
    return ", ".join(map(value_text, values)) or NONE


def object_label(display_name: str | None, upn: str | None, dn: str) -> str:
    """``Michael Sullivan <msullivan@partners.contoso.com>``; the DN when it has no name."""
    if display_name and upn:
        return printable(f"{display_name} <{upn}>")
    return printable(display_name or upn or dn)


__all__ = ["NONE", "object_label", "printable", "value_text", "values_text"]
