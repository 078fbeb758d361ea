"""``hybridsync sync OBJECT``: sync one object now, and show each step.

Where it runs: inside the running service when one answers (``POST /api/sync-object``
on its admin address: between its cycles, under its lock), else in this process under
the store's sync lock, as ``hybridsync run`` does. ``--admin URL`` names the service;
without it the service's default address (``127.0.0.1:8765``, or
``$HYBRIDSYNC_SERVE_ADMIN``) is tried with a quick connect, and ``--admin off`` always
syncs in this process.

Exit status: 0 the object was synced (or had nothing to send, or is out of scope: the
report says which), 1 an export was refused or an object error occurred, 2 a run stopped
(another sync holds the lock, the deletion threshold), 3 a configuration error, 4 no object
has that key, 5 a server (the DC, the target, the service) could not be reached.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.sync import ConfigOption, JsonOption, engine_from, exit_code, print_json
from hybridsync.cli.values import values_text
from hybridsync.core.runs import Status
from hybridsync.errors import ConnectorError, UnreachableError

DEFAULT_ADMIN = "127.0.0.1:8765"
ADMIN_ENV = "HYBRIDSYNC_SERVE_ADMIN"
CONNECT_SECONDS = 0.3
"""How long the default service address is tried before syncing in this process."""
REQUEST_SECONDS = 180.0
"""The service waits for its cycle in progress (up to 120 s), then syncs the object."""
_ANSWERS = {
    "not-found": exit_codes.NOT_FOUND,
    "in-progress": exit_codes.STOPPED,
    "configuration": exit_codes.CONFIG_ERROR,
    "bad-request": exit_codes.CONFIG_ERROR,
    "unreachable": exit_codes.UNREACHABLE,
    "not-running": exit_codes.UNREACHABLE,
}


@app.command("sync")
def sync_object(
    key: str = typer.Argument(..., help="The object's DN, UPN or anchor (objectGUID)."),
    connector: str | None = typer.Option(
        None, "--connector", help="The source to read it from (default: the first source)."
    ),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    admin: str | None = typer.Option(
        None,
        "--admin",
        help="A running service's admin address (HOST:PORT or an http(s) URL), or 'off' to "
        "sync in this process. Default: the service at $HYBRIDSYNC_SERVE_ADMIN or "
        "127.0.0.1:8765 when one answers there, else this process.",
    ),
    admin_ca: Path | None = typer.Option(  # noqa: B008 (typer's style, as every command)
        None, "--admin-ca", help="CA certificate (PEM) an https admin address is verified with."
    ),
    allow_deletes: bool = typer.Option(
        False, "--allow-deletes", help="Allow this once: a delete over the deletion threshold."
    ),
    staging: bool | None = typer.Option(
        None,
        "--staging/--no-staging",
        help="Override staging mode (show what would be exported; in this process only).",
    ),
) -> None:
    """Sync one object now (DN, UPN or anchor): import, scope and join, metaverse, export."""
    url = _service_url(admin, staging)
    if url is None:
        report = _in_process(config, connector, key, allow_deletes, staging)
    else:
        report = _through_service(url, key, connector, admin_ca)
    print_json(report) if as_json else print_report(report)
    raise typer.Exit(report_exit_code(report))


def _service_url(admin: str | None, staging: bool | None) -> str | None:
    """The admin URL of the service to ask, or ``None`` to sync in this process."""
    if admin is not None and admin.strip().lower() == "off":
        return None
    if staging is not None:
        if admin is not None:
            typer.echo("--staging applies to a sync in this process: add --admin off", err=True)
            raise typer.Exit(exit_codes.CONFIG_ERROR)
        return None
    if admin is not None:
        return _url(admin)
    address = os.environ.get(ADMIN_ENV, DEFAULT_ADMIN)
    if address.strip().lower() == "off":
        return None
    url = _url(address)
    return url if _answers(url) else None


def _url(address: str) -> str:
    address = address.strip().rstrip("/")
    return address if "://" in address else f"http://{address}"


def _answers(url: str) -> bool:
    """Whether a hybridsync service answers at the URL: a quick TCP connect, then its
    ``/healthz`` (the key, and a token, go to nothing else that listens there)."""
    import httpx

    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.host, port), timeout=CONNECT_SECONDS):
            pass
        answer = httpx.get(f"{url}/healthz", timeout=2.0)
        return answer.status_code == 200 and answer.json() == {"alive": True}
    except (OSError, httpx.HTTPError, ValueError):
        return False


def _in_process(
    config: Path | None, connector: str | None, key: str, allow_deletes: bool, staging: bool | None
) -> dict[str, Any]:
    failures = (
        Failure(UnreachableError, "unreachable", exit_codes.UNREACHABLE),
        Failure(ConnectorError, "stopped", exit_codes.STOPPED),
    )
    with engine_from(config, staging=staging, lock=f"sync {key}") as built, reported(*failures):
        name = connector or built.engine.context.sources()[0]
        return built.engine.sync_object(name, key, allow_deletes=allow_deletes)


def _through_service(
    url: str, key: str, connector: str | None, admin_ca: Path | None
) -> dict[str, Any]:
    import httpx

    from hybridsync.cli.admin.settings import TOKEN_ENV

    headers = {}
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {"key": key}
    if connector is not None:
        body["connector"] = connector
    verify: Any = str(admin_ca) if admin_ca is not None else True
    try:
        answer = httpx.post(f"{url}/api/sync-object", json=body, headers=headers,
                            timeout=REQUEST_SECONDS, verify=verify)  # fmt: skip
    except httpx.HTTPError as exc:
        typer.echo(f"unreachable: the service at {url}: {exc}", err=True)
        raise typer.Exit(exit_codes.UNREACHABLE) from exc
    return _answered(url, answer)


def _answered(url: str, answer: Any) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        data = None
    if answer.status_code == 200 and isinstance(data, dict):
        return data
    error = data.get("error") if isinstance(data, dict) else None
    if answer.status_code == 401:
        typer.echo(f"the service at {url} wants its token: set $HYBRIDSYNC_SERVE_ADMIN_TOKEN",
                   err=True)  # fmt: skip
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    kind = data.get("kind") if isinstance(data, dict) else None
    status = _ANSWERS.get(str(kind), exit_codes.UNREACHABLE)
    typer.echo(f"{kind or 'error'}: {error or f'HTTP {answer.status_code} from {url}'}", err=True)
    raise typer.Exit(status)


def report_exit_code(report: dict[str, Any]) -> int:
    """The worst of the runs' exit statuses; 1 when the report lists errors."""
    worst = exit_codes.SUCCESS
    for run in report.get("runs", []):
        code = exit_code(Status(run["status"]))
        if code != exit_codes.SUCCESS and (worst == exit_codes.SUCCESS or code > worst):
            worst = code
    if worst == exit_codes.SUCCESS and report.get("status") == "errors":
        return exit_codes.OBJECT_ERRORS
    return worst


