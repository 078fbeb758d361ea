"""Progress of a run on the terminal: one bar per run (the summary follows on stdout).

The engine drives the bars: it sends a progress event (``RunProgress``) when a run
starts, when it knows how many objects it will process, after every committed batch and
when it ends. Each run gets its own bar with objects done, rate and time left (the
total is exact for a sync and an export, an estimate for a full import, unknown for a
delta import). While a run's connector waits out a failure before a retry, a line under
the bars says so (``cloud export: waiting 2.1 s before retry 2 of 8 (...)``) until the
wait ends. The bars go to stderr, so stdout stays clean for ``--json``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from hybridsync.engine import RunControl, RunProgress


def wait_line(event: RunProgress) -> str | None:
    """What a run waits on, in words; ``None`` when it does not wait."""
    wait = event.waiting
    if wait is None or event.finished:
        return None
    return (
        f"{event.connector} {event.phase}: waiting {wait.seconds:.1f} s before retry "
        f"{wait.retry} of {wait.retries} ({wait.failure})"
    )


class _BarsAndWaits(Progress):
    """The bars, then one line for each run that waits before a retry."""

    def __init__(self, *columns: Any, **options: Any) -> None:
        self.waits: dict[TaskID, str] = {}  # before the base class, which renders once
        super().__init__(*columns, **options)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        for line in list(self.waits.values()):
            yield Text(line, style="yellow", no_wrap=True, overflow="ellipsis")


class ProgressBars:
    """A ``ProgressCallback`` drawing one bar per run on ``console``."""

    def __init__(self, console: Console) -> None:
        self._progress = _BarsAndWaits(
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
        self._show_wait(task, wait_line(event))
        if event.finished:
            # A run ends complete, whatever the estimate was (the table says what it did).
            self._progress.update(task, total=event.done, completed=event.done)
            return
        # An estimate (a full import's) may fall short: never show more than 100%.
        total = None if event.total is None else max(event.total, event.done)
        self._progress.update(task, total=total, completed=event.done)
        speed = self._progress.tasks[task].speed
        self._progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")

    def __rich__(self) -> RenderableType:
        """What the display shows now: the bars, and the waits under them."""
        return self._progress.get_renderable()

    def _show_wait(self, task: TaskID, line: str | None) -> None:
        waits = self._progress.waits
        if waits.get(task) == line:
            return
        if line is None:
            del waits[task]
        else:
            waits[task] = line
        # A wait starting or ending shows at once, not at the next tick.
        self._progress.refresh()

    @contextlib.contextmanager
    def installed(self, control: RunControl) -> Iterator[None]:
        """Draw the bars of every run made under ``control`` within the block."""
        control.progress = self
        try:
            with self._progress:
                yield
        finally:
            control.progress = None
