"""``hybridsync status`` and ``hybridsync history``: what the store says."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.runs_text import Row, note_lines, table, terminal_width
from hybridsync.cli.sync import ConfigOption, JsonOption, engine_from, print_json

if TYPE_CHECKING:
    from hybridsync.core.objects import ObjectError
    from hybridsync.core.runs import RunRecord

SYNC_PROFILES = ("full-sync", "delta-sync")
CHUNK = 1000


@app.command("status")
def status(config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """Connectors, their last runs, pending exports, staging mode, thresholds, due full runs.

    Values an export sent are "awaiting confirmation" until an import reads them back;
    an object whose last sync failed is "in error" (hybridsync history --errors), not a
    pending import.
    """
    with engine_from(config) as built:
        store, settings = built.store, built.engine.context.settings
        records = store.runs(500)
        rows = [_connector_row(built, name, records) for name in built.connectors]
        data = {
            "metaverse_objects": store.count_mv(),
            "staging_mode": settings.staging_mode,
            "thresholds": {
                "deletion_threshold": settings.deletion_threshold,
                "deletion_threshold_percent": settings.deletion_threshold_percent,
                "import_guard_percent": settings.import_guard_percent,
                "error_limit": settings.error_limit,
            },
            "connectors": rows,
        }
    if as_json:
        print_json(data)
        return
    _print_status(data)


def _print_status(data: dict[str, Any]) -> None:
    """One fact a line: the settings, then a block per connector."""
    limits = data["thresholds"]
    threshold = f"{limits['deletion_threshold']} objects"
    if limits["deletion_threshold_percent"]:
        threshold += f" or {limits['deletion_threshold_percent']:g}%"
    _facts(
        [
            ("metaverse", f"{data['metaverse_objects']} objects"),
            ("staging mode", "on (nothing is exported)" if data["staging_mode"] else "off"),
            ("deletion threshold", threshold),
            ("import guard", f"{limits['import_guard_percent']:g}%"),
        ],
        indent="",
    )
    for row in data["connectors"]:
        typer.echo(f"\n{row['connector']}")
        _facts(_connector_facts(row), indent="  ")


def _connector_facts(row: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [("objects", str(row["objects"]))]
    if row["objects_in_error"]:
        facts.append(("in error", f"{row['objects_in_error']} (hybridsync history --errors)"))
    facts.append(("pending imports", str(row["pending_imports"])))
    exports = str(row["pending_exports"])
    if row["pending_deletes"]:
        exports += f" ({row['pending_deletes']} deletes)"
    facts.append(("pending exports", exports))
    if row["awaiting_confirmation"]:
        waiting = f"{row['awaiting_confirmation']} (exported; the next import confirms them)"
        facts.append(("awaiting confirmation", waiting))
    due = [
        what for what in ("full import", "full sync") if row[what.replace(" ", "_") + "_required"]
    ]
    if due:
        facts.append(("due", " and ".join(due) + " (the next delta cycle runs it)"))
    last = row["last_run"]
    if last is not None:
        ended = str(last["ended"] or "(in progress)")[:16].replace("T", " ")
        facts.append(("last run", f"{last['profile']} {last['status']}, {ended} UTC"))
    return facts


def _facts(facts: list[tuple[str, str]], indent: str) -> None:
    width = max(len(name) for name, _ in facts) + 2
    for name, value in facts:
        typer.echo(f"{indent}{name + ':':<{width}}{value}")


def _connector_row(built: Any, name: str, records: list[Any]) -> dict[str, Any]:
    from hybridsync.engine.imports import attribute_hash

    store, context = built.store, built.engine.context
    state = store.connector_state(name)
    imported = state.watermark is not None
    attributes_changed = state.attribute_hash != attribute_hash(built.connectors[name])
    last = next((r for r in records if r.connector == name), None)
    in_error = _error_keys(store, name, records)
    pending = _count_split(store, store.cs_ids(name, pending_only=True), lambda cs: (
        f"dn:{cs.dn}" in in_error or cs.anchor in in_error
    ))  # fmt: skip
    exports = _count_split(store, store.cs_ids_to_export(name), lambda cs: (
        cs.pending_export is None and not cs.export_in_flight
    ))  # fmt: skip
    return {
        "connector": name,
        "objects": store.count_cs(name),
        "objects_in_error": len({key for key in in_error if key.startswith("dn:")}),
        "pending_imports": pending[False],
        "pending_exports": exports[False],
        "pending_deletes": store.count_pending_deletes(name),
        "awaiting_confirmation": exports[True],
        "has_watermark": imported,
        "full_import_required": not imported or state.full_import_required or attributes_changed,
        "full_sync_required": state.full_sync_required
        or state.rules_hash != context.rules.content_hash,
        "last_run": None
        if last is None
        else {
            "run_id": last.run_id,
            "profile": last.profile,
            "status": last.status,
            "ended": last.ended,
        },
    }


def _error_keys(store: Any, name: str, records: list[Any]) -> set[str]:
    """The DNs (``dn:…``) and anchors of the objects the connector's last sync failed on."""
    last_sync = next(
        (r for r in records if r.connector == name and r.profile in SYNC_PROFILES), None
    )
    if last_sync is None:
        return set()
    keys: set[str] = set()
    for error in store.run_errors(last_sync.run_id):
        keys.add(f"dn:{error.dn}")
        if error.anchor:
            keys.add(error.anchor)
    return keys


