"""Text functions, beyond the shared vectors."""

from __future__ import annotations

import pytest

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import MultiValue, compile_expression


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('InStr("abcabc", "c", 4)', 6),
        ('InStr("abc", "", 2)', 2),
        ('InStr("ABC", "b", 1, vbTextCompare)', 2),
        ('InStr("ABC", "b", 1, vbBinaryCompare)', 0),
        ('InStrRev("abcabc", "c", 5)', 3),
        ('InStrRev("ABC", "a", -1, vbTextCompare)', 1),
        ('Mid("John Doe", 6)', "Doe"),
        ('PadLeft("x", 3, " ")', "  x"),
        ('PCase("o\'neil jean-luc")', "O'neil Jean-Luc"),
        ('ReplaceChars("a-b", " - : _ ")', "a_b"),
        ('ReplaceChars("a,b", "a:x,")', "x,b"),
        ('Word("a@b.c", 2, "@.")', "b"),
        ('Word("abc", 1, "")', "abc"),
        ('Len("née")', 3),
        ("Trim([v])", "x"),
    ],
)
def test_text(text: str, expected: object) -> None:
    assert compile_expression(text).evaluate({"v": "\t x \n"}) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('InStr("abc", "b", 0)', "start must be 1 or more"),
        ('InStr("abc", "b", 1, UTF8)', "compare must be one of"),
        ('PadLeft("x", 3, "ab")', "exactly one character"),
        ('PadLeft("x", 3, NULL)', "not Null"),
        ('PadLeft("x", 9999999, "0")', "cannot pad"),
        ('ReplaceChars("x", %P%)', "bad ReplaceChars pair"),
        ("LCase([b])", "must be a string, not a binary value"),
    ],
)
def test_text_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionEvalError, match=message):
        compile_expression(text).evaluate({"b": b"\x00"}, {"P": "ab:c"})


def test_text_functions_keep_multi_values_in_order() -> None:
    result = compile_expression('Left([p], 2) & "|" & UCase(Right([p], 1))').evaluate(
        {"p": ("abc", "def")}
    )
    assert result == MultiValue(["ab|C", "de|F"])


def test_numbers_and_references_are_text_for_text_functions() -> None:
    compiled = compile_expression("LCase([v])")
    assert compiled.evaluate({"v": 12}) == "12"
    assert compiled.evaluate({"v": True}) == "true"
