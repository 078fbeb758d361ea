"""``hybridsync migrate``: move an Entra Connect Sync configuration to hybridsync.

``migrate entra-connect PATH --out DIR`` reads a server configuration export (the
folder ``Get-ADSyncServerConfiguration`` writes) or a Synchronization Rules Editor
export (a PowerShell script, parsed as data) and writes rule files, a
``hybridsync.toml`` and a report. Nothing is written unless the whole migration works.

``migrate verify`` runs a configuration in staging mode on a store of its own and
lists what hybridsync would change in the cloud: the proof before switching over.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.plan import print_plan
from hybridsync.cli.sync import (
    CONFIG_HELP,
    config_failure,
    engine_from,
    exit_code,
    print_cycle,
    print_json,
)
from hybridsync.cli.values import object_label, printable
from hybridsync.core.objects import ObjectError
from hybridsync.core.ports import SupportsExport
from hybridsync.core.rules import Direction
from hybridsync.core.runs import error_dict
from hybridsync.errors import ConfigError

if TYPE_CHECKING:
    from hybridsync.engine import EngineContext

migrate_app = typer.Typer(
    help="Move an Entra Connect Sync configuration to hybridsync; verify it in staging.",
    no_args_is_help=True,
)
app.add_typer(migrate_app, name="migrate")

VERIFY_STORE = "verify.db"
"""The SQLite file of a verify, in a temporary folder removed when it ends: a verify
starts from nothing, as the first run after the switch-over does, and never touches
the store a real run uses."""


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


@migrate_app.command("verify")
def verify(
    config: Annotated[Path | None, typer.Option("--config", "-c", help=CONFIG_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """What hybridsync would change in the cloud if it took over now; changes nothing.

    Imports from every connector and synchronizes in staging mode, whatever the
    configuration says, on a temporary store of its own (the configured store is
    neither read nor written), then lists every add, update and delete an export would
    make, attribute by attribute, and every synced cloud object no source object joins.
    Exit status 0 when nothing would change, 1 when something would or an object failed
    (all are listed), 2 when a run stopped, 3 for a configuration error, 5 when a server
    could not be reached.
    """
    with tempfile.TemporaryDirectory(prefix="hybridsync-verify-") as scratch:
        store_file = Path(scratch) / VERIFY_STORE
        with engine_from(config, staging=True, store_file=store_file) as built:
            try:
                refuse_targets_that_cannot_export(built.engine.context)
            except ConfigError as exc:
                raise config_failure(exc) from exc
            cycle = built.engine.cycle("initial", export=False)
            if cycle.status.stopped:  # a partial import would list differences not there
                print_json(cycle.as_dict()) if as_json else print_cycle(cycle)
                raise typer.Exit(exit_code(cycle.status))
            result = built.engine.plan()
            unjoined = built.engine.unjoined()
    errors = [error for run in cycle.runs for error in run.errors]
    if as_json:
        errors_json = [error_dict(error) for error in errors]
        print_json({**result, "unjoined": unjoined, "errors": errors_json})
    else:
        _print_verify(result, unjoined, errors)
    found = result["changes"] or unjoined or errors
    raise typer.Exit(exit_codes.DIFFERENCES if found else exit_codes.SUCCESS)


def refuse_targets_that_cannot_export(context: EngineContext) -> None:
    """A staging run exports nothing, so it never finds out that a connector with
    enabled outbound rules cannot export; the first cycle after the switch-over would.

    Raises:
        ConfigError: naming the connector and its enabled outbound rules.
    """
    for name in context.targets():
        connector = context.connector(name)
        if isinstance(connector, SupportsExport) and connector.capabilities.export:
            continue
        rules = [
            f"{rule.name!r} in {rule.origin}" if rule.origin else repr(rule.name)
            for rule in context.rules.rules
            if rule.connector == name and rule.direction is Direction.OUTBOUND and not rule.disabled
        ]
        raise ConfigError(
            f"connector {name!r} cannot export, yet enabled outbound rules write to it "
            f"({', '.join(rules)}): the first export after the switch-over would fail; "
            "disable them (the AD connector writes only mS-DS-ConsistencyGuid, with "
            "write_back_consistency_guid)"
        )


def _print_verify(
    result: dict[str, Any], unjoined: list[dict[str, Any]], errors: list[ObjectError]
) -> None:
    if result["changes"]:
        print_plan(result)
    for entry in unjoined:
        label = object_label(entry["display_name"], entry["user_principal_name"], entry["dn"])
        typer.echo(f"unjoined {entry['connector']}: {label}")
    for error in errors:
        typer.echo(f"error   {printable(str(error))}")
    if not (result["changes"] or unjoined or errors):
        typer.echo("No differences: hybridsync would change nothing in the cloud.")
        return
    typer.echo(
        f"{len(result['changes'])} objects would change, {len(unjoined)} synced objects "
        f"no source object joins, {len(errors)} object errors: each is a rule not carried "
        "over as it was, or a real drift."
    )
