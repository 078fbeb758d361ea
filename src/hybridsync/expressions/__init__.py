"""The sync-rule expression language of Entra Connect declarative provisioning.

Compile once, evaluate per object::

    >>> from hybridsync.expressions import compile_expression
    >>> compiled = compile_expression('IIF(IsPresent([mail]), LCase([mail]), "none")')
    >>> compiled.evaluate({"mail": "J.Doe@Contoso.com"})
    'j.doe@contoso.com'
"""

from __future__ import annotations

from hybridsync.expressions.compiled import CompiledExpression
from hybridsync.expressions.compiler import check_expression, compile_expression
from hybridsync.expressions.values import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    MultiValue,
    Reference,
    Sentinel,
)

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
