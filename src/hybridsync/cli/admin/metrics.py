"""The service's Prometheus metrics, fed with the reports the service already produces.

Everything is counted from what a cycle, a PHS run or a connector's retry wait reports,
in the service's own registry (not the process-wide default one, so that two services in
one process, as in tests, never share counters). The store's pending counts are read at
scrape time, since they change between cycles (another process may run a sync).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hybridsync.core.ports import RetryWait
from hybridsync.engine.control import RunProgress
from hybridsync.engine.password_hash_sync import PasswordSyncReport
from hybridsync.engine.report import CycleReport, Profile, RunReport
from hybridsync.errors import HybridsyncError

__all__ = ["CONTENT_TYPE", "PendingCounts", "ServiceMetrics", "cycle_succeeded"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PendingCounts = Callable[[], Mapping[str, tuple[int, int]]]
"""``{connector: (pending imports, pending exports)}``, read from the store."""
_RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)


def cycle_succeeded(cycle: CycleReport) -> bool:
    """A cycle that did all its work (some objects may have failed: they are counted)."""
    return not cycle.status.stopped


class ServiceMetrics:
    """The metrics of one service process; every method is safe from any thread."""

    def __init__(
        self, pending: PendingCounts | None = None, clock: Callable[[], float] = time.time
    ):
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._started = clock()
        self._last_success: float | None = None
        self._waits_seen: dict[int, RetryWait] = {}
        """The current runs' waits, held so that no id is reused while they are compared."""
        self._lock = threading.Lock()
        self._define(self.registry)
        if pending is not None:
            self.registry.register(_PendingCollector(pending))

    def _define(self, registry: CollectorRegistry) -> None:
        run_labels = ("connector", "profile")
        self.runs = Counter(
            "hybridsync_runs",
            "Runs ended, by connector, profile and status.",
            (*run_labels, "status"),
            registry=registry,
        )
        self.run_seconds = Histogram(
            "hybridsync_run_duration_seconds",
            "Duration of each run.",
            run_labels,
            buckets=_RUN_BUCKETS,
            registry=registry,
        )
        self.objects = Counter(
            "hybridsync_run_objects",
            "Objects processed by runs, by outcome (a run's counts: add, update, delete, ...).",
            (*run_labels, "outcome"),
            registry=registry,
        )
        self.object_errors = Counter(
            "hybridsync_object_errors",
            "Object errors reported by runs.",
            run_labels,
            registry=registry,
        )
        self.cycles = Counter(
            "hybridsync_cycles",
            "Cycles ended, by kind and status.",
            ("kind", "status"),
            registry=registry,
        )
        self.retry_wait_seconds = Counter(
            "hybridsync_retry_wait_seconds",
            "Seconds connectors announced they wait before a retry (Graph throttling with "
            "Retry-After, busy answers, lost connections).",
            ("connector",),
            registry=registry,
        )
        self.phs_runs = Counter(
            "hybridsync_phs_runs",
            "Password hash sync runs, by status.",
            ("status",),
            registry=registry,
        )
        self.phs_users_synced = Counter(
            "hybridsync_phs_users_synced",
            "Users whose password hash password hash sync uploaded.",
            registry=registry,
        )
        self.phs_users_failed = Counter(
            "hybridsync_phs_users_failed",
            "Users whose hash could not be read or uploaded (retried next run).",
            registry=registry,
        )
        self.wake_to_export = Histogram(
            "hybridsync_wake_to_export_seconds",
            "From the change announcement (or poll) that woke a small cycle to the end of "
            "its exports; observed when the cycle exported something.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.change_to_export = Histogram(
            "hybridsync_change_to_export_seconds",
            "From a source object's change (AD's whenChanged: one-second resolution, so up "
            "to a second more than the real time, and the DC's clock) to the success of the "
            "export that carried it; one observation per exported change.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        age = Gauge(
            "hybridsync_last_successful_cycle_age_seconds",
            "Seconds since the last cycle that was not stopped (since the service "
            "started while none was).",
            registry=registry,
        )
        age.set_function(self._success_age)
        stamp = Gauge(
            "hybridsync_last_successful_cycle_timestamp_seconds",
            "Unix time the last successful cycle ended (0: none yet).",
            registry=registry,
        )
        stamp.set_function(lambda: self._last_success or 0.0)

    # --- feeding ------------------------------------------------------------------------

    def observe_cycle(self, cycle: CycleReport, woken_at: float | None = None) -> None:
        """Count a cycle and its runs; ``woken_at`` (``time.monotonic()``): when the wake
        that started this small cycle arrived."""
        for run in cycle.runs:
            self.observe_run(run)
        self.cycles.labels(cycle.kind, cycle.status).inc()
        if cycle_succeeded(cycle):
            with self._lock:
                self._last_success = self._clock()
        if woken_at is not None and _exported(cycle):
            self.wake_to_export.observe(max(0.0, time.monotonic() - woken_at))

    def observe_run(self, run: RunReport) -> None:
        """Count one run (a cycle's, or one of a sync on demand's)."""
        labels = (run.connector, run.profile.value)
        self.runs.labels(*labels, run.status.value).inc()
        self.run_seconds.labels(*labels).observe(run.seconds)
        for outcome, amount in run.counts.items():
            if amount > 0:
                self.objects.labels(*labels, outcome).inc(amount)
        for seconds in run.change_latencies:
            self.change_to_export.observe(seconds)
        if run.errors:
            self.object_errors.labels(*labels).inc(len(run.errors))
        else:
            self.object_errors.labels(*labels)  # the series exists at 0, for rate()

    def phs_reported(self, report: PasswordSyncReport, /) -> None:
        self.phs_runs.labels(report.status.value).inc()
        self.phs_users_synced.inc(report.synced)
        self.phs_users_failed.inc(len(report.errors))

    def phs_failed(self, error: HybridsyncError, /) -> None:
        """A PHS run that ended before it could report (DC or cloud unreachable)."""
        self.phs_runs.labels("failed").inc()

    def progress(self, progress: RunProgress, /) -> None:
        """The engine's progress callback: each retry wait is counted once, when announced."""
        wait = progress.waiting
        if wait is not None and self._first_sight(wait):
            self.retry_wait_seconds.labels(progress.connector).inc(max(0.0, wait.seconds))
        if progress.finished:
            with self._lock:
                self._waits_seen.clear()

    def _first_sight(self, wait: RetryWait) -> bool:
        with self._lock:
            if id(wait) in self._waits_seen:
                return False
            self._waits_seen[id(wait)] = wait
            return True

    # --- reading ------------------------------------------------------------------------

    def _success_age(self) -> float:
        with self._lock:
            since = self._last_success if self._last_success is not None else self._started
        return max(0.0, self._clock() - since)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


def _exported(cycle: CycleReport) -> bool:
    return any(
        run.profile is Profile.EXPORT and any(n > 0 for n in run.counts.values())
        for run in cycle.runs
    )


class _PendingCollector(Collector):
    """Pending imports and exports per connector, read from the store at each scrape."""

    def __init__(self, pending: PendingCounts) -> None:
        self._pending = pending

    def collect(self) -> Iterator[Metric]:
        imports = GaugeMetricFamily(
            "hybridsync_pending_imports",
            "Connector space objects with an import not yet synced.",
            labels=("connector",),
        )
        exports = GaugeMetricFamily(
            "hybridsync_pending_exports",
            "Connector space objects with changes to export.",
            labels=("connector",),
        )
        for connector, (pending_imports, pending_exports) in _sorted(self._pending().items()):
            imports.add_metric((connector,), pending_imports)
            exports.add_metric((connector,), pending_exports)
        yield imports
        yield exports

    def describe(self) -> Iterable[Metric]:
        return ()  # read at scrape time only: the store is not read at registration


def _sorted(items: Iterable[tuple[str, tuple[int, int]]]) -> list[tuple[str, tuple[int, int]]]:
    return sorted(items)
