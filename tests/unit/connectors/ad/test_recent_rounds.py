"""The DirSync round a peek read is reused once, soon after, for the same request only."""

from __future__ import annotations

import pytest

from hybridsync.connectors.ad import connection
from hybridsync.connectors.ad.connection import RecentRounds

KEY = ("DC=corp", "(objectClass=user)", ("objectGUID",), b"cookie-1", 0)
ROUND = ([("CN=Ann,DC=corp", {"objectGUID": [b"g"]})], b"cookie-2", False)


def test_a_round_is_reused_once_for_the_same_request() -> None:
    rounds = RecentRounds()
    rounds.keep(KEY, ROUND)
    assert rounds.take(("DC=corp", "(objectClass=group)", *KEY[2:])) is None  # another filter
    rounds.keep(KEY, ROUND)
    assert rounds.take(KEY) == ROUND
    assert rounds.take(KEY) is None  # once


def test_a_round_kept_too_long_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(connection.time, "monotonic", lambda: now[0])
    rounds = RecentRounds()
    rounds.keep(KEY, ROUND)
    now[0] += RecentRounds.KEEP_SECONDS + 0.1
    assert rounds.take(KEY) is None


def test_a_large_round_is_not_kept() -> None:
    rounds = RecentRounds()
    entry = ROUND[0][0]
    rounds.keep(KEY, ([entry] * (RecentRounds.KEEP_ENTRIES + 1), b"cookie-2", True))
    assert rounds.take(KEY) is None
