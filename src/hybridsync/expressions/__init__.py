"""The sync-rule expression language of Entra Connect declarative provisioning.

Compile once, evaluate per object::

    >>> from hybridsync.expressions import compile_expression
    >>> compiled = compile_expression('IIF(IsPresent([mail]), LCase([mail]), "none")')
    >>> compiled.evaluate({"mail": "J.Doe@Contoso.com"})
    'j.doe@contoso.com'
"""

from __future__ import annotations

import typing

from hybridsync.expressions.values import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    MultiValue,
    Reference,
    Sentinel,
)
from hybridsync.lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _HOMES)


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
