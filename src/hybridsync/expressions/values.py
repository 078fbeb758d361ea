"""Values the expression language works on that Python has no type for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference attribute value: the distinguished name of another object."""

    dn: str

    def __str__(self) -> str:
        return self.dn
