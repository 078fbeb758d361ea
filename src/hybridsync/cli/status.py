"""``hybridsync status`` and ``hybridsync history``: what the store says."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli import app, exit_codes, start_logging
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.runs_text import Row, note_lines, table, terminal_width
from hybridsync.cli.sync import (
    ConfigOption,
    JsonOption,
    config_failure,
    config_path,
    engine_from,
    print_json,
)
from hybridsync.errors import HybridsyncError, StoreError

if TYPE_CHECKING:
    from hybridsync.config import Config
    from hybridsync.core.objects import ObjectError
    from hybridsync.core.runs import RunRecord
    from hybridsync.store.summary import LastRun, Query, StoreSummary

RUNS_READ = 500
"""The latest runs read for each connector's last run and last sync."""
STATUS_TABLES = {"runs", "run_errors", "connector_state", "cs_objects", "mv_objects"}


@app.command("status")
def status(config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """Connectors, their last runs, pending exports, staging mode, thresholds, due full runs.

    Rules that load but stay inert (for object types no connector syncs yet) are counted.

    Values an export sent are "awaiting confirmation" until an import reads them back;
    an object whose last sync failed is "in error" (hybridsync history --errors), not a
    pending import.
    """
    # Only the configuration and the store are read: no connector is built but those
    # keeping an attribute list (to compare it), and nothing connects.
    from hybridsync.wiring.models import attribute_hashes, load_config_file

    try:
        loaded = load_config_file(config_path(config))
        expected = Expected(loaded.rules_hash(), attribute_hashes(loaded))
    except HybridsyncError as exc:
        raise config_failure(exc) from exc
    data = _status_data(loaded, expected)
    if as_json:
        print_json(data)
        return
    _print_status(data)


@dataclass(frozen=True, slots=True)
class Expected:
    """What the configuration would record now: a difference asks for a full run."""

    rules_hash: str
    attribute_hashes: dict[str, str]


def status_data(config: Config) -> dict[str, Any]:
    """What ``status --json`` prints for ``config`` (the service's admin API serves it too)."""
    from hybridsync.wiring.models import attribute_hashes

    return _status_data(config, Expected(config.rules_hash(), attribute_hashes(config)))


def _status_data(config: Config, expected: Expected) -> dict[str, Any]:
    safety = config.safety
    with _summary(config) as summary:
        runs = summary.last_runs(RUNS_READ)
        rows = [_connector_row(summary, name, runs, expected) for name in expected.attribute_hashes]
        metaverse = summary.metaverse_objects()
    return {
        "metaverse_objects": metaverse,
        "staging_mode": config.staging_mode,
        "thresholds": {
            "deletion_threshold": safety.deletion_threshold,
            "deletion_threshold_percent": safety.deletion_threshold_percent,
            "import_guard_percent": safety.import_guard_percent,
            "error_limit": safety.error_limit,
        },
        "connectors": rows,
        "inert_rules": config.inert_rules(),
    }


@contextmanager
def _summary(config: Config) -> Iterator[StoreSummary]:
    """The store's summary: a SQLite file read with the standard library's sqlite3,
    anything else (PostgreSQL, a store not created yet) opened as a run opens it."""
    from hybridsync.store.summary import StoreSummary

    path = config.store_file()
    if path is not None and _readable_store(path):
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            yield StoreSummary(
                lambda sql, parameters: connection.execute(sql, parameters).fetchall()
            )
        finally:
            connection.close()
        return
    from hybridsync.wiring.build import open_store

    start_logging()  # opening the store (and migrating it) may log
    try:
        store = open_store(config)
    except HybridsyncError as exc:
        raise config_failure(exc) from exc
    try:
        with reported(Failure(StoreError, "stopped", exit_codes.STOPPED)):
            yield StoreSummary(_sql_query(store))
    finally:
        store.close()


def _readable_store(path: Path) -> bool:
    """Whether ``path`` is a store this version can read as it is (else it is opened, and
    migrated, as a run would)."""
    if not path.is_file():
        return False
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return names >= STATUS_TABLES


def _sql_query(store: Any) -> Query:
    """Runs the summary's SQL on the store's own connection (its errors are StoreErrors)."""
    connection = store.connection
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"

    def query(sql: str, parameters: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return list(connection.exec_driver_sql(sql.replace("?", mark), tuple(parameters)))

    return query


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
            *_inert_facts(data["inert_rules"]),
        ],
        indent="",
    )
    for row in data["connectors"]:
        typer.echo(f"\n{row['connector']}")
        _facts(_connector_facts(row), indent="  ")


def _inert_facts(inert: dict[str, int]) -> list[tuple[str, str]]:
    """Rules that load but never apply: no connector imports their object type yet."""
    if not inert:
        return []
    types = ", ".join(f"{kind} {count}" for kind, count in inert.items())
    total = sum(inert.values())
    return [("inert rules", f"{total}, for object types no connector syncs yet ({types})")]


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


def _connector_row(
    summary: StoreSummary, name: str, runs: list[LastRun], expected: Expected
) -> dict[str, Any]:
    state = summary.recorded_state(name)
    imported = state.watermark is not None
    attributes_changed = state.attribute_hash != expected.attribute_hashes[name]
    last = next((r for r in runs if r.connector == name), None)
    counts = summary.connector_counts(name, runs)
    return {
        "connector": name,
        "objects": counts.objects,
        "objects_in_error": counts.objects_in_error,
        "pending_imports": counts.pending_imports,
        "pending_exports": counts.pending_exports,
        "pending_deletes": counts.pending_deletes,
        "awaiting_confirmation": counts.awaiting_confirmation,
        "has_watermark": imported,
        "full_import_required": not imported or state.full_import_required or attributes_changed,
        "full_sync_required": state.full_sync_required or state.rules_hash != expected.rules_hash,
        "last_run": None
        if last is None
        else {
            "run_id": last.run_id,
            "profile": last.profile,
            "status": last.status,
            "ended": last.ended,
        },
    }


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
