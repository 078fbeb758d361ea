"""The sync service's loop: wakes, checks, small cycles, announcements and their refusal.

An LDIF source and the recording target; the service runs in a thread and the tests wait
for what it reports (cycles, checks, log events), never for time to pass.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from hybridsync.core.ports import ImportPage
from hybridsync.engine import CycleReport, Profile, Status
from hybridsync.engine import service as service_module
from hybridsync.engine.service import ServiceSettings, SyncService, has_changes
from hybridsync.errors import ChangeEventsUnavailable
from hybridsync.wiring import Built

WAIT = 30.0
"""The longest any wait here may take before the test fails (a hung service)."""


class Running:
    """A service in a thread: its cycles, checks and log events as queues."""

    def __init__(self, built: Built, settings: ServiceSettings) -> None:
        self.stop = threading.Event()
        self.cycles: queue.Queue[CycleReport] = queue.Queue()
        self.logged: queue.Queue[str] = queue.Queue()
        self.service = SyncService(
            built.engine,
            settings,
            self.stop,
            first_cycle="initial",
            on_cycle=self.cycles.put,
            log=lambda event, level="info", **fields: self.logged.put(event),
        )
        self.thread = threading.Thread(target=self.service.run, daemon=True)

    def next_cycle(self) -> CycleReport:
        return self.cycles.get(timeout=WAIT)

    def until_logged(self, wanted: str) -> None:
        while self.logged.get(timeout=WAIT) != wanted:
            pass


@contextmanager
def running(built: Built, **settings: float) -> Iterator[Running]:
    defaults: dict[str, float] = {"poll_seconds": 3600.0, "cycle_seconds": 3600.0,
                                  "settle_seconds": 0.01, "reconnect_seconds": 0.05}  # fmt: skip
    service = Running(built, ServiceSettings(**{**defaults, **settings}))
    service.thread.start()
    try:
        assert service.next_cycle().kind == "initial"
        yield service
    finally:
        service.stop.set()
        service.service.wake("ad")  # the loop notices the stop at once
        service.thread.join(WAIT)
        assert not service.thread.is_alive()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> queue.Queue[tuple[str, bool]]:
    """Every check the service makes of a source, with its answer."""
    seen: queue.Queue[tuple[str, bool]] = queue.Queue()

    def recorded(engine: Any, name: str) -> bool:
        answer = has_changes(engine, name)
        seen.put((name, answer))
        return answer

    monkeypatch.setattr(service_module, "has_changes", recorded)
    return seen


def imported(cycle: CycleReport) -> set[str]:
    return {run.connector for run in cycle.runs if run.profile is Profile.DELTA_IMPORT}


def test_an_idle_source_is_checked_and_records_no_run(
    world: Any, checks: queue.Queue[tuple[str, bool]]
) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    with running(built, poll_seconds=0.02) as service:
        runs_before = len(built.store.runs(1000))
        answers = [checks.get(timeout=WAIT) for _ in range(6)]
        assert {answer for _, answer in answers} == {False}
        assert service.cycles.empty()
    assert len(built.store.runs(1000)) == runs_before


def test_a_change_found_by_a_poll_is_one_small_cycle_of_that_source(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"))
    built = world.engine()
    with running(built, poll_seconds=0.02) as service:
        world.put(world.user("ann", department="Finance"))
        cycle = service.next_cycle()
    assert cycle.status == Status.SUCCESS
    # The woken source and the target, whose import confirmed the initial cycle's adds:
    # the export sends the one change, not those adds again.
    assert imported(cycle) == {"ad", "cloud"}
    exports = [run for run in cycle.runs if run.profile is Profile.EXPORT]
    assert [dict(run.counts) for run in exports] == [{"update": 1}]
    assert world.by_upn(built)["ann@contoso.com"]["department"] == "Finance"


def test_wakes_that_come_together_are_one_cycle(
    world: Any, checks: queue.Queue[tuple[str, bool]]
) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    with running(built, settle_seconds=0.2) as service:
        world.put(world.user("ann", department="Finance"))
        for _ in range(20):
            service.service.wake("ad")
        assert service.next_cycle().status == Status.SUCCESS
        assert checks.get(timeout=WAIT) == ("ad", True)
        assert checks.empty()  # twenty wakes, one check, one cycle
        assert service.cycles.empty()


class RecordedEvent(threading.Event):
    """An event that records the timeout of every wait on it."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.timeouts.append(timeout)
        return super().wait(timeout)


