"""Expression results as stored values: references kept, dates in one stable form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hybridsync.core.convert import as_values
from hybridsync.core.values import Reference
from hybridsync.expressions import MultiValue


def test_a_reference_result_stays_a_reference() -> None:
    boss = Reference("CN=Boss,OU=Staff,DC=corp,DC=contoso,DC=com")
    assert as_values(boss) == (boss,)
    assert as_values(MultiValue([boss, None])) == (boss,)


def test_dates_are_iso_8601_utc_whatever_their_zone() -> None:
    paris = timezone(timedelta(hours=1))
    same_instant = [
        datetime(2026, 11, 22, 1, 30, tzinfo=UTC),
        datetime(2026, 11, 22, 2, 30, tzinfo=paris),
    ]
    assert {as_values(d) for d in same_instant} == {("2026-11-22T01:30:00Z",)}


def test_plain_values_are_unchanged() -> None:
    assert as_values(None) == ()
    assert as_values(("a", 2, True, b"\x00", 3.0)) == ("a", 2, True, b"\x00", 3)
