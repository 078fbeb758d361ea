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
    """

    run_id: str
    connector: str
    phase: str
    done: int
    total: int | None
    finished: bool = False


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

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    def request_stop(self) -> None:
        """Stop after the batch in progress commits; safe to call from a signal handler."""
        self.stop.set()

    def begin(self, report: RunReport) -> None:
        self._done, self._total = 0, None
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
        self._emit(report, finished=True)

    def _emit(self, report: RunReport, *, finished: bool = False) -> None:
        if self.progress is None:
            return
        self.progress(
            RunProgress(
                report.run_id,
                report.connector,
                report.profile.value,
                self._done,
                self._total,
                finished,
            )
        )
