"""Date/time functions, beyond the shared vectors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.unit.expressions.support import evaluate

from hybridsync.errors import ExpressionEvalError


@pytest.mark.parametrize(
    ("interval", "number", "expected"),
    [
        ("yyyy", 1, datetime(2001, 1, 31, tzinfo=UTC)),
        ("q", 1, datetime(2000, 4, 30, tzinfo=UTC)),
        ("m", 1, datetime(2000, 2, 29, tzinfo=UTC)),
        ("d", -31, datetime(1999, 12, 31, tzinfo=UTC)),
        ("y", 1, datetime(2000, 2, 1, tzinfo=UTC)),
        ("w", 2, datetime(2000, 2, 2, tzinfo=UTC)),
        ("ww", 1, datetime(2000, 2, 7, tzinfo=UTC)),
        ("h", 25, datetime(2000, 2, 1, 1, tzinfo=UTC)),
        ("n", 90, datetime(2000, 1, 31, 1, 30, tzinfo=UTC)),
        ("s", 61, datetime(2000, 1, 31, 0, 1, 1, tzinfo=UTC)),
    ],
)
def test_date_add(interval: str, number: int, expected: datetime) -> None:
    assert evaluate(f'DateAdd("{interval}", {number}, CDate("2000-01-31"))') == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('CDate("2020-05-01T10:20:30+02:00")', datetime(2020, 5, 1, 8, 20, 30, tzinfo=UTC)),
        ('CDate("20140905081453.0Z")', datetime(2014, 9, 5, 8, 14, 53, tzinfo=UTC)),
        ('CDate("1/2/2003 12:00 AM")', datetime(2003, 1, 2, tzinfo=UTC)),
        ('CDate("2003-01-02 5:30 +0530")', datetime(2003, 1, 2, tzinfo=UTC)),
    ],
)
def test_cdate_forms(text: str, expected: datetime) -> None:
    assert evaluate(text) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd HH:mm:ss", "2012-01-01 23:05:09"),
        ("d MMM yy h:m tt", "1 Jan 12 11:5 PM"),
        ("dddd, MMMM dd", "Sunday, January 01"),
        ("'year' yyyy \\y", "year 2012 y"),
        ("s", "2012-01-01T23:05:09"),
        ("o", "2012-01-01T23:05:09.0000000Z"),
        ("HH:mm:ss.fff K", "23:05:09.000 Z"),
    ],
)
def test_format_date_time(pattern: str, expected: str) -> None:
    when = datetime(2012, 1, 1, 23, 5, 9, tzinfo=UTC)
    assert evaluate("FormatDateTime([d], [p])", d=when, p=pattern) == expected


def test_naive_datetimes_are_utc() -> None:
    assert evaluate("NumFromDate([d])", d=datetime(2012, 1, 1, 23)) == 129699324000000000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('CDate("yesterday")', "not a date"),
        ('CDate("2001-02-30")', "day is out of range"),
        ('DateAdd("x", 1, Now())', "unknown DateAdd interval"),
        ('DateAdd("yyyy", 9000, Now())', "outside the years"),
        ("DateFromNum(-1)", "cannot be negative"),
        ('FormatDateTime(Now(), "Q")', "unknown standard date format"),
        ('CDate("2001-01-01 13:00 PM")', "between 1 and 12"),
    ],
)
def test_date_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionEvalError, match=message):
        evaluate(text)
