"""A compiled expression: evaluate it many times, against one object's values each time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions.codegen import Site
from hybridsync.expressions.coerce import multi
from hybridsync.expressions.generated import filename
from hybridsync.expressions.values import EnumConstant

KIND = "expression"
FILENAME = filename(KIND)
INTERNAL = "internal error while evaluating"
"""The start of the message of an unexpected failure: a bug to report, never data's fault."""
_NO_PARAMETERS: Mapping[str, str] = MappingProxyType({})

Evaluate = Callable[..., object]


class CompiledExpression:
    """One expression, checked and compiled to a Python function.

    ``evaluate(attributes, parameters=None, imported=None)`` gives the value of the
    expression for one object:

    - ``attributes``: the object's attributes; a missing name or None is Null, a list or
      tuple is a multi-valued attribute.
    - ``parameters``: values of ``%Name%`` parameters.
    - ``imported``: the values confirmed by import, for ``ImportedValue``; when None,
      ``attributes`` stands in for them.

    It returns None for Null, a single value, a :class:`MultiValue`, or one of the
    sentinels ``IGNORE_THIS_FLOW`` and ``AUTHORITATIVE_NULL``. It raises
    ``ExpressionUserError`` when the expression calls ``Error("...")`` and
    ``ExpressionEvalError`` (with ``line``, ``column`` and ``function``) when evaluation
    fails; nothing else.

    ``evaluate`` is the generated function itself, not a method wrapping it: one call
    less per object.

    Attributes:
        text: the expression as written.
        referenced_attributes: names in ``[...]``, ``ImportedValue("...")`` and
            ``ValueCount("...")``.
        referenced_parameters: names in ``%...%``.
        source: the generated Python, for the curious and for debugging.
    """

    __slots__ = ("evaluate", "referenced_attributes", "referenced_parameters", "source", "text")

    evaluate: Evaluate

    def __init__(
        self,
        text: str,
        evaluate: Evaluate,
        source: str,
        attributes: frozenset[str],
        parameters: frozenset[str],
    ):
        self.text = text
        self.source = source
        self.referenced_attributes = attributes
        self.referenced_parameters = parameters
        self.evaluate = evaluate

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r})"


def result(value: object) -> object:
    """The public form of a result that is not a plain string."""
    if isinstance(value, list | tuple):
        return multi(value)
    if isinstance(value, EnumConstant):
        return value.name
    return value


def locate(error: ExpressionEvalError, sites: Mapping[int, Site]) -> ExpressionEvalError:
    """``error`` with the position of the generated line that was running."""
    if error.line is not None:
        return error
    site = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == FILENAME:
            site = sites.get(trace.tb_lineno, site)
        trace = trace.tb_next
    if site is None:
        return error
    return type(error)(error.message, line=site.line, column=site.column, function=site.function)


def internal(error: Exception, sites: Mapping[int, Site]) -> ExpressionEvalError:
    """An unexpected failure as an evaluation error: a bug, never the data's fault."""
    failure = ExpressionEvalError(f"{INTERNAL} ({type(error).__name__}: {error})")
    failure.__traceback__ = error.__traceback__
    return locate(failure, sites)


def runtime_support() -> dict[str, object]:
    """The globals the generated prologue and epilogue use."""
    return {
        "_NO_PARAMETERS": _NO_PARAMETERS,
        "_EvalError": ExpressionEvalError,
        "_locate": locate,
        "_internal": internal,
        "_result": result,
    }
