"""``hybridsync scheduler``: the daemon. A delta cycle every interval, never two at once.

Like Entra Connect's scheduler: every 30 minutes by default, down to one minute
(shorter intervals are raised to it). Each cycle re-reads the configuration, so a
changed rule or attribute list is picked up at the next tick, and the engine runs the
full sync or full import that change requires. A store that has never been synced gets
an initial cycle. Every cycle holds the store's sync lock (see ``runlock``): a manual
``hybridsync run`` in progress makes the scheduler skip that tick, and the other way
round.

With ``[password_hash_sync] enabled = true`` the same process runs password hash sync on
its own schedule, in a thread beside the cycles (see ``phs.start_phs_thread``).

SIGTERM or SIGINT: the run in progress finishes its current batch (committed) and ends
``stopped-by-request``; the cycle starts no further run, password hash sync finishes
its current run, and the process exits with status 0. The next cycle completes the
interrupted work, as after a crash. A second signal stops at once, which the engine
survives like any crash.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.cycles import (
    PHS_STOP_SECONDS,
    build_from_file,
    cycle_kind,
    log_cycle,
    logger,
    parse_interval,
)
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.password_hash_sync import start_phs_thread
from hybridsync.cli.runlock import SyncInProgress, run_lock
from hybridsync.cli.stopping import stopped_by_signals
from hybridsync.cli.sync import ConfigOption, config_path
from hybridsync.core.runs import Status
from hybridsync.errors import HybridsyncError, StoreError

if TYPE_CHECKING:
    # The engine and its wiring (SQLAlchemy, the connectors) load when the scheduler starts.
    pass


DEFAULT_INTERVAL = 30 * 60.0
MINIMUM_INTERVAL = 60.0


def _log() -> Any:
    return logger("scheduler")


def effective_interval(seconds: float) -> float:
    """The interval used: never below one minute (as Entra Connect raises it)."""
    return max(seconds, MINIMUM_INTERVAL)


@dataclass(slots=True)
class Scheduler:
    """Runs cycles until ``stop`` is set (or ``max_cycles`` ran); never two at once."""

    config: Path
    interval: float = DEFAULT_INTERVAL
    max_cycles: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    wait: Callable[[float], bool] | None = None
    """Waits up to the given seconds; True when stopping (default: ``stop.wait``)."""
    statuses: list[str] = field(default_factory=list)

    def run(self) -> None:
        wait = self.wait or self.stop.wait
        while not self.stop.is_set():
            started = time.monotonic()
            self.statuses.append(self.tick())
            if self.stop.is_set():
                return
            if self.max_cycles is not None and len(self.statuses) >= self.max_cycles:
                return
            delay = max(0.0, self.interval - (time.monotonic() - started))
            _log().info("scheduler.sleeping", next_cycle_in_seconds=round(delay, 1))
            if wait(delay):
                return

    def tick(self) -> str:
        """One cycle: its status, ``skipped`` (lock held) or ``configuration-error``."""
        try:
            built = build_from_file(self.config)
        except HybridsyncError as exc:
            _log().error("scheduler.configuration_error", error=str(exc), config=str(self.config))
            return "configuration-error"
        try:
            with run_lock(built, "scheduler"):
                kind = cycle_kind(built)
                _log().info("scheduler.cycle_started", cycle=kind)
                # A stop ends the run in progress after its batch, and the cycle.
                built.engine.context.control.stop = self.stop
                cycle = built.engine.cycle(kind)
        except SyncInProgress as exc:
            _log().warning("scheduler.cycle_skipped", reason=str(exc))
            return "skipped"
        except StoreError as exc:  # the store failed outside a run: the next cycle retries
            _log().error("scheduler.store_error", error=str(exc))
            return Status.STOPPED_STORE
        finally:
            built.close()
        log_cycle(_log(), cycle)
        return cycle.status


IntervalOption = typer.Option(
    "30m",
    "--interval",
    envvar="HYBRIDSYNC_SCHEDULER_INTERVAL",
    help="Time between cycle starts, at least 1 minute: 30m (default), 1h, 1h30m, 90s.",
)
MaxCyclesOption = typer.Option(
    None, "--max-cycles", min=1, help="Exit after this many cycles (default: run until stopped)."
)


@app.command("scheduler")
def scheduler(
    config: Path | None = ConfigOption,
    interval: str = IntervalOption,
    max_cycles: int | None = MaxCyclesOption,
) -> None:
    """Run a delta cycle every interval until SIGTERM; full runs when rules changed."""
    try:
        wanted = parse_interval(interval)
    except ValueError as exc:
        typer.echo(f"--interval: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    seconds = effective_interval(wanted)
    if seconds != wanted:
        _log().warning("scheduler.interval_raised", wanted_seconds=wanted, seconds=seconds)
    path = config_path(config)
    # A broken configuration fails now, not at 3 a.m.
    with reported(Failure(HybridsyncError, "configuration error", exit_codes.CONFIG_ERROR)):
        build_from_file(path).close()
    runner = Scheduler(path, seconds, max_cycles)
    with stopped_by_signals(runner.stop, name="scheduler"):
        phs = start_phs_thread(path, runner.stop)
        _log().info(
            "scheduler.started",
            config=str(path),
            interval_seconds=seconds,
            phs_enabled=phs is not None,
        )
        runner.run()
        runner.stop.set()  # --max-cycles ran: password hash sync stops too
        if phs is not None:
            phs.join(PHS_STOP_SECONDS)
    _log().info("scheduler.stopped", cycles=len(runner.statuses))
