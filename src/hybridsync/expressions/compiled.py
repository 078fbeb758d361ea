"""A compiled expression: evaluate it many times, against one object's values each time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions.codegen import Site
from hybridsync.expressions.coerce import multi
from hybridsync.expressions.values import EnumConstant

FILENAME = "<hybridsync expression>"
_NO_PARAMETERS: Mapping[str, str] = MappingProxyType({})

Runner = Callable[[Mapping[str, object], Mapping[str, str], Mapping[str, object]], object]


class CompiledExpression:
    """One expression, checked and compiled to a Python function.

    Attributes:
        text: the expression as written.
        referenced_attributes: names in ``[...]``, ``ImportedValue("...")`` and
            ``ValueCount("...")``.
        referenced_parameters: names in ``%...%``.
        source: the generated Python, for the curious and for debugging.
    """

    __slots__ = ("_run", "_sites", "referenced_attributes", "referenced_parameters", "source",
                 "text")  # fmt: skip

    def __init__(
        self,
        text: str,
        run: Runner,
        sites: Mapping[int, Site],
        source: str,
        attributes: frozenset[str],
        parameters: frozenset[str],
    ):
        self.text = text
        self.source = source
        self.referenced_attributes = attributes
        self.referenced_parameters = parameters
        self._run = run
        self._sites = sites

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r})"

    def evaluate(
        self,
        attributes: Mapping[str, object],
        parameters: Mapping[str, str] | None = None,
        imported: Mapping[str, object] | None = None,
    ) -> object:
        """The value of the expression for one object.

        Args:
            attributes: the object's attributes; a missing name or None is Null, a list
                or tuple is a multi-valued attribute.
            parameters: values of ``%Name%`` parameters.
            imported: the values confirmed by import, for ``ImportedValue``; when None,
                ``attributes`` stands in for them.

        Returns:
            None for Null, a single value, a :class:`MultiValue`, or one of the sentinels
            ``IGNORE_THIS_FLOW`` and ``AUTHORITATIVE_NULL``.

        Raises:
            ExpressionUserError: the expression called ``Error("...")``.
            ExpressionEvalError: evaluation failed; ``line``, ``column`` and ``function``
                say where.
        """
        try:
            result = self._run(
                attributes,
                _NO_PARAMETERS if parameters is None else parameters,
                attributes if imported is None else imported,
            )
        except ExpressionEvalError as error:
            raise self._locate(error, error.__traceback__) from None
        except Exception as error:  # anything else is a bug or bad input; never let it out
            failure = ExpressionEvalError(f"{type(error).__name__}: {error}")
            raise self._locate(failure, error.__traceback__) from error
        if type(result) is str:
            return result
        if isinstance(result, list | tuple):
            return multi(result)
        if isinstance(result, EnumConstant):
            return result.name
        return result

    def _locate(
        self, error: ExpressionEvalError, trace: TracebackType | None
    ) -> ExpressionEvalError:
        """``error`` with the position of the generated line that was running."""
        if error.line is not None:
            return error
        site = None
        while trace is not None:
            if trace.tb_frame.f_code.co_filename == FILENAME:
                site = self._sites.get(trace.tb_lineno)
            trace = trace.tb_next
        if site is None:
            return error
        return type(error)(
            error.message, line=site.line, column=site.column, function=site.function
        )
