"""The binary operators of the language and the truth of conditions.

Decisions (docs/expressions.md): ``&`` treats Null as ""; arithmetic with a Null operand
gives Null; ``=`` is true for two Nulls and false for Null and a value; string
comparison is case-sensitive (ordinal); a multi-valued operand applies the operator to
every value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions.coerce import (
    check_int64,
    fail,
    is_multi,
    kind,
    multi,
    single,
    to_bool,
    to_datetime,
    to_number,
    to_text,
    values_of,
)
from hybridsync.expressions.values import MultiValue, Reference

Binary = Callable[[object, object], object]


def _spread(operator: Binary, left: object, right: object, symbol: str) -> object:
    if is_multi(left) and is_multi(right):
        left_values, right_values = values_of(left), values_of(right)
        if len(left_values) <= 1 or len(right_values) <= 1:
            return operator(single(left, symbol), single(right, symbol))
        if len(left_values) == len(right_values):
            # Both come value by value from the same attribute: combine position by position.
            return multi(map(operator, left_values, right_values))
        fail(
            f"'{symbol}' cannot combine multi-valued values of different lengths "
            f"({len(left_values)} and {len(right_values)})"
        )
    if is_multi(left):
        return multi(operator(item, right) for item in values_of(left))
    return multi(operator(left, item) for item in values_of(right))


def concat(left: object, right: object) -> object:
    if type(left) is str and type(right) is str:
        return left + right
    if is_multi(left) or is_multi(right):
        return _spread(concat, left, right, "&")
    return ("" if left is None else to_text(left, "an operand of '&'")) + (
        "" if right is None else to_text(right, "an operand of '&'")
    )


def _arithmetic(symbol: str, compute: Callable[[int, int], int]) -> Binary:
    def operator(left: object, right: object) -> object:
        if is_multi(left) or is_multi(right):
            return _spread(operator, left, right, symbol)
        if left is None or right is None:
            return None
        role = f"an operand of '{symbol}'"
        return check_int64(compute(to_number(left, role), to_number(right, role)))

    return operator


def _divide(left: int, right: int) -> int:
    if right == 0:
        fail("division by zero")
    quotient = abs(left) // abs(right)
    return quotient if (left >= 0) == (right >= 0) else -quotient


add = _arithmetic("+", lambda a, b: a + b)
subtract = _arithmetic("-", lambda a, b: a - b)
multiply = _arithmetic("*", lambda a, b: a * b)
divide = _arithmetic("/", _divide)


def negate(operand: object) -> object:
    if is_multi(operand):
        return multi(negate(item) for item in values_of(operand))
    if operand is None:
        return None
    return check_int64(-to_number(operand, "the operand of '-'"))


_COMPARED_AS: tuple[tuple[type, Callable[[object], object]], ...] = (
    (bool, to_bool),  # before int: a bool is an int
    (int, to_number),
    (datetime, to_datetime),
)
"""When either operand is of the kind, both are converted to it to be compared."""


def _comparable(left: object, right: object) -> tuple[object, object] | None:
    """Both operands brought to one kind, or None when the kinds cannot be compared."""
    for wanted, convert in _COMPARED_AS:
        if isinstance(left, wanted) or isinstance(right, wanted):
            try:
                return convert(left), convert(right)
            except ExpressionEvalError:
                return None
    if isinstance(left, Reference) or isinstance(right, Reference):
        # Distinguished names compare without regard to case, as the directory does.
        if isinstance(left, Reference | str) and isinstance(right, Reference | str):
            return str(left).lower(), str(right).lower()
        return None
    if type(left) is type(right) and isinstance(left, str | bytes):
        return left, right
    return None


def equal(left: object, right: object) -> object:
    if type(left) is str and type(right) is str:
        return left == right
    if is_multi(left) or is_multi(right):
        return _spread(equal, left, right, "=")
    if left is None or right is None:
        return left is None and right is None
    pair = _comparable(left, right)
    return pair is not None and pair[0] == pair[1]


def not_equal(left: object, right: object) -> object:
    result = equal(left, right)
    if isinstance(result, MultiValue):
        return MultiValue(not item for item in result)
    return not result


def _ordering(symbol: str, test: Callable[[int], bool]) -> Binary:
    def operator(left: object, right: object) -> object:
        if is_multi(left) or is_multi(right):
            return _spread(operator, left, right, symbol)
        if left is None or right is None:
            return False
        pair = _comparable(left, right)
        if pair is None or isinstance(pair[0], bool):
            fail(f"'{symbol}' cannot compare {kind(left)} with {kind(right)}")
        a, b = pair
        return test(0 if a == b else (-1 if a < b else 1))  # type: ignore[operator]

    return operator


less = _ordering("<", lambda c: c < 0)
less_equal = _ordering("<=", lambda c: c <= 0)
greater = _ordering(">", lambda c: c > 0)
greater_equal = _ordering(">=", lambda c: c >= 0)

BINARY: dict[str, Binary] = {
    "&": concat,
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "=": equal,
    "<>": not_equal,
    "<": less,
    "<=": less_equal,
    ">": greater,
    ">=": greater_equal,
}


def condition(value: object) -> object:
    """The truth of an IIF condition: a bool, or a MultiValue of bools for multi input."""
    if value is True or value is False:
        return value
    if is_multi(value):
        present = values_of(value)
        return MultiValue(to_bool(item) for item in present) if present else False
    return to_bool(value)


def truth(value: object, role: str) -> bool:
    """The truth of a condition that must be a single value (&&, ||, Switch, Where)."""
    if value is True or value is False:
        return value
    return to_bool(value, role)
