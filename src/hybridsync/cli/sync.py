"""Shared plumbing of the engine commands: config, building, output, exit statuses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer._click.globals import get_current_context

from hybridsync.cli import exit_codes
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.runlock import SyncInProgress, run_lock
from hybridsync.cli.runs_text import Row, note_lines, table, terminal_width
from hybridsync.core.runs import Status
from hybridsync.errors import ConfigError, HybridsyncError, NotFoundError, StoreError

if TYPE_CHECKING:  # the engine is imported when a command runs, not for its --help
    from hybridsync.engine import CycleReport, RunReport
    from hybridsync.wiring import Built

CONFIG_HELP = "Configuration file (default: $HYBRIDSYNC_CONFIG, else ./hybridsync.toml)."
ConfigOption = typer.Option(None, "--config", "-c", help=CONFIG_HELP)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
SHOWN_ERRORS = 20
"""Object errors listed under a run; ``hybridsync history --errors`` lists them all."""


def config_path(given: Path | None) -> Path:
    if given is not None:
        return given
    return Path(os.environ.get("HYBRIDSYNC_CONFIG", "hybridsync.toml"))


@contextmanager
def engine_from(
    config: Path | None,
    *,
    staging: bool | None = None,
    lock: str | None = None,
    store_file: Path | None = None,
) -> Iterator[Built]:
    """The built engine; configuration errors exit with status 3 and a clear message.

    ``lock`` (what the command does) holds the store's sync lock for the block: a
    second sync on the same store stops with status 2 instead of overlapping.
    ``store_file`` replaces the configured store with that SQLite file.
    """
    from hybridsync.wiring import build_from_file

    try:
        built = build_from_file(config_path(config), staging_mode=staging, store_file=store_file)
    except HybridsyncError as exc:
        raise config_failure(exc) from exc
    failures = (
        Failure(SyncInProgress, "stopped", exit_codes.STOPPED),
        # The store failed outside a run (a run's own report says so).
        Failure(StoreError, "stopped", exit_codes.STOPPED),
        Failure(ConfigError, "error", exit_codes.CONFIG_ERROR),
        Failure(NotFoundError, "not found", exit_codes.NOT_FOUND),
    )
    try:
        with reported(*failures), _locked(built, lock):
            yield built
    finally:
        built.close()


def config_failure(exc: HybridsyncError) -> typer.Exit:
    """Report a configuration that cannot be used: on stderr, and as JSON on stdout when
    the command was asked for JSON (a script reading stdout must see why it got nothing).
    Returns the exit to raise."""
    typer.echo(f"configuration error: {exc}", err=True)
    if _json_requested():
        print_json({"error": "configuration", "problems": problem_documents(exc)})
    return typer.Exit(exit_codes.CONFIG_ERROR)


def problem_documents(exc: HybridsyncError) -> list[dict[str, Any]]:
    from hybridsync.config import ConfigProblems

    if isinstance(exc, ConfigProblems):
        return [problem.as_dict() for problem in exc.problems]
    source = getattr(exc, "source", None)
    line = getattr(exc, "line", None)
    message = getattr(exc, "message", str(exc))
    return [{"file": source, "line": line, "column": None, "key": "", "message": message}]


def _json_requested() -> bool:
    # Every command names its --json parameter ``as_json``; typer keeps the running
    # command's context (and its parsed parameters) in its own copy of click.
    context = get_current_context(silent=True)
    return bool(context is not None and context.params.get("as_json"))


def _locked(built: Built, purpose: str | None) -> AbstractContextManager[None]:
    if purpose is None:
        return nullcontext()
    return run_lock(built, purpose)


def exit_code(status: Status) -> int:
    # Unreachable is a stop of its own kind: scripts retry it later, not fix the data.
    if status == Status.STOPPED_UNREACHABLE:
        return exit_codes.UNREACHABLE
    if status.stopped:
        return exit_codes.STOPPED
    if status.with_errors:
        return exit_codes.OBJECT_ERRORS
    return exit_codes.SUCCESS


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_run(report: RunReport) -> None:
    """One run: the same table as a cycle's, with its message, notes and errors."""
    _print_runs([report], terminal_width())


def print_cycle(cycle: CycleReport) -> None:
    """A cycle (or an apply): its status, one row per run, then errors and notes."""
    width = terminal_width()
    title = "apply" if cycle.kind == "apply" else f"cycle {cycle.kind}"
    typer.echo(f"{title}: {cycle.status}")
    _print_runs(cycle.runs, width)
    for note in cycle.notes:
        _echo_lines(note_lines(f"note: {note}", width, indent=""))


def run_row(report: RunReport) -> Row:
    return Row(
        report.connector,
        report.profile.value,
        report.status,
        report.seconds,
        report.counts,
        len(report.errors),
    )


def _print_runs(runs: list[RunReport], width: int) -> None:
    """The table first, then under it each run's message, notes and errors."""
    if not runs:
        return
    header, groups = table([run_row(run) for run in runs], width=width)
    _echo_lines([header, *(line for lines in groups for line in lines)])
    for run in runs:
        what = f"{run.connector} {run.profile.value}"
        if run.message:
            _echo_lines(note_lines(f"{what}: {run.message}", width))
        for note in run.notes:
            _echo_lines(note_lines(f"{what} note: {note}", width))
        for error in run.errors[:SHOWN_ERRORS]:
            typer.echo(f"  {run.connector} error: {error}")
        if len(run.errors) > SHOWN_ERRORS:
            more = len(run.errors) - SHOWN_ERRORS
            typer.echo(f"  ... and {more} more errors: hybridsync history --errors")


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)
