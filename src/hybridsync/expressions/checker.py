"""Static checks after parsing: names, arity, scope of $variables, obvious type mismatches.

Every problem is collected, so that ``hybridsync expr check`` can report them all.
"""

from __future__ import annotations

from collections.abc import Iterator

from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import nodes
from hybridsync.expressions.coerce import INT64_MAX
from hybridsync.expressions.functions.text import replace_chars_table
from hybridsync.expressions.parser import syntax_error
from hybridsync.expressions.registry import FUNCTIONS, suggest
from hybridsync.expressions.values import ENUM_NAMES

MAX_DEPTH = 64
"""Deeper expressions are refused: no real rule comes close, and the limit keeps the
generated Python within the interpreter's nesting limits."""

SENTINELS = frozenset({"IgnoreThisFlow", "AuthoritativeNull"})
_BINDERS = frozenset({"Select", "Where", "With"})
_NAMED = frozenset({"ImportedValue", "ValueCount"})
_SCALARS = {"str", "num", "bool", "dt", "bin", "ref"}
_ANYTHING = _SCALARS | {"mv", "var", "null", "void", "enum", "sentinel"}
_ACCEPTS: dict[str, set[str]] = {
    "str": {"str", "num", "bool", "ref", "mv", "var", "null", "void"},
    "strbin": {"str", "num", "bool", "ref", "bin", "mv", "var", "null", "void"},
    "num": {"num", "str", "var", "null", "void"},
    "exp": _ANYTHING - {"dt", "bin", "enum", "sentinel"},
    "dt": {"dt", "str", "var", "null", "void", "mv"},
    "bin": {"bin", "str", "var", "null", "void", "mv"},
    "ref": {"ref", "str", "var", "null", "void", "mv"},
    "mv": {"mv", "str", "ref", "bin", "var", "null", "void"},
    "enum": {"enum", "str", "var", "null", "void"},
    "var": _ANYTHING - {"enum"},
    "variable": set(),
    "name": set(),
}
_TYPE_NAMES = {
    "str": "a string", "num": "a number", "bool": "a boolean", "dt": "a date",
    "bin": "binary", "ref": "a reference", "mv": "a multi-valued value",
    "enum": "an enum value", "sentinel": "a flow instruction", "strbin": "a string",
    "exp": "a condition", "void": "nothing", "var": "a value", "null": "Null",
}  # fmt: skip


def static_type(node: nodes.Node) -> str:
    """What the checker can tell of a node's type before evaluation ("var" if unknown)."""
    if isinstance(node, nodes.Literal):
        value = node.value
        if value is None:
            return "null"
        return "bool" if isinstance(value, bool) else ("num" if isinstance(value, int) else "str")
    if isinstance(node, nodes.Constant):
        if node.name in SENTINELS:
            return "sentinel"
        return "enum" if node.name in ENUM_NAMES else "var"
    if isinstance(node, nodes.Binary):
        if node.operator in ("&&", "||", "=", "<>", "<", "<=", ">", ">="):
            return "bool"
        return "str" if node.operator == "&" else "num"
    if isinstance(node, nodes.Negate):
        return "num"
    if isinstance(node, nodes.Call) and node.function in FUNCTIONS:
        return FUNCTIONS[node.function].returns
    return "var"


def find_problems(root: nodes.Node, text: str) -> list[ExpressionSyntaxError]:
    """Every static problem of the expression, in text order."""
    if nodes.depth(root) > MAX_DEPTH:
        return [syntax_error(text, f"the expression nests deeper than {MAX_DEPTH}", 1, 1)]
    found = [
        syntax_error(text, message, node.line, node.column)
        for node, message in _check(root, frozenset())
    ]
    return sorted(found, key=lambda error: (error.line, error.column))


def _check(node: nodes.Node, bound: frozenset[str]) -> Iterator[tuple[nodes.Node, str]]:
    if isinstance(node, nodes.Call):
        yield from _check_call(node, bound)
        return
    if isinstance(node, nodes.Variable) and node.name not in bound:
        yield node, f"${node.name} is not bound here: only Select, Where and With bind variables"
    elif isinstance(node, nodes.Constant):
        yield from _check_constant(node)
    elif _too_big(node):
        yield node, "the number does not fit in 64 bits"
    for child in nodes.children(node):
        yield from _check(child, bound)


