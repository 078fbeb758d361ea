"""Progress of a run on the terminal: one bar per run (the summary follows on stdout).

The engine drives the bars: it sends a progress event (``RunProgress``) when a run
starts, when it knows how many objects it will process, after every committed batch and
when it ends. Each run gets its own bar with objects done, rate and time left (the
total is exact for a sync and an export, an estimate for a full import, unknown for a
delta import). The bars go to stderr, so stdout stays clean for ``--json``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hybridsync.engine import RunControl, RunProgress


class ProgressBars:
    """A ``ProgressCallback`` drawing one bar per run on ``console``."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, event: RunProgress) -> None:
        task = self._tasks.get(event.run_id)
        if task is None:
            description = f"{event.connector} {event.phase}"
            task = self._progress.add_task(description, total=event.total, rate="")
            self._tasks[event.run_id] = task
        if event.finished:
            # A run ends complete, whatever the estimate was (the table says what it did).
            self._progress.update(task, total=event.done, completed=event.done)
            return
        # An estimate (a full import's) may fall short: never show more than 100%.
        total = None if event.total is None else max(event.total, event.done)
        self._progress.update(task, total=total, completed=event.done)
        speed = self._progress.tasks[task].speed
        self._progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")

    @contextlib.contextmanager
    def installed(self, control: RunControl) -> Iterator[None]:
        """Draw the bars of every run made under ``control`` within the block."""
        control.progress = self
        try:
            with self._progress:
                yield
        finally:
            control.progress = None
