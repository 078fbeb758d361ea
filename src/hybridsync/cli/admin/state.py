"""What the admin address answers from: the running service, its metrics and its store.

``hybridsync serve`` attaches each service it starts (a changed configuration starts a
new one) and tells the state of every cycle; the HTTP handlers only read from here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli.admin.metrics import ServiceMetrics
from hybridsync.cli.admin.readiness import Readiness, readiness
from hybridsync.core.runs import run_dict
from hybridsync.engine.report import CycleReport, RunReport
from hybridsync.errors import HybridsyncError

if TYPE_CHECKING:
    from hybridsync.config import Config
    from hybridsync.engine import Engine
    from hybridsync.engine.service import SyncService
    from hybridsync.wiring import Built

__all__ = ["AdminState", "NotRunning", "UnknownConnector"]

ALL_RUNS = 1_000_000
_LATENCIES_KEPT = 100_000
SYNC_OBJECT_TIMEOUT = 120.0
"""Seconds a sync on demand waits for the cycle in progress to end, and for its own work."""


def _log() -> Any:
    import structlog

    return structlog.get_logger("hybridsync.scheduler")


class NotRunning(HybridsyncError):
    """No service is running right now (the configuration is being reloaded)."""


class UnknownConnector(HybridsyncError):
    """A connector name the configuration does not have."""


class AdminState:
    """Shared between the service's thread and the admin server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._service: SyncService | None = None
        self._config: Config | None = None
        self._connectors: tuple[str, ...] = ()
        self._last_cycle: CycleReport | None = None
        self._last_runs: dict[str, RunReport] = {}
        self.latencies: deque[tuple[datetime, float]] = deque(maxlen=_LATENCIES_KEPT)
        """AD-to-cloud seconds of the exported changes since the start, with when."""
        self.last_cycle_at: datetime | None = None
        """When the last cycle ended (UTC), for the console's overview."""
        self.metrics = ServiceMetrics(pending=self._pending)

    # --- fed by the service --------------------------------------------------------------

    def attach(self, service: SyncService | None, built: Built | None) -> None:
        """The service now running (``None``: none, while a configuration reloads)."""
        with self._lock:
            self._service = service
            if built is not None:
                self._config = built.config
                self._connectors = tuple(built.engine.context.connectors)
                built.engine.context.control.progress = self.metrics.progress

    def cycle_ended(self, cycle: CycleReport) -> None:
        with self._lock:
            service = self._service
            self._last_cycle = cycle
            self.last_cycle_at = datetime.now(UTC)
            self.latencies.extend(
                (self.last_cycle_at, seconds)
                for run in cycle.runs
                for seconds in run.change_latencies
            )
            for run in cycle.runs:
                self._last_runs[run.connector] = run
        woken_at = service.woken_at if service is not None else None
        self.metrics.observe_cycle(cycle, woken_at)

    # --- read by the handlers -------------------------------------------------------------

    def readiness(self) -> Readiness:
        with self._lock:
            return readiness(self._connectors, dict(self._last_runs), self._last_cycle)

    def status(self) -> dict[str, Any]:
        """``status --json`` of the running configuration, with the service's last cycle."""
        from hybridsync.cli.status import status_data

        try:
            data = status_data(self._current_config())
        except typer.Exit as exc:  # the store failed: status said why, on stderr
            raise HybridsyncError("the store cannot be read (see the service's log)") from exc
        with self._lock:
            cycle = self._last_cycle
        data["last_cycle"] = None if cycle is None else _cycle_summary(cycle)
        data["ready"] = self.readiness().as_dict()
        return data

    def runs(self, limit: int) -> list[dict[str, Any]]:
        """The latest runs, newest first, as ``history --json`` gives them."""
        with self._store() as store:
            return [run_dict(record, None) for record in store.runs(limit)]

    def run_errors(self, run_id: str) -> dict[str, Any] | None:
        """A run and its object errors, as ``history RUN --json`` gives it; ``None``: no
        such run."""
        with self._store() as store:
            record = next((r for r in store.runs(ALL_RUNS) if r.run_id == run_id), None)
            if record is None:
                return None
            return run_dict(record, store.run_errors(run_id))

    def wake(self, connector: str) -> None:
        """Sync ``connector`` now: the service checks its changes at once.

        Raises:
            UnknownConnector: the configuration has no such connector.
            NotRunning: no service runs now (a configuration is being reloaded).
        """
        with self._lock:
            service, known = self._service, connector in self._connectors
        if not known:
            raise UnknownConnector(f"no connector named {connector!r}")
        if service is None:
            raise NotRunning("the service is reloading its configuration; try again")
        _log().info("serve.sync_requested", connector=connector)
        service.wake(connector)

    def sync_object(
        self, key: str, connector: str | None, *, allow_deletes: bool = False
    ) -> dict[str, Any]:
        """Sync one object now, inside the service (between cycles, under its lock): the
        step report of ``hybridsync sync OBJECT``.

        Raises:
            UnknownConnector: the configuration has no such connector.
            NotRunning: no service runs now, or it stopped before getting to it.
            ServiceBusy: its cycle in progress kept it from the object in time.
            NotFoundError, ConfigError, UnreachableError...: as the sync raised them.
        """
        from hybridsync.engine.service import ServiceBusy, ServiceStopped

        with self._lock:
            service, known = self._service, self._connectors
        if connector is not None and connector not in known:
            raise UnknownConnector(f"no connector named {connector!r}")
        if service is None:
            raise NotRunning("the service is reloading its configuration; try again")
        _log().info("serve.sync_object_requested", key=key, connector=connector)
        engine = service.engine

        def work() -> dict[str, Any]:
            name = connector or engine.context.sources()[0]
            return engine.sync_object(
                name, key, allow_deletes=allow_deletes, on_run=self._run_ended
            )

        try:
            result = service.call(work, SYNC_OBJECT_TIMEOUT)
        except ServiceBusy:
            raise  # running, but busy: the caller may try again (not "not running")
        except ServiceStopped as exc:
            raise NotRunning(str(exc)) from exc
        assert isinstance(result, dict)
        return result

    def in_service(self, work: Callable[[Engine], Any], timeout: float) -> Any:
        """``work(engine)`` in the service's thread, between cycles (the console's plan,
        apply and preview: the engine and its store belong to that thread).

        Raises:
            NotRunning: no service runs now, or it stopped before getting to it.
            ServiceBusy: its cycle in progress kept it from the work for ``timeout``.
        """
        from hybridsync.engine.service import ServiceBusy, ServiceStopped

        with self._lock:
            service = self._service
        if service is None:
            raise NotRunning("the service is reloading its configuration; try again")
        engine = service.engine
        try:
            return service.call(lambda: work(engine), timeout)
        except ServiceBusy:
            raise
        except ServiceStopped as exc:
            raise NotRunning(str(exc)) from exc

    def config_connectors(self) -> tuple[str, ...]:
        with self._lock:
            return self._connectors

    @property
    def config(self) -> Config:
        """The running configuration.

        Raises:
            NotRunning: none is loaded yet.
        """
        return self._current_config()

    # --- helpers ---------------------------------------------------------------------------

    def _run_ended(self, run: RunReport) -> None:
        """A run of a sync on demand: counted, and its connector's latest run."""
        with self._lock:
            self._last_runs[run.connector] = run
        self.metrics.observe_run(run)

    def _current_config(self) -> Config:
        with self._lock:
            config = self._config
        if config is None:
            raise NotRunning("the service has not loaded its configuration yet")
        return config

    @contextmanager
    def _store(self) -> Iterator[Any]:
        """A connection of its own: the engine's belongs to the service's thread."""
        from hybridsync.wiring.build import open_store

        store = open_store(self._current_config())
        try:
            yield store
        finally:
            store.close()

    def _pending(self) -> Mapping[str, tuple[int, int]]:
        """Each connector's pending imports and exports; none while the store cannot be read
        (a scrape must still answer: the run metrics say why)."""
        try:
            rows = self.status()["connectors"]
        except Exception:  # a store error, a refused migration: the scrape still answers
            return {}
        return {row["connector"]: (row["pending_imports"], row["pending_exports"]) for row in rows}


def _cycle_summary(cycle: CycleReport) -> dict[str, Any]:
    """The cycle without its object errors (``/api/runs/{id}/errors`` lists them)."""
    runs = []
    for run in cycle.runs:
        entry = run_dict(run.record(), None)
        entry["errors"] = len(run.errors)
        entry["seconds"] = round(run.seconds, 3)
        runs.append(entry)
    return {"cycle": cycle.kind, "status": cycle.status, "runs": runs}
