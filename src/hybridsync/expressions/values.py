"""Values the expression language works on that Python has no type for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference attribute value: the distinguished name of another object."""

    dn: str

    def __str__(self) -> str:
        return self.dn


class MultiValue(tuple[object, ...]):
    """The values of a multi-valued result, in order; never empty and never holding Null."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"MultiValue({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Sentinel:
    """A flow instruction returned by an expression instead of a value."""

    name: str

    def __str__(self) -> str:
        return self.name


IGNORE_THIS_FLOW = Sentinel("IgnoreThisFlow")
"""The rule contributes nothing for this attribute: a lower-precedence rule may."""

AUTHORITATIVE_NULL = Sentinel("AuthoritativeNull")
"""The attribute is set to no value, and lower-precedence rules cannot contribute one."""


@dataclass(frozen=True, slots=True)
class EnumConstant:
    """A bare enum identifier such as ``vbTextCompare`` or ``UTF8``."""

    name: str

    def __str__(self) -> str:
        return self.name


ENUM_NAMES = frozenset(
    {
        "vbTextCompare",
        "vbBinaryCompare",
        "CaseInsensitive",
        "CaseSensitive",
        "Unicode",
        "ASCII",
        "UTF8",
        "DC",
    }
)
"""Every bare identifier the language knows as an enum value."""
