"""``hybridsync run``: a cycle (initial, delta) or one run profile on one connector."""

from __future__ import annotations

from pathlib import Path

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.sync import (
    ConfigOption,
    JsonOption,
    engine_from,
    exit_code,
    print_cycle,
    print_json,
    print_run,
)
from hybridsync.engine import Profile

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
) -> None:
    """Run a sync cycle, or one run profile of one connector."""
    with engine_from(config, staging=staging, lock=f"run {what}") as built:
        if what in CYCLES:
            cycle = built.engine.cycle(what, allow_deletes=allow_deletes, allow_shrink=allow_shrink)
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
        report = built.engine.run(
            connector, profile, allow_deletes=allow_deletes, allow_shrink=allow_shrink
        )
        print_json(report.as_dict()) if as_json else print_run(report)
        raise typer.Exit(exit_code(report.status))
