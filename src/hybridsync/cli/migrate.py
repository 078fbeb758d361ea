"""``hybridsync migrate``: move an Entra Connect Sync configuration to hybridsync.

``migrate entra-connect PATH --out DIR`` reads a server configuration export (the
folder ``Get-ADSyncServerConfiguration`` writes) or a Synchronization Rules Editor
export (a PowerShell script, parsed as data) and writes rule files, a
``hybridsync.toml`` and a report. Nothing is written unless the whole migration works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.errors import ConfigError

migrate_app = typer.Typer(
    help="Move an Entra Connect Sync configuration (rules, connectors) to hybridsync.",
    no_args_is_help=True,
)
app.add_typer(migrate_app, name="migrate")


@migrate_app.command("entra-connect")
def entra_connect(
    path: Annotated[
        Path,
        typer.Argument(
            help="The folder Get-ADSyncServerConfiguration wrote, or a Synchronization "
            "Rules Editor export (.ps1, read as data, never run)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The folder to write (must not exist).")],
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON on stdout.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace --out when it is an earlier migration's folder."),
    ] = False,
) -> None:
    """Write rule files, a hybridsync.toml and a report from a Connect export.

    Every rule is carried over unchanged, carried over with a change, or not carried
    over, each change with its reason; customized rules are listed apart. Exit status
    0 when the files were written, 3 when the export or --out is unusable (nothing is
    written then).
    """
    from hybridsync.config.migrate.migration import migrate_export, write_migration

    try:
        migration = migrate_export(path)
        write_migration(migration, out, force=force)
    except ConfigError as exc:
        if as_json:
            typer.echo(json.dumps({"error": "configuration", "message": str(exc)}))
        else:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    if as_json:
        typer.echo(json.dumps({"out": str(out), **migration.report.to_json()}, indent=2))
        return
    typer.echo(migration.report.to_text(), nl=False)
    typer.echo(f"\nWrote {len(migration.files) + 1} files to {out}.")
