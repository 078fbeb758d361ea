"""``compile_expression``: text to :class:`CompiledExpression`, checked once."""

from __future__ import annotations

from functools import lru_cache

from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import nodes
from hybridsync.expressions.checker import find_problems
from hybridsync.expressions.codegen import generate, runtime_namespace
from hybridsync.expressions.compiled import KIND, CompiledExpression, runtime_support
from hybridsync.expressions.generated import GeneratedCodeError, define
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
    runtime = {**_NAMESPACE, "_sites": sites}
    try:
        evaluate = define(source, "evaluate", kind=KIND, runtime=runtime, constants=constants)
    except GeneratedCodeError as error:
        raise syntax_error(
            text, f"the expression is too complex to compile ({error.reason})", 1, 1
        ) from None
    return CompiledExpression(
        text,
        evaluate,
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
