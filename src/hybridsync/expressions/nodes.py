"""The syntax tree of an expression: frozen nodes, each with its 1-based line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    """Where a node starts in the expression's text (1-based), for error messages."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A string, number or boolean written in the text, or ``NULL``/``CRLF``."""

    value: str | int | bool | None


@dataclass(frozen=True, slots=True)
class Constant(Node):
    """A bare identifier naming an enum value or a flow sentinel (``IgnoreThisFlow``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    """``[name]``: the object's values of an attribute."""

    name: str


@dataclass(frozen=True, slots=True)
class Parameter(Node):
    """``%name%``: a parameter of the connector, such as ``%Domain.FQDN%``."""

    name: str


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """``$name``: the item that ``Select``, ``Where`` or ``With`` binds in its other arguments."""

    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function applied to its arguments, in the order written."""

    function: str
    arguments: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Two operands joined by an operator (``&``, ``+``, ``=``, ``&&``, ``||``...)."""

    operator: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """A unary minus applied to its operand."""

    operand: Node


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Call):
        return node.arguments
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Negate):
        return (node.operand,)
    return ()


def walk(root: Node) -> list[Node]:
    """Every node under ``root`` (included), without recursion."""
    found: list[Node] = []
    pending = [root]
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(children(node))
    return found


def depth(root: Node) -> int:
    """How deeply ``root`` nests, a leaf counting 1, without recursion."""
    deepest = 0
    pending = [(root, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children(node))
    return deepest
