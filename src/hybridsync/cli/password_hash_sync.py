"""``hybridsync phs run`` and ``hybridsync phs loop``: password hash sync on its own schedule."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.stopping import stopped_by_signals
from hybridsync.cli.sync import ConfigOption, JsonOption, engine_from, exit_code, print_json
from hybridsync.errors import ConfigError, HybridsyncError, UnreachableError

if TYPE_CHECKING:
    # The engine and its wiring (SQLAlchemy, the connectors) load when a run starts.
    from hybridsync.engine.password_hash_sync import PasswordHashSync, PasswordSyncReport


class PhsObserver(Protocol):
    """Told how each scheduled PHS run went (the service's metrics)."""

    def phs_reported(self, report: PasswordSyncReport, /) -> None: ...

    def phs_failed(self, error: HybridsyncError, /) -> None: ...


def _log() -> Any:
    """The logger, imported when something is logged (structlog is slow to import)."""
    import structlog

    return structlog.get_logger("hybridsync.phs")


phs_app = typer.Typer(help="Password hash synchronization (every 2 minutes by default).")
app.add_typer(phs_app, name="phs")


def _print(report: PasswordSyncReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    typer.echo(
        f"{report.connector}: {report.status}; {report.synced} synced, "
        f"{report.unchanged} unchanged, {report.targets} users in scope"
    )
    for anchor, message in report.errors:
        typer.echo(f"  {anchor}: {message}", err=True)


@phs_app.command("run")
def run(config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """One PHS run: changed passwords since the last run (every user on the first)."""
    from hybridsync.wiring.password_hash_sync import password_sync_from

    failures = (
        Failure(ConfigError, "configuration error", exit_codes.CONFIG_ERROR),
        # DC or cloud not reached at all, or a connection lost midway: nothing recorded.
        Failure(UnreachableError, "unreachable", exit_codes.UNREACHABLE),
        Failure(HybridsyncError, "stopped", exit_codes.STOPPED),
    )
    with reported(*failures), engine_from(config) as built, password_sync_from(built) as phs:
        report = phs.run_once()
    _print(report, as_json)
    raise typer.Exit(exit_code(report.status))


@phs_app.command("loop")
def loop(
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    interval: float | None = typer.Option(
        None, "--interval", help="Seconds between runs (default: the configuration's, 120)."
    ),
    runs: int | None = typer.Option(None, "--runs", help="Stop after this many runs."),
) -> None:
    """Run PHS on its schedule until stopped; a failed run is retried.

    SIGTERM or Ctrl-C (or reaching --runs) lets the run in progress finish, then the
    command exits 0.
    """
    from hybridsync.engine.password_hash_sync import run_forever
    from hybridsync.wiring.password_hash_sync import password_sync_config, password_sync_from

    stop = threading.Event()
    done = 0

    with engine_from(config) as built, password_sync_from(built) as phs:
        every = (
            interval
            if interval is not None
            else password_sync_config(built.config).interval_seconds
        )

        def once() -> PasswordSyncReport:
            nonlocal done
            try:
                report = phs.run_once()
                _print(report, as_json)
                return report
            finally:
                done += 1
                if runs is not None and done >= runs:
                    stop.set()

        with stopped_by_signals(stop, name="phs"):
            run_forever(once, interval_seconds=every, stop=stop)
    _log().info("phs.stopped", runs=done)


def start_phs_thread(
    config: Path,
    stop: threading.Event,
    *,
    interval: float | None = None,
    observer: PhsObserver | None = None,
) -> threading.Thread | None:
    """PHS on its own schedule in a daemon thread, for the scheduler to run beside its cycles.

    Returns ``None`` when the configuration has no enabled ``[password_hash_sync]``. The
    thread builds its own engine objects (its own store connection) and ends when ``stop``
    is set, after the run in progress; a stopped run (DC or cloud unreachable) is retried
    at the next interval, and so is a setup that failed (a secret not readable yet).
    ``observer`` is told of each run's report, and of each run that failed before one.
    """
    from hybridsync.engine.password_hash_sync import run_forever
    from hybridsync.wiring import build_from_file
    from hybridsync.wiring.password_hash_sync import password_sync_from

    built = build_from_file(config)
    phs_config = built.config.password_hash_sync
    if phs_config is None or not phs_config.enabled:
        built.close()
        return None
    every = interval if interval is not None else phs_config.interval_seconds

    def schedule() -> None:
        try:
            while not stop.is_set():
                try:
                    with password_sync_from(built) as phs:
                        run = phs.run_once if observer is None else _observed(phs, observer)
                        on_error = None if observer is None else observer.phs_failed
                        run_forever(run, interval_seconds=every, stop=stop, on_error=on_error)
                except HybridsyncError as exc:
                    _log().error("phs.setup_failed", error=str(exc), retry_in_seconds=every)
                    if observer is not None:
                        observer.phs_failed(exc)
                    stop.wait(every)
        finally:
            built.close()
            _log().info("phs.stopped")

    thread = threading.Thread(target=schedule, name="password-hash-sync", daemon=True)
    thread.start()
    return thread


def _observed(phs: PasswordHashSync, observer: PhsObserver) -> Callable[[], PasswordSyncReport]:
    def run_once() -> PasswordSyncReport:
        report = phs.run_once()
        observer.phs_reported(report)
        return report

    return run_once
