"""Parsing and formatting of date/time values (CDate, FormatDateTime, FILETIME).

Every date/time value of the language is a timezone-aware ``datetime`` in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
)
_GENERALIZED = re.compile(
    r"(?P<y>\d{4})(?P<m>\d\d)(?P<d>\d\d)(?P<H>\d\d)(?P<M>\d\d)(?P<S>\d\d)(?:\.(?P<f>\d{1,7}))?"
    r"(?P<z>Z|[+-]\d{4})?"
)
_TIME = re.compile(
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,7}))?)?"
    r"(?:\s*(?P<ampm>[AaPp][Mm]))?)?"
    r"\s*(?P<z>Z|[+-]\d{1,2}(?::?\d{2})?)?",
)

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF
"""AD's "never" (accountExpires); DateFromNum gives Null for it."""


def _zone(text: str | None) -> timedelta:
    if not text or text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    if int(hours) > 14 or int(minutes) > 59:
        raise ValueError(f"time zone offset out of range: {text}")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def _hour(text: str | None, ampm: str | None) -> int:
    hour = int(text or 0)
    if ampm is None:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError("an AM/PM hour must be between 1 and 12")
    return hour % 12 + (12 if ampm.upper() == "PM" else 0)


def _build(parts: dict[str, str | None], hour: int) -> datetime:
    fraction = (parts.get("f") or "0").ljust(6, "0")[:6]
    local = datetime(
        int(parts["y"] or 0),
        int(parts["m"] or 0),
        int(parts["d"] or 0),
        hour,
        int(parts.get("M") or 0),
        int(parts.get("S") or 0),
        int(fraction),
        tzinfo=UTC,
    )
    return local - _zone(parts.get("z"))


def parse_datetime(text: str) -> datetime:
    """Parse a date/time string with an optional zone offset; the result is in UTC.

    Accepted: ``yyyy-M-d``, ``M/d/yyyy``, ``yyyy/M/d``, each optionally followed by a
    time ``H:mm[:ss[.fffffff]]`` (with ``AM``/``PM``) and a zone (``Z``, ``-8``,
    ``+05:30``, ``+0530``); ISO ``T`` separators; and the LDAP generalized time
    ``yyyyMMddHHmmss[.f]Z``. A string without a zone is UTC.

    Raises:
        ValueError: the text is not one of these forms, or names an impossible date.
    """
    text = text.strip()
    generalized = _GENERALIZED.fullmatch(text)
    if generalized:
        parts = generalized.groupdict()
        return _build(parts, int(parts["H"] or 0))
    for form in _DATE_FORMS:
        date = form.match(text)
        if date is None:
            continue
        rest = _TIME.fullmatch(text[date.end() :])
        if rest is None:
            break
        parts = {**date.groupdict(), **rest.groupdict()}
        return _build(parts, _hour(parts["H"], parts["ampm"]))
    raise ValueError(f"not a date: {text!r}")


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_filetime(ticks: int) -> datetime | None:
    """An AD integer date (100 ns ticks since 1601-01-01 UTC); None for "never"."""
    if ticks == FILETIME_NEVER:
        return None
    if ticks < 0:
        raise ValueError(f"an AD date cannot be negative: {ticks}")
    return FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def to_filetime(value: datetime) -> int:
    """The AD integer date of ``value``."""
    delta = as_utc(value) - FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def iso(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, seconds precision unless there are fractions."""
    text = as_utc(value).replace(tzinfo=None).isoformat()
    return f"{text}Z"
