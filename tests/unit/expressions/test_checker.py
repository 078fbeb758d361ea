"""Compile-time checks: names, arity, variables, obvious type mismatches."""

from __future__ import annotations

import pytest

from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import check_expression, compile_expression


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("Foo(1)", 1, "unknown function 'Foo'"),
        ("Left([a])", 1, "Left takes 2 argument(s), not 1"),
        ("Mid([a])", 1, "Mid takes 2 or 3 argument(s), not 1"),
        ('Left([a], "x")', 11, "must be a number, not the string 'x'"),
        ('Count("x")', 7, "must be a multi-valued attribute"),
        ("FormatDateTime(5, [f])", 16, "must be a date, not a number"),
        ("Left(Now(), 3)", 6, "must be a string, not a date"),
        ("Left(IgnoreThisFlow, 3)", 6, "not a flow instruction"),
        ("$item", 1, "$item is not bound"),
        ('Select(item, [a], "x")', 8, "must be a $variable"),
        ("ImportedValue([a])", 15, "attribute name in quotes"),
        ("Whatever", 1, "unknown name 'Whatever'"),
        ("LCase", 1, "LCase is a function"),
        ('ReplaceChars([a], "ab:c")', 19, "not a ReplaceChars pattern"),
        ("99999999999999999999", 1, "does not fit in 64 bits"),
    ],
)
def test_compile_errors(text: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression(text)
    assert raised.value.column == column
    assert message in raised.value.message


def test_variables_are_bound_only_inside_their_binder() -> None:
    compile_expression('With($x, [a], $x & "!")')
    compile_expression("Select($i, [a], Where($j, [b], $j = $i))")
    with pytest.raises(ExpressionSyntaxError, match=r"\$x is not bound"):
        compile_expression("Select($x, $x, 1)")


def test_check_expression_reports_every_problem() -> None:
    problems = check_expression('lcase([a]) & Left([b]) & Nope & Count("x")')
    assert [problem.column for problem in problems] == [1, 14, 26, 39]


def test_enum_given_as_string_is_accepted() -> None:
    compile_expression('DNComponentRev(CRef([dn]), 1, "DC")')
    compile_expression('InStr([a], "b", 1, "vbTextCompare")')


def test_overloads_are_chosen_by_arity() -> None:
    compile_expression('Contains([a], "x")')
    compile_expression('Contains([a], "x", CaseInsensitive)')
    with pytest.raises(ExpressionSyntaxError, match="2 or 3"):
        compile_expression("Contains([a])")
