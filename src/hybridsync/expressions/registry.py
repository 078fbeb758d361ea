"""The table of every function the language knows, by its case-sensitive name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hybridsync.expressions.functions import (
    certificate,
    conversion,
    dates,
    directory,
    evaluation,
    flow,
    multivalued,
    text,
)
from hybridsync.expressions.signatures import FunctionSpec

_FAMILIES = (text, conversion, dates, directory, evaluation, multivalued, flow, certificate)

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {spec.name: spec for family in _FAMILIES for spec in family.FUNCTIONS}
)


def suggest(name: str) -> str | None:
    """The function whose name differs from ``name`` only in case, if any."""
    lowered = name.lower()
    return next((known for known in FUNCTIONS if known.lower() == lowered), None)
