"""Flow (IIF, Switch, Error, sentinels), evaluation and math functions, error positions."""

from __future__ import annotations

import pytest
from tests.unit.expressions.support import evaluate

from hybridsync.errors import ExpressionEvalError, ExpressionUserError
from hybridsync.expressions import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    MultiValue,
    compile_expression,
)

CITY = (
    'Switch([city] = "London", "English", [city] = "Rome", "Italian", '
    '[city] = "Paris", "French", True, Error("Unknown city"))'
)


@pytest.mark.parametrize(("city", "language"), [("London", "English"), ("Paris", "French")])
def test_switch_documented_example(city: str, language: str) -> None:
    assert evaluate(CITY, city=city) == language


def test_switch_documented_example_errors_for_other_cities() -> None:
    with pytest.raises(ExpressionUserError, match="Unknown city"):
        evaluate(CITY, city="Oslo")


def test_iif_evaluates_only_the_chosen_branch() -> None:
    text = 'IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))'
    assert evaluate(text, accountName="jdoe") == "jdoe"
    with pytest.raises(ExpressionUserError, match="AccountName is required"):
        evaluate(text)


def test_and_or_are_lazy() -> None:
    assert evaluate('False && Error("no")') is False
    assert evaluate('True || Error("no")') is True
    with pytest.raises(ExpressionUserError):
        evaluate('True && Error("yes")')


def test_sentinels_are_returned_as_such() -> None:
    text = "IIF([cloudSOAExchMailbox] = True,[cloudMSExchSafeSendersHash],IgnoreThisFlow)"
    assert evaluate(text, cloudSOAExchMailbox=False) is IGNORE_THIS_FLOW
    assert evaluate(text, cloudSOAExchMailbox=True, cloudMSExchSafeSendersHash=b"h") == b"h"
    assert evaluate("AuthoritativeNull") is AUTHORITATIVE_NULL


def test_default_upn_rule() -> None:
    text = (
        "IIF(IsPresent([userPrincipalName]),[userPrincipalName], IIF(IsPresent([sAMAccountName]),"
        '([sAMAccountName]&"@"&%Domain.FQDN%),Error("AccountName is not present")))'
    )
    compiled = compile_expression(text)
    assert compiled.evaluate({"sAMAccountName": "jd"}, {"Domain.FQDN": "corp.contoso.com"}) == (
        "jd@corp.contoso.com"
    )


def test_cloud_filtered_rule() -> None:
    text = 'IIF(Left(LCase([department]), 3) = "hrd", True, NULL)'
    assert evaluate(text, department="HRD-Payroll") is True
    assert evaluate(text, department="Sales") is None


def test_description_multi_to_single() -> None:
    text = "IIF(IsNullOrEmpty([description]),NULL,Left(Trim(Item([description],1)),448))"
    assert evaluate(text, description=[" first ", "second"]) == "first"
    assert evaluate(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BitOr(&H1, &H4)", 5),
        ("IsBitSet(&H202, 2)", True),
        ("IsBitSet(&H202, 3)", False),
        ("IsEmpty([e])", True),
        ("IsEmpty([missing])", False),
        ("IsNull([e])", False),
        ("IsNullOrEmpty([e])", True),
        ("-[n] + 1", -4),
        ("[n] * 2 / 3", 3),
        ("[n] >= 5 && [n] <= 5", True),
        ("IsPresent([m])", True),
        ('CBool([m] = "b")', MultiValue([False, True])),
    ],
)
def test_evaluation_and_math(text: str, expected: object) -> None:
    assert evaluate(text, e="", n=5, m=["a", "b"]) == expected


def test_random_stays_in_range() -> None:
    values = {evaluate("RandomNum(100, 102)") for _ in range(200)}
    assert values == {100, 101, 102}
    assert 100 <= evaluate("Random(100, 999)") <= 999  # type: ignore[operator]


def test_errors_carry_the_position_of_the_failing_call() -> None:
    text = 'Left("x", 1) &\n  Item([p], 7)'
    with pytest.raises(ExpressionEvalError) as raised:
        evaluate(text, p=["a"])
    assert (raised.value.line, raised.value.column, raised.value.function) == (2, 3, "Item")


def test_operator_errors_carry_the_operator() -> None:
    with pytest.raises(ExpressionEvalError) as raised:
        evaluate('1 + "x"')
    assert (raised.value.column, raised.value.function) == (3, "+")


def test_errors_inside_select_are_located() -> None:
    with pytest.raises(ExpressionEvalError) as raised:
        evaluate("Select($v, [p], CNum($v))", p=["1", "x"])
    assert (raised.value.column, raised.value.function) == (17, "CNum")


def test_unsupported_input_values_are_evaluation_errors() -> None:
    with pytest.raises(ExpressionEvalError, match="unsupported value"):
        evaluate("LCase([x])", x=1.5)
