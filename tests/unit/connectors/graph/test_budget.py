"""The write budget: writes wait until they fit in every quota."""

from __future__ import annotations

import threading

import pytest
from tests.unit.connectors.graph.support import Sleeps

from hybridsync.connectors.graph.budget import ExportProgress, ProgressMeter, WriteBudget
from hybridsync.connectors.graph.config import WriteQuota


def send(budget: WriteBudget, count: int) -> None:
    budget.acquire(count)
    budget.release(count)


def test_writes_within_the_quota_do_not_wait() -> None:
    sleeps = Sleeps()
    budget = WriteBudget(
        [WriteQuota(requests=40, per_seconds=10)], clock=sleeps.clock, sleep=sleeps
    )
    send(budget, 20)
    send(budget, 20)
    assert sleeps.delays == []


def test_a_write_over_the_quota_waits_for_the_window_to_free_up() -> None:
    sleeps = Sleeps()
    budget = WriteBudget(
        [WriteQuota(requests=40, per_seconds=10)], clock=sleeps.clock, sleep=sleeps
    )
    send(budget, 20)
    sleeps(3)  # time passes
    send(budget, 20)
    send(budget, 20)
    # 7 s until the first writes leave the window, plus the margin (2% + 0.2 s).
    assert sleeps.delays[1:] == [pytest.approx(7.4)]


def test_the_strictest_quota_wins() -> None:
    sleeps = Sleeps()
    quotas = [WriteQuota(requests=100, per_seconds=10), WriteQuota(requests=30, per_seconds=60)]
    budget = WriteBudget(quotas, clock=sleeps.clock, sleep=sleeps)
    send(budget, 20)
    send(budget, 20)
    assert sleeps.delays == [pytest.approx(61.4)]
    assert budget.sustained_rate() == pytest.approx(0.5)


def test_writes_in_flight_hold_their_place_until_answered() -> None:
    sleeps = Sleeps()
    budget = WriteBudget(
        [WriteQuota(requests=40, per_seconds=10)], clock=sleeps.clock, sleep=sleeps
    )
    budget.acquire(20)
    budget.acquire(20)
    acquired = threading.Event()
    waiter = threading.Thread(target=lambda: (budget.acquire(20), acquired.set()))
    waiter.start()
    assert not acquired.wait(0.2), "a third batch must wait while two are in flight"
    sleeps(5)
    budget.release(20)  # answered at t+5: these writes count until t+15.4
    budget.release(20)
    waiter.join(5)
    assert acquired.is_set()
    # The waiter then had to wait the full span after the answers, not after the sends.
    assert sleeps.delays[-1] == pytest.approx(10.4)


def test_a_request_larger_than_a_quota_is_a_configuration_mistake() -> None:
    budget = WriteBudget([WriteQuota(requests=10, per_seconds=1)])
    with pytest.raises(ValueError, match="exceed"):
        send(budget, 20)


def test_eta_uses_the_slower_of_observed_speed_and_quota() -> None:
    sleeps = Sleeps()
    budget = WriteBudget(
        [WriteQuota(requests=20, per_seconds=10)], clock=sleeps.clock, sleep=sleeps
    )
    seen: list[ExportProgress] = []
    meter = ProgressMeter(100, budget, seen.append, clock=sleeps.clock)
    sleeps(1)
    meter.advance(10)  # observed 10/s, quota 2/s: 90 left at 2/s
    assert seen[-1].eta_seconds == pytest.approx(45)
    meter.advance(90)
    assert seen[-1].eta_seconds == 0.0
