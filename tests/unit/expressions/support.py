"""Helpers shared by the expression tests."""

from __future__ import annotations

from hybridsync.expressions import compile_expression


def evaluate(text: str, attributes: dict[str, object] | None = None, **named: object) -> object:
    """Compile ``text`` and evaluate it against ``attributes`` and ``named`` values."""
    return compile_expression(text).evaluate({**(attributes or {}), **named})