def _count_split(store: Any, ids: list[str], test: Any) -> dict[bool, int]:
    """How many of the objects ``ids`` pass ``test`` (``True``) and how many do not."""
    counts = {True: 0, False: 0}
    for start in range(0, len(ids), CHUNK):
        for cs in store.get_cs_many(ids[start : start + CHUNK]):
            counts[bool(test(cs))] += 1
    return counts


RunArgument = typer.Argument(
    None, help="A run id (or its first characters): that run and all its object errors."
)
ALL_RUNS = 1_000_000


@app.command("history")
def history(
    run: str | None = RunArgument,
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    limit: int = typer.Option(20, "--limit", help="How many runs, newest first."),
    errors: bool = typer.Option(
        False, "--errors", help="Only runs with object errors, and list their errors."
    ),
    connector: str | None = typer.Option(None, "--connector", help="Only this connector's runs."),
    status_prefix: str | None = typer.Option(
        None, "--status", help="Only runs whose status starts so (stopped, completed, success)."
    ),
    grep: str | None = typer.Option(
        None, "--grep", help="Only object errors whose DN, rule, attribute or message has this."
    ),
) -> None:
    """The latest runs: profile, status, counts; a run's object errors, filterable."""
    with engine_from(config) as built:
        store = built.store
        filtered = any(x is not None for x in (run, connector, status_prefix, grep))
        records = [
            r
            for r in store.runs(ALL_RUNS if filtered else limit)
            if (run is None or r.run_id.startswith(run))
            and (connector is None or r.connector == connector)
            and (status_prefix is None or r.status.startswith(status_prefix))
        ]
        if run is not None and not records:
            typer.echo(f"not found: no run with id {run!r}", err=True)
            raise typer.Exit(exit_codes.NOT_FOUND)
        show_errors = errors or run is not None or grep is not None
        # --errors and --grep list only the runs that have (matching) object errors.
        only_failing = errors or grep is not None
        data = []
        for record in records:
            entry = _run_entry(record, store.run_errors(record.run_id) if show_errors else [], grep)
            if not only_failing or entry["errors"]:
                data.append(entry)
            if len(data) == limit:
                break
    if as_json:
        print_json(data)
        return
    _print_history(data)


def _print_history(data: list[dict[str, Any]]) -> None:
    """The runs in the table ``run`` prints, each run's message and errors under it."""
    if not data:
        typer.echo("no runs")
        return
    width = terminal_width()
    header, groups = table([_history_row(e) for e in data], ("run", "started"), width)
    typer.echo(header)
    for lines, entry in zip(groups, data, strict=True):
        typer.echo("\n".join(lines))
        if entry["message"]:
            typer.echo("\n".join(note_lines(entry["message"], width, indent="    ")))
        for error in entry["errors"]:
            typer.echo(f"    {error['text']}")


def _history_row(entry: dict[str, Any]) -> Row:
    # Month, day and minute (UTC) keep the row within 80 columns; --json has it all.
    started = str(entry["started"])[5:16].replace("T", " ")
    return Row(
        entry["connector"],
        entry["profile"],
        entry["status"],
        _seconds_between(entry["started"], entry["ended"]),
        entry["counts"],
        len(entry["errors"]),  # listed with --errors, a run id or --grep
        lead=(entry["run_id"][:8], started),
    )


def _seconds_between(started: Any, ended: Any) -> float | None:
    try:
        took = datetime.fromisoformat(str(ended)) - datetime.fromisoformat(str(started))
    except (TypeError, ValueError):  # a run still in progress has no end
        return None
    return took.total_seconds()


def _run_entry(record: RunRecord, errors: list[ObjectError], grep: str | None) -> dict[str, Any]:
    needle = (grep or "").lower()
    shown = [e for e in errors if needle in str(e).lower()]
    from hybridsync.core.runs import run_dict

    entry = run_dict(record, shown)
    for error, data in zip(shown, entry["errors"], strict=True):
        data["text"] = str(error)
    return entry
