""".NET custom date/time format strings, invariant culture (FormatDateTime)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

_STANDARD = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
}

_TOKEN = re.compile(
    r"y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|K|z+|g+|'[^']*'|\"[^\"]*\"|\\.|%|.",
    re.DOTALL,
)


def _year(n: int, value: datetime) -> str:
    return (
        str(value.year % 100)
        if n == 1
        else (f"{value.year % 100:02d}" if n == 2 else f"{value.year:0{n}d}")
    )


def _month(n: int, value: datetime) -> str:
    if n >= 4:
        return _MONTHS[value.month - 1]
    if n == 3:
        return _MONTHS[value.month - 1][:3]
    return f"{value.month:0{n}d}"


def _day(n: int, value: datetime) -> str:
    if n >= 4:
        return _DAYS[value.weekday()]
    if n == 3:
        return _DAYS[value.weekday()][:3]
    return f"{value.day:0{n}d}"


def _fraction(n: int, value: datetime, trim: bool) -> str:
    digits = f"{value.microsecond:06d}0"[:n]
    return digits.rstrip("0") if trim else digits


def _hour12(value: datetime) -> int:
    return value.hour % 12 or 12


def _two(n: int, number: int) -> str:
    return f"{number:0{min(n, 2)}d}"


_FIELDS: dict[str, Callable[[int, datetime], str]] = {
    "y": _year,
    "M": _month,
    "d": _day,
    "H": lambda n, v: _two(n, v.hour),
    "h": lambda n, v: _two(n, _hour12(v)),
    "m": lambda n, v: _two(n, v.minute),
    "s": lambda n, v: _two(n, v.second),
    "f": lambda n, v: _fraction(n, v, trim=False),
    "F": lambda n, v: _fraction(n, v, trim=True),
    "t": lambda n, v: (
        ("AM" if v.hour < 12 else "PM")[:n] if n < 2 else ("AM" if v.hour < 12 else "PM")
    ),
    "K": lambda n, v: "Z",
    "z": lambda n, v: "+0" if n == 1 else ("+00" if n == 2 else "+00:00"),
    "g": lambda n, v: "A.D.",
}


def format_datetime(value: datetime, pattern: str) -> str:
    """Format a UTC ``value`` with a .NET custom (or one-letter standard) format string.

    Raises:
        ValueError: a one-letter format that is not a standard format, or too many
        fraction digits.
    """
    if len(pattern) == 1:
        if pattern not in _STANDARD:
            raise ValueError(f"unknown standard date format {pattern!r}")
        pattern = _STANDARD[pattern]
    out: list[str] = []
    for token in _TOKEN.findall(pattern):
        head = token[0]
        if head in "'\"":
            out.append(token[1:-1])
        elif head == "\\":
            out.append(token[1:])
        elif head == "%":
            continue
        elif head in _FIELDS:
            if head in "fF" and len(token) > 7:
                raise ValueError("at most 7 fraction digits (f) are allowed")
            out.append(_FIELDS[head](len(token), value))
        else:
            out.append(token)
    return "".join(out)
