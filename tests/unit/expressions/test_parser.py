"""Lexical elements, precedence and syntax errors."""

from __future__ import annotations

import pytest

from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import nodes
from hybridsync.expressions.parser import parse, unescape


def test_attribute_names_may_contain_dashes() -> None:
    assert parse("[mS-DS-ConsistencyGuid]") == nodes.Attribute(1, 1, "mS-DS-ConsistencyGuid")


def test_parameters_may_contain_dots() -> None:
    assert parse("%Domain.FQDN%") == nodes.Parameter(1, 1, "Domain.FQDN")


def test_hex_and_decimal_numbers() -> None:
    assert parse("&HFF") == nodes.Literal(1, 1, 255)
    assert parse("&hff") == nodes.Literal(1, 1, 255)
    assert parse("98052") == nodes.Literal(1, 1, 98052)


def test_keywords_and_constants() -> None:
    assert parse("True") == nodes.Literal(1, 1, True)
    assert parse("NULL") == nodes.Literal(1, 1, None)
    assert parse("CRLF") == nodes.Literal(1, 1, "\r\n")
    assert parse("IgnoreThisFlow") == nodes.Constant(1, 1, "IgnoreThisFlow")
    assert parse("vbTextCompare") == nodes.Constant(1, 1, "vbTextCompare")


def test_hex_is_not_confused_with_concatenation() -> None:
    tree = parse('"a" & [b]')
    assert isinstance(tree, nodes.Binary)
    assert tree.operator == "&"
    assert parse("1 && 2") == nodes.Binary(
        1, 3, "&&", nodes.Literal(1, 1, 1), nodes.Literal(1, 6, 2)
    )


def test_newlines_inside_an_expression_are_allowed_and_positions_follow() -> None:
    tree = parse('IIF(\n  IsPresent([a]),\n  "x",\n  "y")')
    assert isinstance(tree, nodes.Call)
    assert tree.arguments[0].line == 2
    assert tree.arguments[0].column == 3


def test_unescape() -> None:
    assert unescape(r"a\"b") == 'a"b'
    assert unescape(r"a\\b") == "a\\b"
    assert unescape(r"a\nb") == r"a\nb"


def test_unary_minus() -> None:
    assert parse("-1") == nodes.Negate(1, 1, nodes.Literal(1, 2, 1))


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("IIF(", 1, 5, "unexpected end of the expression"),
        ('Left("abc" 2)', 1, 12, "unexpected '2'"),
        ('"abc', 1, 1, "unterminated string"),
        ("\u201cx\u201d", 1, 1, "smart quotes"),
        ("a\n  + * 2", 2, 5, "unexpected '*'"),
        ("   ", 1, 1, "empty"),
        ("1 ?", 1, 3, "unexpected character '?'"),
    ],
)
def test_syntax_errors_have_line_column_and_caret(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse(text)
    error = raised.value
    assert (error.line, error.column) == (line, column)
    assert message in error.message
    assert error.excerpt.splitlines()[-1] == " " * (column - 1) + "^"
