"""Attribute values as a person reads them (not as Python prints them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NONE = "(none)"


def value_text(value: Any) -> str:
    """``true``/``false`` for a boolean (as in the directory's JSON), else the value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def values_text(values: Sequence[Any]) -> str:
    """The values joined by commas, ``(none)`` when there is none."""
    return ", ".join(map(value_text, values)) or NONE


def object_label(display_name: str | None, upn: str | None, dn: str) -> str:
    """``Michael Sullivan <msullivan@partners.contoso.com>``; the DN when it has no name."""
    if display_name and upn:
        return f"{display_name} <{upn}>"
    return display_name or upn or dn


__all__ = ["NONE", "object_label", "value_text", "values_text"]
