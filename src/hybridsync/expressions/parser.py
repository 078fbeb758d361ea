"""Text to syntax tree. The only module that imports lark.

The LALR parser applies the transformer while it parses, so no step recurses on the
depth of the expression: a pathological input cannot exhaust the Python stack.
"""

from __future__ import annotations

from importlib.resources import files

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import nodes

_KEYWORDS: dict[str, str | bool | None] = {
    "True": True,
    "False": False,
    "NULL": None,
    "CRLF": "\r\n",
}

_TOKEN_NAMES = {
    "OR": "'||'",
    "AND": "'&&'",
    "CMP": "a comparison",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "AMP": "'&'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "HEX": "a number",
    "NUMBER": "a number",
    "STRING": "a string",
    "ATTRIBUTE": "an [attribute]",
    "PARAMETER": "a %parameter%",
    "VARIABLE": "a $variable",
    "NAME": "a name",
    "$END": "the end of the expression",
}


def unescape(body: str) -> str:
    r"""The value of a string literal's body.

    ``\\`` is one backslash and ``\"`` a double quote; any other backslash stays as
    written, so that ``Replace`` can read its ``\n``, ``\r`` and ``\t`` monikers.
    """
    if "\\" not in body:
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in '\\"':
            out.append(body[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class _ToNodes(Transformer[Token, nodes.Node]):
    """Builds :mod:`nodes` from tokens; positions come from the tokens themselves."""

    def string(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        return nodes.Literal(token.line or 1, token.column or 1, unescape(token.value[1:-1]))

    def number(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        return nodes.Literal(token.line or 1, token.column or 1, int(token.value))

    def hex_number(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        return nodes.Literal(token.line or 1, token.column or 1, int(token.value[2:], 16))

    def attribute(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        return nodes.Attribute(token.line or 1, token.column or 1, token.value[1:-1].strip())

    def parameter(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        return nodes.Parameter(token.line or 1, token.column or 1, token.value[1:-1])

    def variable(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        return nodes.Variable(token.line or 1, token.column or 1, token.value[1:])

    def name(self, items: list[Token]) -> nodes.Node:
        token = items[0]
        if token.value in _KEYWORDS:
            return nodes.Literal(token.line or 1, token.column or 1, _KEYWORDS[token.value])
        return nodes.Constant(token.line or 1, token.column or 1, token.value)

    def call(self, items: list[object]) -> nodes.Node:
        token = items[0]
        assert isinstance(token, Token)
        arguments = items[2]
        args = tuple(arguments) if isinstance(arguments, list) else ()
        return nodes.Call(token.line or 1, token.column or 1, token.value, args)

    def arguments(self, items: list[object]) -> list[nodes.Node]:
        return [item for item in items if isinstance(item, nodes.Node)]

    def group(self, items: list[object]) -> nodes.Node:
        inner = items[1]
        assert isinstance(inner, nodes.Node)
        return inner

    def binary(self, items: list[object]) -> nodes.Node:
        left, operator, right = items
        assert isinstance(left, nodes.Node)
        assert isinstance(right, nodes.Node)
        assert isinstance(operator, Token)
        return nodes.Binary(operator.line or 1, operator.column or 1, operator.value, left, right)

    def negate(self, items: list[object]) -> nodes.Node:
        minus, operand = items
        assert isinstance(minus, Token)
        assert isinstance(operand, nodes.Node)
        return nodes.Negate(minus.line or 1, minus.column or 1, operand)


_PARSER = Lark(
    files("hybridsync.expressions").joinpath("grammar.lark").read_text(encoding="utf-8"),
    parser="lalr",
    lexer="contextual",
    transformer=_ToNodes(),
    maybe_placeholders=True,
)


def excerpt(text: str, line: int, column: int) -> str:
    """The given line of ``text`` with a caret under ``column``."""
    lines = text.splitlines() or [""]
    source = lines[min(line, len(lines)) - 1]
    return f"{source}\n{' ' * (column - 1)}^"


def syntax_error(text: str, message: str, line: int, column: int) -> ExpressionSyntaxError:
    """An :class:`ExpressionSyntaxError` at ``line``/``column`` with its caret excerpt."""
    return ExpressionSyntaxError(
        message, line=line, column=column, excerpt=excerpt(text, line, column)
    )


def _describe(error: UnexpectedInput, text: str) -> str:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        if char and char in "\u201c\u201d\u201e\u201f":
            return 'smart quotes are not string delimiters; use straight double quotes (")'
        if char == '"':
            return "unterminated string"
        return f"unexpected character {char!r}"
    if isinstance(error, UnexpectedEOF):
        return "unexpected end of the expression"
    token = getattr(error, "token", None)
    expected = sorted({_TOKEN_NAMES.get(name, name) for name in getattr(error, "expected", ())})
    at_end = token is None or token.type == "$END"
    found = "end of the expression" if at_end else repr(str(token))
    hint = f"; expected {', '.join(expected)}" if expected else ""
    return f"unexpected {found}{hint}"


def parse(text: str) -> nodes.Node:
    """Parse ``text`` into a syntax tree.

    Raises:
        ExpressionSyntaxError: the text is not an expression (with line, column, caret).
    """
    if not text.strip():
        raise syntax_error(text, "the expression is empty", 1, 1)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as error:
        line = max(error.line, 1) if isinstance(error.line, int) else 1
        column = max(error.column, 1) if isinstance(error.column, int) else 1
        token = getattr(error, "token", None)
        if isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END"):
            line, column = _end_position(text)
        raise syntax_error(text, _describe(error, text), line, column) from None
    assert isinstance(tree, nodes.Node)
    return tree


def _end_position(text: str) -> tuple[int, int]:
    stripped = text.rstrip()
    lines = stripped.splitlines() or [""]
    return len(lines), len(lines[-1]) + 1
