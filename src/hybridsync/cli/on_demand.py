"""``hybridsync sync OBJECT``: sync one object now, and show each step.

Where it runs: inside the running service when one is named or found (``POST
/api/sync-object`` on its admin address: between its cycles, under its lock), else in this
process under the store's sync lock, as ``hybridsync run`` does. ``--admin URL`` names the
service; ``--admin off``, or ``--config`` without ``--admin``, syncs in this process (the
configuration named is the one used). Otherwise the service's default address
(``127.0.0.1:8765``, or ``$HYBRIDSYNC_SERVE_ADMIN``) is tried: nothing listening there
means this process; something listening that is not a hybridsync service is left alone.

The admin token (``--admin-token-file`` or ``$HYBRIDSYNC_SERVE_ADMIN_TOKEN``) goes only to
an address named with ``--admin``, or to an https one: never over plain http to an address
found by itself (whatever listens there could read it).

What stops it exits with the status of ``hybridsync.cli.admin.problems``, the same in this
process and through the service.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.sync import ConfigOption, JsonOption, engine_from, exit_code, print_json
from hybridsync.cli.values import values_text
from hybridsync.core.runs import Status
from hybridsync.errors import HybridsyncError

DEFAULT_ADMIN = "127.0.0.1:8765"
ADMIN_ENV = "HYBRIDSYNC_SERVE_ADMIN"
CONNECT_SECONDS = 0.3
"""How long the default service address is tried before syncing in this process."""
REQUEST_SECONDS = 180.0
"""The service waits for its cycle in progress (up to 120 s), then syncs the object."""


@dataclass(frozen=True, slots=True)
class _Service:
    url: str
    named: bool
    """Named with ``--admin`` (the token may go there), rather than found by itself."""


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
        "sync in this process. Default: this process with --config; else the service at "
        "$HYBRIDSYNC_SERVE_ADMIN or 127.0.0.1:8765 when one answers there, else this process.",
    ),
    admin_ca: Path | None = typer.Option(  # noqa: B008 (typer's style, as every command)
        None, "--admin-ca", help="CA certificate (PEM) an https admin address is verified with."
    ),
    admin_token_file: Path | None = typer.Option(  # noqa: B008
        None,
        "--admin-token-file",
        envvar="HYBRIDSYNC_SERVE_ADMIN_TOKEN_FILE",
        help="File holding the service's admin token, as serve's (or set "
        "HYBRIDSYNC_SERVE_ADMIN_TOKEN). Sent only to --admin or an https address.",
    ),
    allow_deletes: bool = typer.Option(
        False, "--allow-deletes", help="Allow this once: a delete over the deletion threshold."
    ),
    staging: bool | None = typer.Option(
        None,
        "--staging/--no-staging",
        help="Override staging mode, in this process only. Staging still imports the object "
        "and updates the metaverse in the store (what the next sync starts from); it only "
        "holds back the export, which is shown.",
    ),
) -> None:
    """Sync one object now (DN, UPN or anchor): import, scope and join, metaverse, export.

    Exit status: 0 synced (or nothing to send, or out of scope: the report says which);
    1 an export was refused or an object error occurred; 2 stopped (another sync holds
    the lock or the service stayed busy, a connector failed, the deletion threshold);
    3 bad input or configuration (no such connector, a UPN naming several objects, the
    service's token missing); 4 no object has that key; 5 a server (the DC, the target,
    the service) could not be reached.
    """
    verify = _verify(admin_ca)
    service = _service(admin, staging, config, verify)
    if service is None:
        report = _in_process(config, connector, key, allow_deletes, staging)
    else:
        token = _token(service, admin_token_file)
        report = _through_service(service, key, connector, allow_deletes, token, verify)
    print_json(report) if as_json else print_report(report)
    raise typer.Exit(report_exit_code(report))


def _verify(admin_ca: Path | None) -> Any:
    """How an https admin address is verified: with ``--admin-ca``, else the system's CAs."""
    if admin_ca is None:
        return True
    import ssl

    try:
        return ssl.create_default_context(cafile=str(admin_ca))
    except (OSError, ssl.SSLError) as exc:
        _fail(f"--admin-ca {admin_ca}: {getattr(exc, 'strerror', None) or exc}")


def _service(
    admin: str | None, staging: bool | None, config: Path | None, verify: Any
) -> _Service | None:
    """The service to ask, or ``None`` to sync in this process."""
    if admin is not None and admin.strip().lower() == "off":
        return None
    if staging is not None:
        if admin is not None:
            _fail("--staging applies to a sync in this process: add --admin off")
        return None
    if admin is not None:
        return _Service(_url(admin), named=True)
    if config is not None:  # the configuration named is the one to sync with
        return None
    address = os.environ.get(ADMIN_ENV, DEFAULT_ADMIN)
    if address.strip().lower() == "off":
        return None
    url = _url(address)
    return _Service(url, named=False) if _answers(url, verify) else None