# --- text ---------------------------------------------------------------------------------


def print_report(report: dict[str, Any]) -> None:
    typer.echo(f"sync {report['key']} (from {report['connector']}): {report['status']}")
    if "import" in report:
        _print_import(report["import"])
    _print_scope(report.get("scope", {}))
    if "metaverse" in report:
        _print_metaverse(report["metaverse"], report.get("errors", []))
    _print_export(report.get("export", []), report["status"])
    for run in report.get("runs", []):
        if run["message"]:
            typer.echo(f"{run['connector']} {run['profile']}: {run['message']}")


def _print_import(step: dict[str, Any]) -> None:
    typer.echo(f"1. import: {step['dn']} (anchor {step['anchor']}): {step['change']}")
    for name, values in step["values"].items():
        typer.echo(f"     {name} = {values_text(values)}")


def _print_scope(step: dict[str, Any]) -> None:
    if "reason" in step:
        typer.echo(f"2. scope: not in scope: {step['reason']}")
        return
    rules = ", ".join(step["rules_in_scope"]) or "none"
    typer.echo(f"2. scope: {'in scope' if step['in_scope'] else 'NOT in scope'} (rules: {rules})")
    for rule in step["rules_out_of_scope"]:
        failed = "; ".join(rule["failed"]) or "no scope group holds"
        typer.echo(f"     rule {rule['rule']!r} not in scope: {failed}")
    join = step["join"]
    by = f" by rule {join['rule']!r}" if join["rule"] else ""
    to = f" -> metaverse object {join['metaverse_object']}" if join["metaverse_object"] else ""
    typer.echo(f"   join: {join['action']}{by}{to}")
    for line in join["steps"]:
        typer.echo(f"     {line}")
    if join["error"]:
        typer.echo(f"     error: {join['error']}")


def _print_metaverse(step: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    what = "deleted" if step["deleted"] else f"{len(step['changes'])} attribute(s) change"
    typer.echo(f"3. metaverse {step['object'] or '(none)'}: {what}")
    for change in step["changes"]:
        rule = f"   <- {change['rule']}" if change["rule"] else ""
        before, after = values_text(change["before"]), values_text(change["after"])
        typer.echo(f"     {change['attribute']}: {before} -> {after}{rule}")
    for error in [*step["errors"], *errors]:
        where = f"rule {error['rule']!r}, " if error.get("rule") else ""
        typer.echo(f"     error: {where}{error.get('attribute') or ''}: {error['message']}")


def _print_export(steps: list[dict[str, Any]], status: str) -> None:
    if not steps:
        typer.echo("4. export: nothing to send" if status != "out-of-scope" else "4. export: none")
        return
    typer.echo("4. export:")
    for step in steps:
        answer = step["outcome"] + (f": {step['message']}" if step.get("message") else "")
        target_id = f" (id {step['target_id']})" if step.get("target_id") else ""
        typer.echo(f"   {step['target']}: {step['action']} {step.get('dn', '')}".rstrip())
        for name, values in step["attributes"].items():
            typer.echo(f"     {name} = {values_text(values)}")
        typer.echo(f"     answer: {answer}{target_id}")
        if step.get("confirmation"):
            typer.echo(f"     confirmed: {step['confirmation']}")
