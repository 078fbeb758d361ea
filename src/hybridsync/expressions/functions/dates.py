"""Date/time functions: DateAdd, DateFromNum, FormatDateTime, Now, NumFromDate."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from hybridsync.expressions.coerce import (
    fail,
    is_multi,
    multi,
    to_datetime,
    to_number,
    to_text,
    values_of,
)
from hybridsync.expressions.datetimes import from_filetime, to_filetime
from hybridsync.expressions.dotnet_format import format_datetime
from hybridsync.expressions.signatures import FunctionSpec, function

_DAY_UNITS = {"y": 1, "d": 1, "w": 1, "ww": 7}
_TIME_UNITS = {"h": 3600, "n": 60, "s": 1}
_MONTH_UNITS = {"yyyy": 12, "q": 3, "m": 1}


def _add_months(value: datetime, months: int) -> datetime:
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        fail("DateAdd went outside the years 1 to 9999")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def date_add(interval: object, number: object, date: object) -> object:
    if date is None:
        return None
    unit = to_text(interval, "interval")
    amount = to_number(number, "number")
    start = to_datetime(date)
    try:
        if unit in _MONTH_UNITS:
            return _add_months(start, amount * _MONTH_UNITS[unit])
        if unit in _DAY_UNITS:
            return start + timedelta(days=amount * _DAY_UNITS[unit])
        if unit in _TIME_UNITS:
            return start + timedelta(seconds=amount * _TIME_UNITS[unit])
    except OverflowError:
        fail("DateAdd went outside the years 1 to 9999")
    fail(f"unknown DateAdd interval {unit!r}: use yyyy, q, m, y, d, w, ww, h, n or s")


def _from_number(item: object) -> object:
    try:
        return from_filetime(to_number(item, "the AD date"))
    except (ValueError, OverflowError) as error:
        fail(f"not an AD date: {error}")


def date_from_num(value: object) -> object:
    if value is None:
        return None
    if is_multi(value):
        return multi(_from_number(item) for item in values_of(value))
    return _from_number(value)


def format_date_time(value: object, pattern: object) -> object:
    if value is None:
        return None
    form = to_text(pattern, "format")
    try:
        if is_multi(value):
            return multi(format_datetime(to_datetime(item), form) for item in values_of(value))
        return format_datetime(to_datetime(value), form)
    except ValueError as error:
        fail(str(error))


def now() -> datetime:
    return datetime.now(UTC)


def num_from_date(value: object) -> object:
    if value is None:
        return None
    if is_multi(value):
        return multi(to_filetime(to_datetime(item)) for item in values_of(value))
    return to_filetime(to_datetime(value))


FUNCTIONS: tuple[FunctionSpec, ...] = (
    function("DateAdd", "Date/Time", "dt", ("str", "num", "dt"), implementation=date_add),
    function("DateFromNum", "Date/Time", "dt", ("num",), implementation=date_from_num),
    function(
        "FormatDateTime", "Date/Time", "str", ("dt", "str"),
        implementation=format_date_time, maps=True,
    ),
    function("Now", "Date/Time", "dt", (), implementation=now),
    function("NumFromDate", "Date/Time", "num", ("dt",), implementation=num_from_date),
)  # fmt: skip
