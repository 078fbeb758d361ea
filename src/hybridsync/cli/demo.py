"""``hybridsync demo``: the Contoso sample synced into an embedded cloud directory."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.sync import exit_code, print_json
from hybridsync.errors import HybridsyncError

if TYPE_CHECKING:
    from rich.console import Console

    from hybridsync.wiring.demo import DemoGroup, DemoResult

DataDirOption = typer.Option(
    Path(".hybridsync/demo"),
    "--data-dir",
    help="Where the demo keeps its sample, store and cloud directory.",
)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
PAST = {"add": "added", "update": "updated", "delete": "deleted"}


@app.command("demo")
def demo(
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Sync a sample organization into a local cloud directory: no server, no setup.

    Employees (contoso.com) become members, partners (partners.contoso.com) guests;
    the sample's groups follow with their members, and employees get their managers.
    Run it again: the second run finds nothing to export. Exits 0 once the sample is
    synced (object errors are listed, not fatal here), 2 if a run stopped.
    """
    # Imported here: the cloud directory's web stack is needed by this command only.
    from hybridsync.wiring.demo import run_demo

    with reported(Failure(HybridsyncError, "configuration error", exit_codes.CONFIG_ERROR)):
        result = run_demo(data_dir)
    code = exit_code(result.cycle.status)
    if as_json:
        print_json(_as_dict(result))
    else:
        _print(result)
    # Object errors are part of the tour (shown above); only a stopped run fails the demo.
    raise typer.Exit(exit_codes.STOPPED if code == exit_codes.STOPPED else exit_codes.SUCCESS)


def _as_dict(result: DemoResult) -> dict[str, Any]:
    def user(u: dict[str, Any]) -> dict[str, Any]:
        return {k: u.get(k) for k in ("userPrincipalName", "displayName", "userType")}

    return {
        "data_dir": str(result.data_dir),
        "config": str(result.config),
        "first_run": result.first_run,
        "exported": result.exported,
        "members": [user(u) for u in result.members],
        "guests": [user(u) for u in result.guests],
        "groups": [{"displayName": g.display_name, "members": g.members} for g in result.groups],
        "cycle": result.cycle.as_dict(),
    }


def _print(result: DemoResult) -> None:
    from rich.console import Console  # here: not for --help

    console = Console(highlight=False)
    exported = result.exported
    where = result.data_dir
    if result.first_run:
        console.print(f"[bold]Synced the Contoso sample into a cloud directory[/] ({where})")
    else:
        console.print(f"[bold]Synced the Contoso sample again[/] ({where})")
    changes = ", ".join(f"{n} {PAST.get(kind, kind)}" for kind, n in exported.items() if n)
    changes = changes or "nothing"
    console.print(f"exported to the cloud directory: {changes}")
    console.print(_users_table(f"Members ({len(result.members)})", result.members), markup=False)
    console.print(_users_table(f"Guests ({len(result.guests)})", result.guests), markup=False)
    console.print(_groups_list(result.groups), markup=False)
    errors = [e for run in result.cycle.runs for e in run.errors]
    for error in errors:
        console.print(f"[yellow]object error[/] {error.dn}: {error.message}", soft_wrap=True)
    if errors:
        console.print("  (expected: the documented userType rule refuses a user without UPN)")
    _next_steps(console, result.config, result.data_dir)


def _users_table(title: str, users: list[dict[str, Any]]) -> str:
    """Plain columns, like every other table the commands print."""
    rows = [("userPrincipalName", "displayName", "enabled")]
    rows += [
        (str(u.get("userPrincipalName")), str(u.get("displayName")),
         "yes" if u.get("accountEnabled") else "no")
        for u in users
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    return "\n".join([title, *lines])


def _groups_list(groups: list[DemoGroup]) -> str:
    """Each group and its direct members (users by UPN, a nested group by its name)."""
    lines = [f"Groups ({len(groups)})"]
    for group in groups:
        lines.append(f"  {group.display_name} ({len(group.members)} members)")
        lines += [f"    {member}" for member in group.members]
    return "\n".join(lines)


def _next_steps(console: Console, config: Path, data_dir: Path) -> None:
    c = shlex.quote(str(config))
    cloud = shlex.quote(str(data_dir / "cloud"))
    steps = [
        ("every change the next export would make", f"hybridsync plan --config {c}"),
        (
            "why Michael Sullivan is a guest, rule by rule",
            f"hybridsync preview msullivan@partners.contoso.com --config {c}",
        ),
        (
            f"edit {data_dir / 'contoso.ldif'}, then sync the change",
            f"hybridsync run --config {c}",
        ),
        (
            "or sync one user now, every step shown",
            f"hybridsync sync avance@contoso.com --config {c}",
        ),
        (
            "serve the cloud directory (keep it running)",
            f"hybridsync cloud serve --data-dir {cloud}",
        ),
        (
            "in another terminal: a token for the sync app, then Graph's users",
            f"TOKEN=$(hybridsync cloud token --app-file {cloud}/sync-app.json)",
        ),
        (
            "",
            f'curl --cacert {cloud}/tls/ca.pem -H "Authorization: Bearer $TOKEN" '
            "https://127.0.0.1:8443/v1.0/users",
        ),
    ]
    console.print("\n[bold]Try next[/]")
    for why, command in steps:
        if why:
            console.print(f"  [dim]# {why}[/]", soft_wrap=True)
        console.print(f"  {command}", soft_wrap=True)
