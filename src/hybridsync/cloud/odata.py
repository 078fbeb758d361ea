"""The OData ``$filter`` subset of Graph: parse once, evaluate against a user's properties.

Grammar (lowest precedence first)::

    expr    := and_expr ('or' and_expr)*
    and_expr:= unary ('and' unary)*
    unary   := 'not' unary | primary
    primary := '(' expr ')' | func '(' prop ',' literal ')' | prop op literal
             | prop 'in' '(' literals ')'
    op      := eq | ne | ge | le | gt | lt

String comparisons ignore case, as the directory's do. A filter is bounded before it is
evaluated: at most :data:`MAX_FILTER_TERMS` comparisons and :data:`MAX_FILTER_DEPTH` levels of
parentheses or ``not``, so no filter costs more than a few microseconds per object or runs
the parser out of stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hybridsync.cloud.errors import GraphError, bad_request, unsupported_query

Literal = str | bool | int | None


@dataclass(frozen=True, slots=True)
class Compare:
    """``prop op value``: ``op`` one of eq, ne, ge, le, gt, lt."""

    op: str
    prop: str
    value: Literal


@dataclass(frozen=True, slots=True)
class In:
    """``prop in (values...)``."""

    prop: str
    values: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class Func:
    """``name(prop, value)``: startsWith or endsWith."""

    name: str
    prop: str
    value: str


@dataclass(frozen=True, slots=True)
class And:
    """``left and right``."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    """``left or right``."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    """``not operand``."""

    operand: Node


Node = Compare | In | Func | And | Or | Not

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w/.]*))"
)
_COMPARE_OPS = {"eq", "ne", "ge", "le", "gt", "lt"}
_FUNCS = {"startswith": "startsWith", "endswith": "endsWith"}
MAX_FILTER_TERMS = 100
MAX_FILTER_DEPTH = 16
MAX_FILTER_LENGTH = 8192
MAX_NUMBER_DIGITS = 18  # within a 64-bit integer
ADVANCED_ENDSWITH = frozenset({"mail", "otherMails", "userPrincipalName", "proxyAddresses"})


def _invalid(text: str) -> GraphError:
    return bad_request(f"Invalid filter clause: syntax error in '{text}'.")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise _invalid(text)
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _too_complex(what: str) -> GraphError:
    return bad_request(f"Invalid filter clause: the filter is too complex ({what}).")


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_FILTER_LENGTH:
            raise _too_complex(f"more than {MAX_FILTER_LENGTH} characters")
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.terms = 0

    def parse(self) -> Node:
        node = self._or()
        if self.pos != len(self.tokens):
            raise _invalid(self.text)
        return node

    def _peek_word(self) -> str:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "word":
            return self.tokens[self.pos][1].lower()
        return ""

    def _take(self, kind: str, value: str | None = None) -> str:
        if self.pos >= len(self.tokens):
            raise _invalid(self.text)
        got_kind, got = self.tokens[self.pos]
        if got_kind != kind or (value is not None and got.lower() != value):
            raise _invalid(self.text)
        self.pos += 1
        return got

    def _or(self) -> Node:
        return self._chain("or", self._and, Or)

    def _and(self) -> Node:
        return self._chain("and", self._unary, And)

    def _chain(
        self, word: str, operand: Callable[[], Node], combine: Callable[[Node, Node], Node]
    ) -> Node:
        """``operand (word operand)*``, grouped from the left."""
        node = operand()
        while self._peek_word() == word:
            self.pos += 1
            node = combine(node, operand())
        return node

    def _unary(self) -> Node:
        if self._peek_word() == "not":
            self.pos += 1
            with self._nested():
                return Not(self._unary())
        if self.pos < len(self.tokens) and self.tokens[self.pos] == ("punct", "("):
            self.pos += 1
            with self._nested():
                node = self._or()
            self._take("punct", ")")
            return node
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise _too_complex(f"more than {MAX_FILTER_TERMS} terms")
        return self._primary()

    @contextmanager
    def _nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise _too_complex(f"nested deeper than {MAX_FILTER_DEPTH} levels")
        yield
        self.depth -= 1

    def _primary(self) -> Node:
        word = self._take("word")
        if word.lower() in _FUNCS and self.tokens[self.pos : self.pos + 1] == [("punct", "(")]:
            self.pos += 1
            prop = self._take("word")
            self._take("punct", ",")
            value = self._literal()
            self._take("punct", ")")
            if not isinstance(value, str):
                raise _invalid(self.text)
            return Func(_FUNCS[word.lower()], prop, value)
        op = self._take("word").lower()
        if op == "in":
            return In(word, self._literal_list())
        if op not in _COMPARE_OPS:
            raise _invalid(self.text)
        return Compare(op, word, self._literal())

    def _literal_list(self) -> tuple[Literal, ...]:
        self._take("punct", "(")
        values = [self._literal()]
        while self.tokens[self.pos : self.pos + 1] == [("punct", ",")]:
            self.pos += 1
            values.append(self._literal())
            if len(values) > MAX_FILTER_TERMS:
                raise _too_complex(f"more than {MAX_FILTER_TERMS} values in a list")
        self._take("punct", ")")
        return tuple(values)

    def _literal(self) -> Literal:
        if self.pos >= len(self.tokens):
            raise _invalid(self.text)
        kind, raw = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            return raw[1:-1].replace("''", "'")
        if kind == "num":
            if len(raw.lstrip("-")) > MAX_NUMBER_DIGITS:
                raise bad_request(f"Invalid filter clause: the number {raw[:24]}... is too large.")
            return int(raw)
        words: dict[str, Literal] = {"true": True, "false": False, "null": None}
        if kind == "word" and raw.lower() in words:
            return words[raw.lower()]
        raise _invalid(self.text)


def parse_filter(text: str) -> Node:
    return _Parser(text).parse()


def walk(node: Node) -> list[Node]:
    """Every node of the tree, root first."""
    if isinstance(node, And | Or):
        return [node, *walk(node.left), *walk(node.right)]
    if isinstance(node, Not):
        return [node, *walk(node.operand)]
    return [node]


def check_filter(node: Node, filterable: Mapping[str, str], *, advanced: bool) -> None:
    """Reject unknown properties, and advanced operators without the advanced-query options."""
    for part in walk(node):
        if isinstance(part, Compare | In | Func) and part.prop not in filterable:
            raise unsupported_query(
                f"Unsupported or invalid query filter clause specified for property"
                f" '{part.prop}' of resource '{filterable.get('__resource__', 'User')}'."
            )
        needs_advanced = (
            isinstance(part, Not)
            or (isinstance(part, Compare) and part.op in {"ne", "gt", "lt"})
            or (isinstance(part, Func) and part.name == "endsWith")
        )
        if (
            isinstance(part, Func)
            and part.name == "endsWith"
            and part.prop not in ADVANCED_ENDSWITH
        ):
            raise unsupported_query(f"Unsupported Query: endsWith on property '{part.prop}'.")
        if needs_advanced and not advanced:
            raise unsupported_query(_advanced_message(part))


def _advanced_message(part: Node) -> str:
    operator = {Not: "Not", Func: "endsWith"}.get(type(part), "NotEqualsMatch")
    return (
        f"Operator '{operator}' is not supported because the required parameters might be"
        " missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header."
        " Refer to https://aka.ms/graph-docs/advanced-queries for more information"
    )


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _values(obj: Mapping[str, Any], prop: str) -> list[Any]:
    value = obj.get(prop)
    return [_norm(v) for v in value] if isinstance(value, list) else [_norm(value)]


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
}


def matches(node: Node, obj: Mapping[str, Any]) -> bool:
    if isinstance(node, And):
        return matches(node.left, obj) and matches(node.right, obj)
    if isinstance(node, Or):
        return matches(node.left, obj) or matches(node.right, obj)
    if isinstance(node, Not):
        return not matches(node.operand, obj)
    values = _values(obj, node.prop)
    if isinstance(node, In):
        wanted = {_norm(v) for v in node.values}
        return any(v in wanted for v in values)
    if isinstance(node, Func):
        needle = node.value.casefold()
        test = str.startswith if node.name == "startsWith" else str.endswith
        return any(isinstance(v, str) and test(v, needle) for v in values)
    compare = _OPS[node.op]
    try:
        if node.op == "ne":
            return all(compare(v, _norm(node.value)) for v in values)
        return any(compare(v, _norm(node.value)) for v in values)
    except TypeError as exc:
        raise bad_request(f"Invalid filter clause: incompatible types for '{node.prop}'.") from exc
