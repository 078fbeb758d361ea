"""``compile_expression``: text to :class:`CompiledExpression`, checked once."""

from __future__ import annotations

import warnings
from functools import lru_cache

from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import nodes
from hybridsync.expressions.checker import find_problems
from hybridsync.expressions.codegen import generate, runtime_namespace
from hybridsync.expressions.compiled import FILENAME, CompiledExpression, runtime_support
from hybridsync.expressions.parser import parse, syntax_error

_NAMESPACE = {**runtime_namespace(), **runtime_support()}


def check_expression(text: str) -> list[ExpressionSyntaxError]:
    """Every problem that keeps ``text`` from compiling (empty when it compiles)."""
    try:
        root = parse(text)
    except ExpressionSyntaxError as error:
        return [error]
    return find_problems(root, text)


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> CompiledExpression:
    """Parse, check and compile ``text``.

    Raises:
        ExpressionSyntaxError: the first problem, with line, column and a caret excerpt.
    """
    root = parse(text)
    problems = find_problems(root, text)
    if problems:
        raise problems[0]
    source, sites, constants = generate(root)
    namespace = {**_NAMESPACE, **constants, "_sites": sites}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            exec(compile(source, FILENAME, "exec"), namespace)
    except (SyntaxError, RecursionError, MemoryError) as error:
        raise syntax_error(
            text, f"the expression is too complex to compile ({error})", 1, 1
        ) from None
    return CompiledExpression(
        text,
        namespace["evaluate"],  # type: ignore[arg-type]
        source,
        _names(root, (nodes.Attribute,)) | _quoted_names(root),
        _names(root, (nodes.Parameter,)),
    )


def _names(root: nodes.Node, kinds: tuple[type[nodes.Node], ...]) -> frozenset[str]:
    return frozenset(
        node.name
        for node in nodes.walk(root)
        if isinstance(node, nodes.Attribute | nodes.Parameter) and isinstance(node, kinds)
    )


def _quoted_names(root: nodes.Node) -> frozenset[str]:
    return frozenset(
        str(getattr(node.arguments[0], "value", ""))
        for node in nodes.walk(root)
        if isinstance(node, nodes.Call)
        and node.function in ("ImportedValue", "ValueCount")
        and node.arguments
        and isinstance(node.arguments[0], nodes.Literal)
    )
