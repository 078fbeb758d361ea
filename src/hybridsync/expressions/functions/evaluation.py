"""Evaluation (IsPresent, IsNull, IsDate, ...) and math (BitAnd, BitOr, RandomNum)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions.coerce import is_multi, multi, to_number, values_of
from hybridsync.expressions.datetimes import parse_datetime
from hybridsync.expressions.functions.conversion import GUID_FORMS
from hybridsync.expressions.signatures import FunctionSpec, function
from hybridsync.expressions.values import Reference


def is_present(value: object) -> bool:
    if type(value) is str:
        return value != ""
    if value is None:
        return False
    if is_multi(value):
        return bool(values_of(value))
    return True


def is_null(value: object) -> bool:
    return value is None or (is_multi(value) and not values_of(value))


def is_empty(value: object) -> bool:
    return value == ""


def is_null_or_empty(value: object) -> bool:
    return not is_present(value)


def _per_value(test: object, value: object) -> object:
    assert callable(test)
    if is_multi(value):
        return multi(test(item) for item in values_of(value)) or False
    return test(value)


def _converts(convert: Callable[[Any], object], item: object, refusal: type[Exception]) -> bool:
    """Whether ``convert`` takes ``item`` without raising ``refusal``."""
    try:
        convert(item)
    except refusal:
        return False
    return True


def _is_date(item: object) -> bool:
    if isinstance(item, datetime):
        return True
    return isinstance(item, str) and _converts(parse_datetime, item, ValueError)


def is_date(value: object) -> object:
    return _per_value(_is_date, value)


def is_guid(value: object) -> object:
    return _per_value(lambda item: isinstance(item, str) and bool(GUID_FORMS.fullmatch(
        item.strip())), value)  # fmt: skip


def _is_numeric(item: object) -> bool:
    return _converts(to_number, item, ExpressionEvalError)


def is_numeric(value: object) -> object:
    return _per_value(_is_numeric, value)


def is_string(value: object) -> object:
    return _per_value(lambda item: isinstance(item, str | int | Reference | datetime), value)


def is_bit_set(value: object, flag: object) -> bool:
    mask = to_number(flag, "flag")
    return to_number(value, "value") & mask == mask


def bit_and(left: object, right: object) -> int:
    return to_number(left) & to_number(right)


def bit_or(left: object, right: object) -> int:
    return to_number(left) | to_number(right)


def random_num(start: object, end: object) -> int:
    low, high = sorted((to_number(start, "start"), to_number(end, "end")))
    return random.randint(low, high)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    function("IsBitSet", "Evaluation", "bool", ("num", "num"), implementation=is_bit_set),
    function("IsDate", "Evaluation", "bool", ("var",), implementation=is_date, maps=True),
    function("IsEmpty", "Evaluation", "bool", ("var",), implementation=is_empty),
    function("IsGuid", "Evaluation", "bool", ("var",), implementation=is_guid, maps=True),
    function("IsNull", "Evaluation", "bool", ("var",), implementation=is_null),
    function("IsNullOrEmpty", "Evaluation", "bool", ("var",), implementation=is_null_or_empty),
    function("IsNumeric", "Evaluation", "bool", ("var",), implementation=is_numeric, maps=True),
    function("IsPresent", "Evaluation", "bool", ("var",), implementation=is_present),
    function("IsString", "Evaluation", "bool", ("var",), implementation=is_string, maps=True),
    function("BitAnd", "Math", "num", ("num", "num"), implementation=bit_and),
    function("BitOr", "Math", "num", ("num", "num"), implementation=bit_or),
    function("RandomNum", "Math", "num", ("num", "num"), implementation=random_num),
    function("Random", "Math", "num", ("num", "num"), implementation=random_num),
)