def test_a_burst_still_announcing_after_a_cycle_is_waited_out_longer(world: Any) -> None:
    # A DC under load writes a bulk change with gaps longer than one change's settle
    # time: announced while a cycle ran, the next wake waits for the longer quiet.
    world.set_users(world.user("ann"))
    built = world.engine()
    source = built.engine.context.connectors["ad"]
    during_cycle: list[bool] = []
    with running(built, burst_settle_seconds=0.25) as service:
        waits = RecordedEvent()
        service.service._wakes.event = waits
        inner = source.delta_import

        def announced_while_importing(watermark: str) -> Any:
            if not during_cycle:  # the bulk change's next write, as the first one is read
                during_cycle.append(True)
                service.service.wake("ad")
            return inner(watermark)

        source.delta_import = announced_while_importing  # type: ignore[method-assign]
        world.put(world.user("ann", department="Finance"))
        service.service.wake("ad")
        assert service.next_cycle().status == Status.SUCCESS
        world.put(world.user("ann", department="Legal"))
        service.next_cycle()
    settles = [t for t in waits.timeouts if t in (0.01, 0.25)]
    assert settles[0] == 0.01  # the first change: a single change's settle
    assert 0.25 in settles  # announced during the cycle: the burst's


class Announcing:
    """The LDIF source, plus a feed of announcements the test controls."""

    def __init__(self, inner: Any, feed: Any) -> None:
        self._inner = inner
        self._feed = feed
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.attribute_list = inner.attribute_list

    def parameters(self) -> Mapping[str, str]:
        result: Mapping[str, str] = self._inner.parameters()
        return result

    def full_import(self) -> Iterator[ImportPage]:
        return self._inner.full_import()  # type: ignore[no-any-return]

    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        return self._inner.delta_import(watermark)  # type: ignore[no-any-return]

    def change_events(self) -> Any:
        return self._feed


class Feed:
    """Announces a change each time ``announce`` is called."""

    def __init__(self) -> None:
        self.pending = threading.Event()

    def announce(self) -> None:
        self.pending.set()

    def wait(self, timeout: float) -> bool:
        announced = self.pending.wait(timeout)
        self.pending.clear()
        return announced

    def close(self) -> None:
        pass


class Refusing(Feed):
    def wait(self, timeout: float) -> bool:
        raise ChangeEventsUnavailable("the server refuses change notifications")


def with_feed(built: Built, feed: Feed) -> None:
    connectors = built.engine.context.connectors
    connectors["ad"] = Announcing(connectors["ad"], feed)


def test_an_announcement_carries_a_change_that_no_poll_would_see_soon(
    world: Any, checks: queue.Queue[tuple[str, bool]]
) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    feed = Feed()
    with_feed(built, feed)
    with running(built) as service:  # polls and complete cycles an hour away
        service.until_logged("service.listening")
        assert checks.get(timeout=WAIT) == ("ad", False)  # the look taken once listening
        world.put(world.user("ann", title="Engineer"))
        feed.announce()
        cycle = service.next_cycle()
    assert imported(cycle) == {"ad", "cloud"}
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Engineer"


def test_a_source_that_refuses_announcements_is_polled(world: Any) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    with_feed(built, Refusing())
    with running(built, poll_seconds=0.02) as service:
        service.until_logged("service.notifications_refused")
        world.put(world.user("ann", title="Engineer"))
        cycle = service.next_cycle()
    assert imported(cycle) == {"ad", "cloud"}
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Engineer"
