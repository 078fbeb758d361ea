"""Syntax tree to Python source: one function per expression, one statement per step.

Every call and operator becomes one line ``_tN = f(...)`` of a generated function, and
``IIF``/``Switch``/``&&``/``||`` become ``if`` statements, so only the chosen branch
runs and nothing dispatches on node types at evaluation time. Each generated line maps
back to the position in the expression text, for error messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from hybridsync.expressions import nodes, operators
from hybridsync.expressions.coerce import fail, multi, values_of
from hybridsync.expressions.functions.flow import choose_per_value, value_count
from hybridsync.expressions.generated import Constants
from hybridsync.expressions.registry import FUNCTIONS
from hybridsync.expressions.values import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    EnumConstant,
)

PROLOGUE = (
    "def evaluate(attributes, parameters=None, imported=None):",
    "    _A = attributes",
    "    _P = _NO_PARAMETERS if parameters is None else parameters",
    "    _I = attributes if imported is None else imported",
    "    try:",
)

_OPERATOR_NAMES = {
    "&": "concat", "+": "add", "-": "subtract", "*": "multiply", "/": "divide",
    "=": "equal", "<>": "not_equal", "<": "less", "<=": "less_equal",
    ">": "greater", ">=": "greater_equal",
}  # fmt: skip


_FAST_PATHS = {
    ("CBool", 1): "{0} if {0} is True or {0} is False",
    ("IsPresent", 1): "{0} != '' if type({0}) is str",
    ("LCase", 1): "{0}.lower() if type({0}) is str",
    ("UCase", 1): "{0}.upper() if type({0}) is str",
    ("Trim", 1): "{0}.strip() if type({0}) is str",
    ("InStr", 2): "{0}.find({1}) + 1 if type({0}) is str",
}
"""Inline forms of functions for their most common input: a string (or boolean) first
argument, and string literals for the others."""


def _is_text_literal(arguments: tuple[nodes.Node, ...]) -> bool:
    return all(
        isinstance(argument, nodes.Literal) and isinstance(argument.value, str)
        for argument in arguments
    )


@dataclass(frozen=True, slots=True)
class Site:
    """Where a generated line comes from in the expression text."""

    line: int
    column: int
    function: str | None


def _parameter(parameters: object, name: str) -> object:
    try:
        return parameters[name]  # type: ignore[index]
    except KeyError:
        fail(f"parameter %{name}% is not defined")


def runtime_namespace() -> dict[str, object]:
    """The globals every generated function runs with."""
    namespace: dict[str, object] = {
        "_param": _parameter,
        "_cond": operators.condition,
        "_truth": operators.truth,
        "_choose": choose_per_value,
        "_values": values_of,
        "_multi": multi,
        "_value_count": value_count,
        "_neg": operators.negate,
        "_IgnoreThisFlow": IGNORE_THIS_FLOW,
        "_AuthoritativeNull": AUTHORITATIVE_NULL,
    }
    for symbol, name in _OPERATOR_NAMES.items():
        namespace[f"_op_{name}"] = operators.BINARY[symbol]
    for spec in FUNCTIONS.values():
        if spec.implementation is not None:
            namespace[f"_f_{spec.name}"] = spec.implementation
    return namespace


@dataclass
class Generator:
    """Emits the statements of one generated function."""

    lines: list[str] = field(default_factory=list)
    line_sites: list[Site | None] = field(default_factory=list)
    constants: Constants = field(default_factory=Constants)
    attributes: dict[str, str] = field(default_factory=dict)
    indent: int = 2
    counter: int = 0
    uses_parameters: bool = False
    uses_imported: bool = False

    def temp(self) -> str:
        self.counter += 1
        return f"_t{self.counter}"

    def attribute(self, name: str) -> str:
        """The local holding attribute ``name``, read once at the start of evaluation."""
        return self.attributes.setdefault(name, f"_a{len(self.attributes) + 1}")

    def emit(self, code: str, node: nodes.Node, function: str | None = None) -> None:
        self.lines.append("    " * self.indent + code)
        self.line_sites.append(Site(node.line, node.column, function))

    def source(self, result: str) -> tuple[str, dict[int, Site]]:
        """The generated function, and the expression position of each of its lines."""
        reads = [f"        {local} = _A.get({name!r})" for name, local in self.attributes.items()]
        epilogue = [
            "    except _EvalError as _error:",
            "        raise _locate(_error, _sites) from None",
            "    except Exception as _error:",
            "        raise _internal(_error, _sites) from _error",
            f"    if type({result}) is str:",
            f"        return {result}",
            f"    return _result({result})",
            "",
        ]
        first = len(PROLOGUE) + len(reads) + 1
        sites = {first + index: site for index, site in enumerate(self.line_sites) if site}
        body = self.lines or ["        pass"]
        # Unused parameter/import mappings are not prepared (blanked, so lines keep numbers).
        unused = {"_P": not self.uses_parameters, "_I": not self.uses_imported}
        prologue = [
            "" if any(unused[name] and f"{name} =" in line for name in unused) else line
            for line in PROLOGUE
        ]
        return "\n".join([*prologue, *reads, *body, *epilogue]), sites

    def block(self, body: Callable[[], None]) -> None:
        self.indent += 1
        body()
        self.indent -= 1


def generate(root: nodes.Node) -> tuple[str, dict[int, Site], Constants]:
    """The Python source of ``root``, its line-to-position map and its constants."""
    generator = Generator()
    result = _Compiler(generator).operand(root, {})
    source, sites = generator.source(result)
    return source, sites, generator.constants


class _Compiler:
    def __init__(self, out: Generator):
        self.out = out

    def operand(self, node: nodes.Node, scope: dict[str, str]) -> str:
        """Emit the statements computing ``node``; return the Python expression of its value."""
        if isinstance(node, nodes.Literal):
            return repr(node.value)
        if isinstance(node, nodes.Constant):
            if node.name in ("IgnoreThisFlow", "AuthoritativeNull"):
                return f"_{node.name}"
            return self.out.constants.name(EnumConstant(node.name))
        if isinstance(node, nodes.Variable):
            return scope[node.name]
        if isinstance(node, nodes.Attribute):
            return self.out.attribute(node.name)
        if isinstance(node, nodes.Parameter):
            self.out.uses_parameters = True
            return self._assign(f"_param(_P, {node.name!r})", node, f"%{node.name}%")
        if isinstance(node, nodes.Negate):
            value = self.operand(node.operand, scope)
            return self._assign(f"_neg({value})", node, "-")
        if isinstance(node, nodes.Binary):
            return self._binary(node, scope)
        assert isinstance(node, nodes.Call)
        return self._call(node, scope)

    def _assign(self, code: str, node: nodes.Node, function: str | None) -> str:
        target = self.out.temp()
        self.out.emit(f"{target} = {code}", node, function)
        return target

    def _binary(self, node: nodes.Binary, scope: dict[str, str]) -> str:
        if node.operator in ("&&", "||"):
            return self._logical(node, scope)
        left = self.operand(node.left, scope)
        right = self.operand(node.right, scope)
        call = f"_op_{_OPERATOR_NAMES[node.operator]}({left}, {right})"
        inline = _inline_against_literal(node, left, right)
        return self._assign(f"{inline}{call}" if inline else call, node, node.operator)

    def _logical(self, node: nodes.Binary, scope: dict[str, str]) -> str:
        role = f"an operand of '{node.operator}'"
        left = self.operand(node.left, scope)
        result = self._assign(f"_truth({left}, {role!r})", node, node.operator)
        test = result if node.operator == "&&" else f"not {result}"
        self.out.emit(f"if {test}:", node, node.operator)

        def right_side() -> None:
            right = self.operand(node.right, scope)
            self.out.emit(f"{result} = _truth({right}, {role!r})", node, node.operator)

        self.out.block(right_side)
        return result

    def _call(self, node: nodes.Call, scope: dict[str, str]) -> str:
        special = {
            "IIF": self._iif,
            "Switch": self._switch,
            "Select": self._select,
            "Where": self._where,
            "With": self._with,
            "ImportedValue": self._imported,
            "ValueCount": self._value_count,
        }.get(node.function)
        if special:
            return special(node, scope)
        operands = [self.operand(argument, scope) for argument in node.arguments]
        call = f"_f_{node.function}({', '.join(operands)})"
        fast = _FAST_PATHS.get((node.function, len(operands)))
        if fast and operands[0].startswith("_") and _is_text_literal(node.arguments[1:]):
            # The common case inline; the function itself handles every other value.
            call = f"{fast.format(*operands)} else {call}"
        return self._assign(call, node, node.function)

    def _iif(self, node: nodes.Call, scope: dict[str, str]) -> str:
        condition_node, if_true, if_false = node.arguments
        condition = self.operand(condition_node, scope)
        if not condition.startswith("_"):
            # A literal condition: name it, so that the tests below compare a variable.
            condition = self._assign(condition, condition_node, "IIF")
        result = self.out.temp()
        if _always_single_boolean(condition_node):
            self.out.emit(f"if {condition}:", node, "IIF")
            self.out.block(lambda: self._set(result, if_true, scope))
            self.out.emit("else:", node, "IIF")
            self.out.block(lambda: self._set(result, if_false, scope))
            return result
        # A multi-valued condition chooses per value, so it needs both branches.
        flag = self._assign(
            f"{condition} if {condition} is True or {condition} is False else _cond({condition})",
            node,
            "IIF",
        )
        self.out.emit(f"if {flag} is not False:", node, "IIF")
        self.out.block(lambda: self._set(f"{result}_t", if_true, scope))
        self.out.emit(f"if {flag} is not True:", node, "IIF")
        self.out.block(lambda: self._set(f"{result}_f", if_false, scope))
        chosen = (
            f"{result}_t if {flag} is True else ({result}_f if {flag} is False "
            f"else _choose({flag}, {result}_t, {result}_f))"
        )
        self.out.emit(f"{result} = {chosen}", node, "IIF")
        return result

    def _set(self, target: str, node: nodes.Node, scope: dict[str, str]) -> None:
        value = self.operand(node, scope)
        self.out.emit(f"{target} = {value}", node)

    def _switch(self, node: nodes.Call, scope: dict[str, str]) -> str:
        result = self.out.temp()
        self.out.emit(f"{result} = None", node, "Switch")
        self.out.emit("while True:", node, "Switch")

        def pairs() -> None:
            arguments = node.arguments
            for condition_node, value_node in zip(arguments[::2], arguments[1::2], strict=True):
                condition = self.operand(condition_node, scope)
                test = f"_truth({condition}, 'a Switch condition')"
                self.out.emit(f"if {test}:", condition_node, "Switch")
                self.out.block(partial(self._set_and_break, result, value_node, scope))
            self.out.emit("break", node, "Switch")

        self.out.block(pairs)
        return result

    def _set_and_break(self, target: str, node: nodes.Node, scope: dict[str, str]) -> None:
        self._set(target, node, scope)
        self.out.emit("break", node)

    def _loop(self, node: nodes.Call, scope: dict[str, str], keep: Callable[..., None]) -> str:
        variable, source_node, body = node.arguments
        assert isinstance(variable, nodes.Variable)
        source = self.operand(source_node, scope)
        collected = self._assign("[]", node, node.function)
        item = self.out.temp()
        self.out.emit(f"for {item} in _values({source}):", node, node.function)
        inner = {**scope, variable.name: item}
        self.out.block(lambda: keep(collected, item, body, inner))
        return self._assign(f"_multi({collected})", node, node.function)

    def _select(self, node: nodes.Call, scope: dict[str, str]) -> str:
        def keep(collected: str, item: str, body: nodes.Node, inner: dict[str, str]) -> None:
            value = self.operand(body, inner)
            self.out.emit(f"{collected}.append({value})", node, "Select")

        return self._loop(node, scope, keep)

    def _where(self, node: nodes.Call, scope: dict[str, str]) -> str:
        def keep(collected: str, item: str, body: nodes.Node, inner: dict[str, str]) -> None:
            test = self.operand(body, inner)
            self.out.emit(f"if _truth({test}, 'the Where condition'):", node, "Where")
            self.out.block(lambda: self.out.emit(f"{collected}.append({item})", node, "Where"))

        return self._loop(node, scope, keep)

    def _with(self, node: nodes.Call, scope: dict[str, str]) -> str:
        variable, bound_node, body = node.arguments
        assert isinstance(variable, nodes.Variable)
        bound = self.operand(bound_node, scope)
        local = self._assign(bound, node, "With")
        return self.operand(body, {**scope, variable.name: local})

    def _imported(self, node: nodes.Call, scope: dict[str, str]) -> str:
        name = node.arguments[0]
        assert isinstance(name, nodes.Literal)
        self.out.uses_imported = True
        return self._assign(f"_I.get({name.value!r})", node, "ImportedValue")

    def _value_count(self, node: nodes.Call, scope: dict[str, str]) -> str:
        name = node.arguments[0]
        assert isinstance(name, nodes.Literal)
        return self._assign(f"_value_count(_A.get({name.value!r}))", node, "ValueCount")


def _always_single_boolean(node: nodes.Node) -> bool:
    """True when ``node`` can only give True or False (never a multi-value or Null)."""
    if isinstance(node, nodes.Literal):
        return isinstance(node.value, bool)
    if isinstance(node, nodes.Binary):
        return node.operator in ("&&", "||")
    if isinstance(node, nodes.Call) and node.function in FUNCTIONS:
        spec = FUNCTIONS[node.function]
        return spec.returns == "bool" and not spec.maps and spec.implementation is not None
    return False


def _inline_against_literal(node: nodes.Binary, left: str, right: str) -> str | None:
    """Inline Python for ``=``, ``<>`` and ``&`` with a literal on the right.

    The inline form runs when the left value has the literal's Python type; any other
    value goes through the operator function, which knows Null and multi-values.
    """
    literal = node.right.value if isinstance(node.right, nodes.Literal) else None
    if literal is None or isinstance(literal, bool):
        return None
    python_type = "str" if isinstance(literal, str) else "int"
    inline = {"=": f"{left} == {right}", "<>": f"{left} != {right}"}.get(node.operator)
    if node.operator == "&" and python_type == "str":
        inline = f"{left} + {right}"
    if inline is None:
        return None
    return f"{inline} if type({left}) is {python_type} else "
