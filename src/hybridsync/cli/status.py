"""``hybridsync status`` and ``hybridsync history``: what the store says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hybridsync.cli import app
from hybridsync.cli.sync import ConfigOption, JsonOption, engine_from, print_json


@app.command("status")
def status(config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """Objects, pending imports and exports per connector; whether full runs are due."""
    with engine_from(config) as built:
        store, context = built.store, built.engine.context
        rows = []
        for name in built.connectors:
            state = store.connector_state(name)
            rows.append(
                {
                    "connector": name,
                    "objects": store.count_cs(name),
                    "pending_imports": len(store.cs_ids(name, pending_only=True)),
                    "pending_exports": len(store.cs_ids_to_export(name)),
                    "pending_deletes": store.count_pending_deletes(name),
                    "has_watermark": state.watermark is not None,
                    "full_sync_required": state.rules_hash != context.rules.content_hash,
                }
            )
        data = {
            "metaverse_objects": store.count_mv(),
            "staging_mode": context.settings.staging_mode,
            "connectors": rows,
        }
    if as_json:
        print_json(data)
        return
    typer.echo(
        f"metaverse: {data['metaverse_objects']} objects; staging mode: {data['staging_mode']}"
    )
    for row in rows:
        typer.echo(
            f"{row['connector']:<12} objects {row['objects']:>7}"
            f"  pending imports {row['pending_imports']:>6}"
            f"  pending exports {row['pending_exports']:>6} (deletes {row['pending_deletes']})"
            + ("  FULL SYNC REQUIRED" if row["full_sync_required"] else "")
        )


@app.command("history")
def history(
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    limit: int = typer.Option(20, "--limit", help="How many runs, newest first."),
    errors: bool = typer.Option(False, "--errors", help="List each run's object errors."),
) -> None:
    """The latest runs: profile, status, counts (and object errors)."""
    with engine_from(config) as built:
        runs = built.store.runs(limit)
        data: list[dict[str, Any]] = [
            {
                "run_id": r.run_id,
                "connector": r.connector,
                "profile": r.profile,
                "status": r.status,
                "started": r.started,
                "ended": r.ended,
                "counts": dict(r.counts),
                "message": r.message,
                "errors": [str(e) for e in built.store.run_errors(r.run_id)] if errors else [],
            }
            for r in runs
        ]
    if as_json:
        print_json(data)
        return
    for run in data:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run["counts"].items()))
        typer.echo(
            f"{run['started'][:19]} {run['connector']:<10} {run['profile']:<13}"
            f" {run['status']:<34} {counts}"
        )
        for error in run["errors"]:
            typer.echo(f"    {error}")
