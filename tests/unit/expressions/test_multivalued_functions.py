"""Multi-valued functions and the flow functions that work on multi-valued input."""

from __future__ import annotations

import pytest
from tests.unit.expressions.support import evaluate

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import MultiValue

PROXIES = ["SMTP:john@contoso.com", "smtp:jd@contoso.com", "SIP:john@contoso.com"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Contains([p], "SMTP:")', 1),
        ('Contains([p], "smtp:")', 2),
        ('Contains([p], "sip:", CaseInsensitive)', 3),
        ('Contains([p], "sip:", CaseSensitive)', 0),
        ("Count([p])", 3),
        ("Count([missing])", 0),
        ("Count([single])", 1),
        ("Item([p], 2)", "smtp:jd@contoso.com"),
        ("ItemOrNull([p], 0)", None),
        ('Mid(Item([p],Contains([p], "SMTP:")),6)', "john@contoso.com"),
        ('Join([p], ";")', ";".join(PROXIES)),
        ('Join(Split("a b c", " "), "-")', "a-b-c"),
        ('ValueCount("p")', 3),
        ('ValueCount("missing")', 0),
        ('Count(Where($x, [p], Left($x, 5) = "smtp:"))', 1),
    ],
)
def test_multivalued(text: str, expected: object) -> None:
    assert evaluate(text, p=PROXIES, single="x") == expected


def test_select_maps_every_value() -> None:
    phones = ["555-1234", "555-98-76"]
    expected = MultiValue(["5551234", "5559876"])
    assert evaluate('Select($item,[otherPhone],Replace($item,"-",""))', otherPhone=phones) == (
        expected
    )


def test_with_binds_a_sub_expression() -> None:
    text = 'With($smtp, Where($i, [p], InStr($i, "smtp:", 1, vbTextCompare) = 1), Count($smtp))'
    assert evaluate(text, p=PROXIES) == 2


def test_nested_binders_see_outer_variables() -> None:
    text = 'Select($a, [x], Join(Select($b, [y], $a & $b), "+"))'
    assert evaluate(text, x=["1", "2"], y=["a", "b"]) == MultiValue(["1a+1b", "2a+2b"])


def test_where_condition_must_be_boolean() -> None:
    with pytest.raises(ExpressionEvalError, match="the Where condition"):
        evaluate('Where($v, [p], "text")', p=["a"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('Split("a,b", ",,")', "one character"),
        ('Split("a,b", ",", 0)', "limit must be 1 or more"),
        ("Item([p], 9)", "out of bounds"),
        ('Contains([p], "x", vbTextCompare)', "the case option must be one of"),
    ],
)
def test_multivalued_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionEvalError, match=message):
        evaluate(text, p=PROXIES)
