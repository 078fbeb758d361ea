"""How a caller steers the engine while it runs: a stop request and progress callbacks.

The engine reports progress and honours a stop request only at batch boundaries, after a
batch committed. A stop therefore ends the run in the state a crash at that point would
leave (every committed batch kept, the rest still pending), recorded with the status
``stopped-by-request``; the next run or cycle completes the work. A signal handler only
sets a flag (``request_stop``), so nothing is interrupted halfway through a transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from hybridsync.core.ports import RetryWait, WaitListener
from hybridsync.engine.report import RunReport, Status
from hybridsync.errors import RunStopped


@dataclass(frozen=True, slots=True)
class RunProgress:
    """One progress event of a run.

    Attributes:
        run_id: the run this event belongs to (as in ``hybridsync history``).
        connector: the connector the run works on.
        phase: the run profile (``full-import``, ``delta-sync``, ``export``...).
        done: objects processed so far in this run (committed batches only).
        total: the objects the run will process, when known: exact for a sync and an
            export; for a full import the connector space's size, an estimate; ``None``
            for a delta import and a first import.
        finished: the last event of the run (``done`` is then final).
        waiting: the retry wait the run is in, if any: its connector waits out a failure
            (the latest of its waits when several overlap); ``None`` once every wait ended.
    """

    run_id: str
    connector: str
    phase: str
    done: int
    total: int | None
    finished: bool = False
    waiting: RetryWait | None = None


class ProgressCallback(Protocol):
    """Receives progress events; called in the engine's thread, so keep it quick."""

    def __call__(self, progress: RunProgress, /) -> None: ...


@dataclass(slots=True)
class RunControl:
    """The stop flag and the progress callback an engine context carries.

    Give several engines the same ``stop`` event to stop them together (the scheduler
    shares its own with every cycle and with password hash sync).
    """

    stop: threading.Event = field(default_factory=threading.Event)
    progress: ProgressCallback | None = None
    _done: int = 0
    _total: int | None = None
    _waits: list[RetryWait] = field(default_factory=list)
    """The retry waits under way in the current run, oldest first."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    def request_stop(self) -> None:
        """Stop after the batch in progress commits; safe to call from a signal handler."""
        self.stop.set()

    def begin(self, report: RunReport) -> None:
        self._done, self._total = 0, None
        with self._lock:
            self._waits.clear()
        self._emit(report)

    def expect(self, report: RunReport, total: int | None) -> None:
        """The run learnt how many objects it will process."""
        self._total = total
        self._emit(report)

    def committed(self, report: RunReport, amount: int) -> None:
        """A batch of ``amount`` objects committed: report it, then honour a stop request."""
        self._done += amount
        self._emit(report)
        if self.stop.is_set():
            raise RunStopped(
                Status.STOPPED_BY_REQUEST,
                f"stopped by request after {self._done} objects (every batch before was "
                "committed); the next run completes the rest",
            )

    def end(self, report: RunReport) -> None:
        with self._lock:
            self._waits.clear()
        self._emit(report, finished=True)

    def waits_of(self, report: RunReport) -> WaitListener:
        """The listener a connector tells of its retry waits during ``report``'s run."""
        return _RunWaits(self, report)

    def wait_started(self, report: RunReport, wait: RetryWait) -> None:
        """``report``'s connector waits before a retry: the progress callback learns why."""
        with self._lock:
            self._waits.append(wait)
        self._emit(report)

    def wait_ended(self, report: RunReport, wait: RetryWait) -> None:
        """That wait is over (the run shows the wait still under way, if any)."""
        with self._lock:
            if wait in self._waits:
                self._waits.remove(wait)
        self._emit(report)

    def _emit(self, report: RunReport, *, finished: bool = False) -> None:
        if self.progress is None:
            return
        with self._lock:
            # Export workers may wait side by side: the latest wait is the one shown.
            waiting = self._waits[-1] if self._waits else None
        self.progress(
            RunProgress(
                report.run_id,
                report.connector,
                report.profile.value,
                self._done,
                self._total,
                finished,
                waiting,
            )
        )


@dataclass(frozen=True, slots=True)
class _RunWaits:
    """A ``WaitListener`` bound to one run."""

    control: RunControl
    report: RunReport

    def waiting(self, wait: RetryWait) -> None:
        self.control.wait_started(self.report, wait)

    def waited(self, wait: RetryWait) -> None:
        self.control.wait_ended(self.report, wait)
