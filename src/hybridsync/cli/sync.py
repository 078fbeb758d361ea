"""Shared plumbing of the engine commands: config, building, output, exit statuses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import typer

from hybridsync.cli import exit_codes
from hybridsync.cli.runlock import SyncInProgress, run_lock
from hybridsync.engine import CycleReport, RunReport, Status
from hybridsync.errors import ConfigError, HybridsyncError, StoreError
from hybridsync.wiring import Built, build_from_file

CONFIG_HELP = "Configuration file (default: $HYBRIDSYNC_CONFIG, else ./hybridsync.toml)."
ConfigOption = typer.Option(None, "--config", "-c", help=CONFIG_HELP)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")


def config_path(given: Path | None) -> Path:
    if given is not None:
        return given
    return Path(os.environ.get("HYBRIDSYNC_CONFIG", "hybridsync.toml"))


@contextmanager
def engine_from(
    config: Path | None, *, staging: bool | None = None, lock: str | None = None
) -> Iterator[Built]:
    """The built engine; configuration errors exit with status 3 and a clear message.

    ``lock`` (what the command does) holds the store's sync lock for the block: a
    second sync on the same store stops with status 2 instead of overlapping.
    """
    try:
        built = build_from_file(config_path(config), staging_mode=staging)
    except HybridsyncError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    try:
        with _locked(built, lock):
            yield built
    except SyncInProgress as exc:
        typer.echo(f"stopped: {exc}", err=True)
        raise typer.Exit(exit_codes.STOPPED) from exc
    except StoreError as exc:  # the store failed outside a run (its own report says so)
        typer.echo(f"stopped: {exc}", err=True)
        raise typer.Exit(exit_codes.STOPPED) from exc
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    finally:
        built.close()


def _locked(built: Built, purpose: str | None) -> AbstractContextManager[None]:
    if purpose is None:
        return nullcontext()
    return run_lock(built, purpose)


def exit_code(status: Status) -> int:
    if status.stopped:
        return exit_codes.STOPPED
    if status.with_errors:
        return exit_codes.OBJECT_ERRORS
    return exit_codes.SUCCESS


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_run(report: RunReport) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no changes"
    typer.echo(f"{report.connector:<12} {report.profile.value:<13} {report.status:<36} {counts}")
    if report.message:
        typer.echo(f"  {report.message}")
    for note in report.notes:
        typer.echo(f"  note: {note}")
    for error in report.errors[:20]:
        typer.echo(f"  error: {error}")
    if len(report.errors) > 20:
        typer.echo(f"  ... and {len(report.errors) - 20} more errors (hybridsync history --errors)")


def print_cycle(cycle: CycleReport) -> None:
    for run in cycle.runs:
        print_run(run)
    for note in cycle.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"cycle {cycle.kind}: {cycle.status}")
