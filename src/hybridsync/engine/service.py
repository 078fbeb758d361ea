"""The sync service: a change in a source reaches the targets in one small cycle.

The service keeps one engine (connections, tokens, compiled rules, store) open and
waits instead of polling on a timer:

- A source that announces changes (AD's change notifications) wakes it through a
  watcher thread; a source that cannot, or whose server refuses, is polled every
  ``poll_seconds``.
- A wake is checked before anything is recorded: the source's delta is read from the
  stored watermark without storing it (one small request, one DirSync call for AD). A
  wake that finds nothing (a notification about an object out of scope, a poll with no
  change) ends there, so an idle service writes no runs.
- Wakes that arrive together are settled into one small cycle: import and sync of the
  sources that changed and of the targets (whose delta import confirms the last
  exports), export of every target. A burst of changes is a handful of cycles, not one
  per change.
- Every ``cycle_seconds`` a complete delta cycle imports every connector: the cloud's
  delta, for drift and for the confirmation of exports, and any gap a lost
  notification connection left.

Every cycle is an ordinary engine cycle, so the deletion threshold, staging mode and
the empty-source guard apply to each small cycle as to any other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from hybridsync.core.ports import (
    AnnouncesChanges,
    ChangeEvents,
    SupportsDeltaImport,
    attribute_hash,
)
from hybridsync.engine.report import CycleReport
from hybridsync.engine.runner import Engine
from hybridsync.errors import ChangeEventsUnavailable, ConnectorError, HybridsyncError

__all__ = ["ServiceBusy", "ServiceSettings", "ServiceStopped", "SyncService", "has_changes"]


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """How the service waits; seconds throughout."""

    poll_seconds: float = 5.0
    """Between checks of a source that cannot announce its changes."""
    cycle_seconds: float = 60.0
    """Between complete delta cycles (every connector imported, the cloud included)."""
    settle_seconds: float = 0.05
    """Quiet time that ends a burst of announcements."""
    burst_settle_seconds: float = 0.3
    """Quiet time that ends a burst still announcing when the last cycle ended: a DC under
    load writes a bulk change with gaps longer than ``settle_seconds``."""
    settle_limit_seconds: float = 1.0
    """The longest a burst is waited out before its cycle starts anyway."""
    reconnect_seconds: float = 5.0
    """Before a lost notification connection is opened again."""
    export: bool = True
    """``False``: cycles import and sync only; exports wait for an applied plan."""


@dataclass(slots=True)
class _Request:
    """Work asked of the service's thread (sync on demand), and its answer."""

    work: Callable[[], object]
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


class ServiceStopped(HybridsyncError):
    """The service stopped (or reloads its configuration) before it did the work asked."""


class ServiceBusy(ServiceStopped):
    """The service runs, but its cycle in progress kept it from the work in time."""


@dataclass(slots=True)
class _Wakes:
    """Sources with an announced or suspected change, handed from watchers to the loop."""

    event: threading.Event = field(default_factory=threading.Event)
    names: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    since: float | None = None
    """When the first wake not yet taken arrived (``time.monotonic()``)."""

    def add(self, name: str) -> None:
        with self.lock:
            self.names.add(name)
            if self.since is None:
                self.since = time.monotonic()
        self.event.set()

    def take(self) -> set[str]:
        with self.lock:
            taken, self.names, self.since = self.names, set(), None
            self.event.clear()
        return taken


Log = Callable[..., None]
"""``log(event, level="info", **fields)``."""
_LOOK_AROUND_SECONDS = 2.0


def _quiet(event: str, level: str = "info", **fields: object) -> None:
    """The default log: say nothing."""