def _url(address: str) -> str:
    address = address.strip().rstrip("/")
    return address if "://" in address else f"http://{address}"


def _answers(url: str, verify: Any) -> bool:
    """Whether a hybridsync service answers at the URL: a quick TCP connect, then its
    ``/healthz`` (the key goes to nothing else that listens there). Something that
    listens but cannot be asked (TLS not verified, no answer) is an error, not a reason
    to sync elsewhere."""
    import httpx

    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.host, port), timeout=CONNECT_SECONDS):
            pass
    except OSError:
        return False  # nothing listens: no service
    try:
        answer = httpx.get(f"{url}/healthz", timeout=2.0, verify=verify)
    except httpx.HTTPError as exc:
        hint = " (--admin-ca names the CA of an https address)" if parsed.scheme == "https" else ""
        message = f"something listens at {url} but cannot be asked: {exc}{hint}"
        _fail(f"unreachable: {message}", exit_codes.UNREACHABLE)
    try:
        return answer.status_code == 200 and answer.json() == {"alive": True}
    except ValueError:
        return False


def _token(service: _Service, token_file: Path | None) -> str | None:
    """The admin token to send, or ``None``: never over plain http to a found address."""
    from hybridsync.cli.admin.settings import TOKEN_ENV

    if token_file is not None:
        try:
            token = token_file.read_text("utf-8").strip()
        except OSError as exc:
            _fail(f"--admin-token-file {token_file}: {exc.strerror or exc}")
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if not token or (not service.named and not service.url.startswith("https://")):
        return None
    return token


def _fail(message: str, status: int = exit_codes.CONFIG_ERROR) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(status)


def _in_process(
    config: Path | None, connector: str | None, key: str, allow_deletes: bool, staging: bool | None
) -> dict[str, Any]:
    with engine_from(config, staging=staging, lock=f"sync {key}") as built, _problems():
        name = connector or built.engine.context.sources()[0]
        return built.engine.sync_object(name, key, allow_deletes=allow_deletes)


@contextmanager
def _problems() -> Iterator[None]:
    """An error of the sync, reported and exited with as the service would answer it."""
    from hybridsync.cli.admin.problems import problem_of

    try:
        yield
    except HybridsyncError as exc:
        problem = problem_of(exc)
        if problem is None:
            raise
        _fail(f"{problem.kind}: {exc}", problem.exit_code)


def _through_service(
    service: _Service,
    key: str,
    connector: str | None,
    allow_deletes: bool,
    token: str | None,
    verify: Any,
) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"key": key, "allow_deletes": allow_deletes}
    if connector is not None:
        body["connector"] = connector
    try:
        answer = httpx.post(f"{service.url}/api/sync-object", json=body, headers=headers,
                            timeout=REQUEST_SECONDS, verify=verify)  # fmt: skip
    except httpx.HTTPError as exc:
        _fail(f"unreachable: the service at {service.url}: {exc}", exit_codes.UNREACHABLE)
    return _answered(service, answer)


def _answered(service: _Service, answer: Any) -> dict[str, Any]:
    from hybridsync.cli.admin.problems import PROBLEMS

    try:
        data = answer.json()
    except ValueError:
        data = None
    if answer.status_code == 200 and isinstance(data, dict):
        return data
    url = service.url
    if answer.status_code == 401:
        if service.named or url.startswith("https://"):
            _fail(f"the service at {url} wants its token: --admin-token-file or "
                  "$HYBRIDSYNC_SERVE_ADMIN_TOKEN")  # fmt: skip
        _fail(f"the service at {url} wants its token, which is not sent over plain http to "
              f"an address found by itself: name it with --admin {url}")  # fmt: skip
    error = data.get("error") if isinstance(data, dict) else None
    kind = data.get("kind") if isinstance(data, dict) else None
    problem = PROBLEMS.get(str(kind))
    status = problem.exit_code if problem is not None else exit_codes.UNREACHABLE
    _fail(f"{kind or 'error'}: {error or f'HTTP {answer.status_code} from {url}'}", status)


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
    if "filtered" in step:
        typer.echo(f"2. scope: NOT synced, {step['filtered']} (rules: {rules})")
    else:
        state = "in scope" if step["in_scope"] else "NOT in scope"
        typer.echo(f"2. scope: {state} (rules: {rules})")
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
