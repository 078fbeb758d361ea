"""Progress of a run on the terminal: one bar per phase, then a summary table.

The engine knows nothing of terminals. The bars are fed from the outside: each
connector is wrapped so the objects its imports yield and the results its exports
return are counted as they pass, and ``Engine.run`` is wrapped to open a bar per run
profile. Totals come from the store (the connector space's size for an import, the
pending exports for an export), so a bar shows objects done, rate and time left. A
sync phase reads only the store: its bar shows the objects it covers when it ends.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

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
from rich.table import Table

from hybridsync.engine import CycleReport, Profile, RunReport
from hybridsync.wiring import Built

COUNTED = {"full_import", "delta_import", "export"}


class _Counted:
    """A connector whose imports and exports advance the current bar."""

    def __init__(self, inner: Any, advance: Callable[[int], None]) -> None:
        self._inner = inner
        self._advance = advance

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in COUNTED:
            return value
        if name == "export":
            return functools.partial(self._export, value)
        return functools.partial(self._pages, value)

    def _pages(self, method: Callable[..., Iterator[Any]], *args: Any) -> Iterator[Any]:
        for page in method(*args):
            self._advance(len(page.objects))
            yield page

    def _export(
        self, method: Callable[..., Iterator[Any]], changes: Sequence[Any]
    ) -> Iterator[Any]:
        for result in method(changes):
            self._advance(1)
            yield result


class RunProgress:
    """Bars on ``console`` for every run the engine makes while installed."""

    def __init__(self, built: Built, console: Console) -> None:
        self._built = built
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
        self._task: TaskID | None = None

    def _advance(self, amount: int) -> None:
        if self._task is None:
            return
        self._progress.advance(self._task, amount)
        task = self._progress.tasks[self._task]
        rate = task.speed
        self._progress.update(self._task, rate=f"{rate:,.0f}/s" if rate else "")

    def _expected(self, connector: str, profile: Profile) -> int | None:
        store = self._built.store
        if profile is Profile.EXPORT:
            return len(store.cs_ids_to_export(connector))
        if profile is Profile.FULL_IMPORT:
            return store.count_cs(connector) or None
        return None

    def _run(self, original: Callable[..., RunReport], connector: str, profile: Profile,
             **options: Any) -> RunReport:  # fmt: skip
        total = self._expected(connector, profile)
        task = self._progress.add_task(f"{connector} {profile.value}", total=total, rate="")
        self._task = task
        try:
            return original(connector, profile, **options)
        finally:
            # A phase ends complete, whatever the estimate was (the table says what it did).
            done = int(self._progress.tasks[task].completed)
            self._progress.update(task, total=done, completed=done)
            self._task = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        connectors = self._built.connectors
        originals = dict(connectors)
        engine = self._built.engine
        for name, connector in originals.items():
            connectors[name] = _Counted(connector, self._advance)
        engine.run = functools.partial(self._run, engine.run)  # type: ignore[method-assign]
        try:
            with self._progress:
                yield
        finally:
            del engine.run
            connectors.update(originals)


def summary_table(cycle: CycleReport) -> Table:
    """One row per run: what it did, how it ended, how long it took."""
    table = Table(title=f"cycle {cycle.kind}: {cycle.status}", title_justify="left")
    for column in ("connector", "profile", "status", "changes", "errors", "seconds"):
        right = column in {"errors", "seconds"}
        table.add_column(column, no_wrap=column != "changes", justify="right" if right else "left")
    for run in cycle.runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())) or "no changes"
        table.add_row(
            run.connector, run.profile.value, run.status, counts, str(len(run.errors)),
            f"{run.seconds:.1f}",
        )  # fmt: skip
    return table
