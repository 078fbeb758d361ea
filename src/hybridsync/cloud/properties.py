"""The checks every resource applies alike to the properties of a write body.

Which names a resource declares and what each must hold stay with the resource
(``user_rules``, ``group_rules``, ...); how an unknown name, a value of the wrong JSON type or
a missing required value is answered is decided here, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

from hybridsync.cloud.errors import GraphError, read_only, required_missing, unknown_property


def not_writable(name: str, read_only_names: Set[str]) -> GraphError:
    """The answer to writing ``name``: read-only when the resource has it, else unknown."""
    if name in read_only_names:
        return read_only(name)
    return unknown_property(name, extensions=True)


def matches_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    """Whether a (non-null) JSON value has the declared type; a boolean is never a string."""
    return isinstance(value, expected) and not (expected is str and isinstance(value, bool))


def check_required(body: Mapping[str, Any], names: Iterable[str]) -> None:
    """400 for the first of ``names`` that is missing, null or empty."""
    for name in names:
        value = body.get(name)
        if value is None or value == "":
            raise required_missing(name)
