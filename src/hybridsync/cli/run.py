"""``hybridsync run``: a cycle (initial, delta) or one run profile on one connector.

SIGTERM or Ctrl-C ends the run in progress after its current batch (``stopped-by-request``,
exit status 2); a second one stops at once. Either way the next run completes the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.stopping import stop_on_signals
from hybridsync.cli.sync import (
    ConfigOption,
    JsonOption,
    engine_from,
    exit_code,
    print_cycle,
    print_json,
    print_run,
)
from hybridsync.core.runs import Profile

if TYPE_CHECKING:
    # The engine and its wiring (SQLAlchemy, the connectors) load when a run starts.
    from hybridsync.wiring import Built

CYCLES = ("initial", "delta")
WHAT_HELP = "initial | delta (a whole cycle), or a profile: " + " | ".join(p.value for p in Profile)


@app.command("run")
def run(
    what: str = typer.Argument("delta", help=WHAT_HELP),
    connector: str | None = typer.Option(
        None, "--connector", help="The connector a profile runs on."
    ),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    allow_deletes: bool = typer.Option(
        False, "--allow-deletes", help="Allow this once: export more deletes than the threshold."
    ),
    allow_shrink: bool = typer.Option(
        False,
        "--allow-shrink",
        help="Allow this once: an import far smaller than the connector space.",
    ),
    staging: bool | None = typer.Option(
        None, "--staging/--no-staging", help="Override staging mode (import and sync only)."
    ),
    full: bool | None = typer.Option(
        None, "--full/--delta", help="Same as 'initial' / 'delta': a full or a delta cycle."
    ),
    profile_name: str | None = typer.Option(
        None, "--profile", help="One run profile (with --connector), same as the argument."
    ),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Bars per phase (default: on a terminal)."
    ),
) -> None:
    """Run a sync cycle, or one run profile of one connector."""
    if full is not None:
        what = "initial" if full else "delta"
    what = profile_name or what
    with engine_from(config, staging=staging, lock=f"run {what}") as built:
        if what in CYCLES:
            with _watched(built, progress, as_json):
                cycle = built.engine.cycle(
                    what, allow_deletes=allow_deletes, allow_shrink=allow_shrink
                )
            print_json(cycle.as_dict()) if as_json else print_cycle(cycle)
            raise typer.Exit(exit_code(cycle.status))
        try:
            profile = Profile(what)
        except ValueError:
            typer.echo(f"unknown cycle or profile {what!r}: {WHAT_HELP}", err=True)
            raise typer.Exit(exit_codes.CONFIG_ERROR) from None
        if connector is None:
            typer.echo("a run profile needs --connector NAME", err=True)
            raise typer.Exit(exit_codes.CONFIG_ERROR)
        with _watched(built, progress, as_json):
            report = built.engine.run(
                connector, profile, allow_deletes=allow_deletes, allow_shrink=allow_shrink
            )
        print_json(report.as_dict()) if as_json else print_run(report)
        raise typer.Exit(exit_code(report.status))


@contextmanager
def _watched(built: Built, wanted: bool | None, as_json: bool) -> Iterator[None]:
    """Signals stop the run after its batch; bars on stderr when wanted (default: on a
    terminal, never with ``--json`` unless forced)."""
    from rich.console import Console  # here: not for --help

    from hybridsync.cli.progress import ProgressBars

    console = Console(stderr=True)
    show = wanted if wanted is not None else (console.is_terminal and not as_json)
    control = built.engine.context.control
    try:
        with stop_on_signals(control.stop, event="run.stopping"):
            if not show:
                yield
                return
            with ProgressBars(console).installed(control):
                yield
    except KeyboardInterrupt:
        typer.echo("stopped at once: the next run completes the interrupted work", err=True)
        raise typer.Exit(exit_codes.STOPPED) from None
