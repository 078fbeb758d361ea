"""The sync-rule expression language of Entra Connect declarative provisioning.

Compile once, evaluate per object::

    >>> from hybridsync.expressions import compile_expression
    >>> compiled = compile_expression('IIF(IsPresent([mail]), LCase([mail]), "none")')
    >>> compiled.evaluate({"mail": "J.Doe@Contoso.com"})
    'j.doe@contoso.com'
"""

from __future__ import annotations

import importlib
import typing

from hybridsync.expressions.values import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    MultiValue,
    Reference,
    Sentinel,
)

if typing.TYPE_CHECKING:
    from hybridsync.expressions.compiled import CompiledExpression
    from hybridsync.expressions.compiler import check_expression, compile_expression

_HOMES = {
    "CompiledExpression": "compiled",
    "check_expression": "compiler",
    "compile_expression": "compiler",
}
"""Names imported on first use: the values (which the core's objects use) must not load
the parser and its grammar, a good part of a second that reading the store never needs."""


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "AUTHORITATIVE_NULL",
    "IGNORE_THIS_FLOW",
    "CompiledExpression",
    "MultiValue",
    "Reference",
    "Sentinel",
    "check_expression",
    "compile_expression",
]
