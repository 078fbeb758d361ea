"""``hybridsync plan`` and ``hybridsync apply``: review every change, then export exactly it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.sync import (
    ConfigOption,
    JsonOption,
    engine_from,
    exit_code,
    print_cycle,
    print_json,
)
from hybridsync.cli.values import object_label, values_text
from hybridsync.errors import os_error_reason

OutOption = typer.Option(None, "--out", "-o", help="Save the plan (JSON) for apply.")
PlanArgument = typer.Argument(..., help="A plan saved with: hybridsync plan --out FILE")


@app.command("plan")
def plan(
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    out: Path | None = OutOption,
    refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="Import and sync first."),
) -> None:
    """Every add, update and delete the next export would make, attribute by attribute."""
    with engine_from(config, lock="plan") as built:
        if refresh:
            cycle = built.engine.cycle("delta", export=False)
            if exit_code(cycle.status) == exit_codes.STOPPED:
                print_cycle(cycle)
                raise typer.Exit(exit_codes.STOPPED)
        result = built.engine.plan()
    if out is not None:
        out.write_text(
            json.dumps(result, indent=2, default=str, ensure_ascii=False), encoding="utf-8"
        )
    if as_json:
        print_json(result)
    else:
        print_plan(result)


@app.command("apply")
def apply(
    plan_file: Path = PlanArgument,
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    allow_deletes: bool = typer.Option(
        False, "--allow-deletes", help="Allow deletes beyond the threshold."
    ),
) -> None:
    """Export exactly a saved plan; refuse it if the pending changes differ now."""
    try:
        saved = json.loads(plan_file.read_text(encoding="utf-8"))
    except OSError as exc:
        typer.echo(f"cannot read the plan {plan_file}: {os_error_reason(exc)}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    except ValueError as exc:
        typer.echo(f"{plan_file} is not a plan saved with hybridsync plan --out: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    with engine_from(config, lock="apply") as built:
        cycle = built.engine.apply(saved, allow_deletes=allow_deletes)
    print_json(cycle.as_dict()) if as_json else print_cycle(cycle)
    raise typer.Exit(exit_code(cycle.status))


def print_plan(result: dict[str, Any]) -> None:
    """Each object by its name and UPN (the DN is in --json), then its attribute changes."""
    summary = ", ".join(f"{kind} {count}" for kind, count in sorted(result["summary"].items()))
    typer.echo(f"plan {result['fingerprint'][:12]}: {summary or 'no changes'}")
    for change in sorted(result["changes"], key=_review_order):
        label = object_label(
            change.get("display_name"), change.get("user_principal_name"), change["dn"]
        )
        typer.echo(f"{change['kind']:<7} {change['connector']}: {label}")
        for item in change["attributes"]:
            before, after = values_text(item["before"]), values_text(item["after"])
            typer.echo(f"    {item['name']}: {before} -> {after}")


def _review_order(change: dict[str, Any]) -> tuple[str, ...]:
    name = change.get("display_name") or change.get("user_principal_name") or change["dn"]
    return change["connector"], change["kind"], str(name).casefold()