def _too_big(node: nodes.Node) -> bool:
    if not isinstance(node, nodes.Literal) or isinstance(node.value, bool):
        return False
    return isinstance(node.value, int) and node.value > INT64_MAX


def _check_constant(node: nodes.Constant) -> Iterator[tuple[nodes.Node, str]]:
    if node.name in ENUM_NAMES or node.name in SENTINELS:
        return
    known = {*ENUM_NAMES, *SENTINELS, "True", "False", "NULL", "CRLF"}
    close = next((name for name in known if name.lower() == node.name.lower()), None)
    if close:
        yield node, f"unknown name {node.name!r}; names are case-sensitive: did you mean {close}?"
    elif node.name in FUNCTIONS:
        yield node, f"{node.name} is a function: call it with parentheses"
    else:
        yield node, f"unknown name {node.name!r}"


def _check_call(node: nodes.Call, bound: frozenset[str]) -> Iterator[tuple[nodes.Node, str]]:
    spec = FUNCTIONS.get(node.function)
    if spec is None:
        close = suggest(node.function)
        hint = f"; function names are case-sensitive: did you mean {close}?" if close else ""
        yield node, f"unknown function {node.function!r}{hint}"
        for argument in node.arguments:
            yield from _check(argument, bound)
        return
    count = len(node.arguments)
    if spec.pairs:
        if count < 2 or count % 2:
            yield node, f"{spec.name} takes condition/value pairs, not {count} arguments"
    elif count not in spec.arities:
        wanted = " or ".join(str(n) for n in sorted(spec.arities))
        yield node, f"{spec.name} takes {wanted} argument(s), not {count}"
    else:
        yield from _check_types(node)
    inner = bound
    if spec.name in _BINDERS and node.arguments:
        variable = node.arguments[0]
        if isinstance(variable, nodes.Variable):
            inner = bound | {variable.name}
    for index, argument in enumerate(node.arguments):
        if spec.name in _BINDERS and index == 0:
            continue
        yield from _check(argument, inner if index == 2 else bound)


def _check_types(node: nodes.Call) -> Iterator[tuple[nodes.Node, str]]:
    spec = FUNCTIONS[node.function]
    candidates = [sig for sig in spec.signatures if len(sig) == len(node.arguments)]
    mismatches = [_first_mismatch(node, sig) for sig in candidates]
    if candidates and all(mismatch is not None for mismatch in mismatches):
        yield next(mismatch for mismatch in mismatches if mismatch is not None)


def _first_mismatch(node: nodes.Call, signature: tuple[str, ...]) -> tuple[nodes.Node, str] | None:
    for position, (argument, wanted) in enumerate(zip(node.arguments, signature, strict=True), 1):
        problem = _argument_problem(node.function, position, argument, wanted)
        if problem:
            return argument, f"{node.function}: argument {position} {problem}"
    return None


def _argument_problem(
    function: str, position: int, argument: nodes.Node, wanted: str
) -> str | None:
    if wanted == "variable":
        ok = isinstance(argument, nodes.Variable)
        return None if ok else "must be a $variable to bind"
    if wanted == "name":
        ok = isinstance(argument, nodes.Literal) and isinstance(argument.value, str)
        return None if ok else 'must be an attribute name in quotes, like "proxyAddresses"'
    actual = static_type(argument)
    value = argument.value if isinstance(argument, nodes.Literal) else None
    if wanted == "mv" and value is not None:
        return "must be a multi-valued attribute or expression, not a literal"
    if wanted == "num" and isinstance(value, str) and not value.strip().lstrip("+-").isdigit():
        return f"must be a number, not the string {value!r}"
    if function == "ReplaceChars" and position == 2 and isinstance(value, str):
        try:
            replace_chars_table(value)
        except ValueError as error:
            return f"is not a ReplaceChars pattern: {error}"
    if actual not in _ACCEPTS[wanted]:
        return f"must be {_TYPE_NAMES[wanted]}, not {_TYPE_NAMES.get(actual, actual)}"
    return None