class SyncService:
    """Runs cycles for one engine until ``stop`` is set or ``restart`` says so."""

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        stop: threading.Event,
        *,
        first_cycle: str = "delta",
        guard: Callable[[], AbstractContextManager[object]] = nullcontext,
        restart: Callable[[], bool] = lambda: False,
        on_cycle: Callable[[CycleReport], None] = lambda cycle: None,
        log: Log = _quiet,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._stop = stop
        self._first_cycle = first_cycle
        self._guard = guard
        self._restart = restart
        self._on_cycle = on_cycle
        self._log = log
        self._wakes = _Wakes()
        self._threads: list[threading.Thread] = []
        self.cycles: list[CycleReport] = []
        self._cycle_ended = 0.0
        """When the last cycle ended (``time.monotonic()``)."""
        self._failures = 0
        """Cycles in a row in which a source's run stopped."""
        self._requests: list[_Request] = []
        self._requests_lock = threading.Lock()
        self._serving = True
        self.woken_at: float | None = None
        """During a small cycle: when the wake that started it arrived (``time.monotonic()``),
        for ``on_cycle`` to measure wake-to-export time; ``None`` otherwise."""

    @property
    def engine(self) -> Engine:
        """The service's engine: use it only from work given to :meth:`call`."""
        return self._engine

    def run(self) -> None:
        """The first cycle, then small and complete cycles as changes and time ask."""
        self._cycle(self._first_cycle, None)
        self._watch_sources()
        try:
            self._loop()
        finally:
            self._refuse_requests()
            self._wakes.event.set()  # watchers look at ``stop`` between waits
            for thread in self._threads:
                thread.join(self._settings.reconnect_seconds + 2.0)

    def wake(self, name: str) -> None:
        """Ask for a check of ``name`` now, as an announcement would (sync on demand)."""
        self._wakes.add(name)

    def call(self, work: Callable[[], object], timeout: float) -> object:
        """Run ``work`` in the service's thread, between cycles and under its lock (sync
        on demand: the engine and its store belong to that thread); its result, or what
        it raised.

        Raises:
            ServiceStopped: the service stopped first, or did not get to it in ``timeout``.
        """
        request = _Request(work)
        with self._requests_lock:
            if not self._serving:
                raise ServiceStopped("the service is stopping or reloading; try again")
            self._requests.append(request)
        self._wakes.event.set()
        if not request.done.wait(timeout):
            with self._requests_lock:
                if request in self._requests:
                    self._requests.remove(request)
                    raise ServiceBusy(f"the service was busy for {timeout:g} s; try again")
            request.done.wait()  # it started meanwhile: its answer comes
        if request.error is not None:
            raise request.error
        return request.result

    def _serve_requests(self) -> None:
        while True:
            with self._requests_lock:
                if not self._requests:
                    return
                request = self._requests.pop(0)
            try:
                with self._guard():
                    request.result = request.work()
            except Exception as exc:  # handed to the caller's thread, which raises it
                request.error = exc
            finally:
                request.done.set()

    def _refuse_requests(self) -> None:
        with self._requests_lock:
            self._serving, waiting, self._requests = False, self._requests, []
        for request in waiting:
            request.error = ServiceStopped("the service stopped before it got to it")
            request.done.set()

    # --- the loop -----------------------------------------------------------------------

    def _loop(self) -> None:
        settings = self._settings
        next_complete = time.monotonic() + settings.cycle_seconds
        while not self._stopping():
            # Wake at least every few seconds to notice a stop or a changed configuration.
            due = max(0.0, next_complete - time.monotonic())
            woken = self._wakes.event.wait(min(due, _LOOK_AROUND_SECONDS))
            if self._stopping():
                return
            self._serve_requests()
            if time.monotonic() >= next_complete:
                self._wakes.take()  # the complete cycle reads every source anyway
                self._cycle("delta", None)
                next_complete = time.monotonic() + settings.cycle_seconds
            elif woken:
                self.woken_at = self._wakes.since
                changed = [name for name in self._settle() if self._has_changes(name)]
                if changed:
                    self._cycle("delta", self._small_cycle_of(changed))
                self.woken_at = None

    def _small_cycle_of(self, changed: list[str]) -> list[str]:
        """The woken sources and every target. A target's delta import confirms what the
        last cycle exported to it: an export re-sends every value no import confirmed
        yet, so without it each small cycle would send the previous ones' changes again."""
        targets = self._engine.context.targets()
        return [*changed, *(name for name in targets if name not in changed)]

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._restart()

    def _settle(self) -> set[str]:
        """The sources woken until announcements pause (or the limit is reached)."""
        settings = self._settings
        since = self._wakes.since
        # Announced while the last cycle ran: a burst is going on, and its next changes
        # may come with gaps longer than a single change's settle time.
        in_burst = since is not None and since < self._cycle_ended
        quiet = settings.burst_settle_seconds if in_burst else settings.settle_seconds
        names = self._wakes.take()
        deadline = time.monotonic() + settings.settle_limit_seconds
        while time.monotonic() < deadline and self._wakes.event.wait(quiet):
            names |= self._wakes.take()
        return names

    def _has_changes(self, name: str) -> bool:
        try:
            return has_changes(self._engine, name)
        except HybridsyncError as exc:
            # The cycle's own import reports the failure as a run, with its status.
            self._log("service.check_failed", level="warning", connector=name, error=str(exc))
            return True

    def _cycle(self, kind: str, only: Collection[str] | None) -> None:
        try:
            with self._guard():
                cycle = self._engine.cycle(kind, only=only, export=self._settings.export)
        except HybridsyncError as exc:
            self._cycle_ended = time.monotonic()
            # Another process holds the sync lock, or the store failed outside a run:
            # the sources stay to check, and the next wake or complete cycle retries.
            self._log("service.cycle_skipped", level="warning", error=str(exc))
            for name in only or ():
                self._wakes.names.add(name)
            return
        self._cycle_ended = time.monotonic()
        self.cycles.append(cycle)
        self._on_cycle(cycle)
        self._retry_stopped(cycle)

    def _retry_stopped(self, cycle: CycleReport) -> None:
        """A source whose run stopped (its DC restarting, say) is looked at again later,
        sooner after the first failure than after the tenth: no announcement may come for
        the change that is still waiting."""
        stopped = {run.connector for run in cycle.runs if run.status.stopped}
        sources = stopped & set(self._engine.context.sources())
        if not sources:
            self._failures = 0
            return
        self._failures += 1
        settings = self._settings
        delay = min(settings.reconnect_seconds * 2 ** (self._failures - 1), settings.cycle_seconds)
        for name in sorted(sources):
            timer = threading.Timer(delay, self._wakes.add, (name,))
            timer.daemon = True
            timer.start()

    # --- watchers -----------------------------------------------------------------------

    def _watch_sources(self) -> None:
        for name in self._engine.context.sources():
            connector = self._engine.context.connector(name)
            if isinstance(connector, AnnouncesChanges):
                thread = threading.Thread(target=self._listen, args=(name, connector))
            else:
                thread = threading.Thread(target=self._poll, args=(name,))
            thread.name, thread.daemon = f"watch-{name}", True
            thread.start()
            self._threads.append(thread)

    def _poll(self, name: str) -> None:
        while not self._stop.wait(self._settings.poll_seconds):
            self._wakes.add(name)

    def _listen(self, name: str, connector: AnnouncesChanges) -> None:
        """Wake the loop on each announcement; reconnect when the connection drops,
        and poll for good when the server refuses announcements."""
        for events in self._feeds(name, connector):
            try:
                events.wait(0.0)  # the request is registered from here on
                self._log("service.listening", connector=name)
                # A change made before the request was registered (during the first cycle,
                # or while the connection was down) is announced to no one: check now.
                self._wakes.add(name)
                while not self._stop.is_set():
                    if events.wait(1.0):
                        self._wakes.add(name)
            except ChangeEventsUnavailable as exc:
                self._log("service.notifications_refused", level="warning", connector=name,
                          error=str(exc))  # fmt: skip
                self._poll(name)
                return
            except ConnectorError as exc:
                self._log("service.notifications_lost", level="warning", connector=name,
                          error=str(exc))  # fmt: skip
                if self._stop.wait(self._settings.reconnect_seconds):
                    return
            finally:
                events.close()

    def _feeds(self, name: str, connector: AnnouncesChanges) -> Iterator[ChangeEvents]:
        while not self._stop.is_set():
            try:
                yield connector.change_events()
            except HybridsyncError as exc:
                self._log("service.notifications_unavailable", level="warning",
                          connector=name, error=str(exc))  # fmt: skip
                if self._stop.wait(self._settings.reconnect_seconds):
                    return


def has_changes(engine: Engine, name: str) -> bool:
    """Whether the source's delta holds anything since the stored watermark.

    Reads the first page of the delta and stores nothing: the watermark stays, so the
    cycle that follows reads the same changes. A source with no watermark yet, or one
    that needs a full import, counts as changed.
    """
    context = engine.context
    connector = context.connector(name)
    state = context.store.connector_state(name)
    if not isinstance(connector, SupportsDeltaImport) or state.watermark is None:
        return True
    if state.full_import_required or state.attribute_hash != attribute_hash(connector):
        return True
    pages = connector.delta_import(state.watermark)
    try:
        return any(page.objects or page.unreadable for page in pages)
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()
