"""``hybridsync init``: write a commented configuration; ``--check`` tests both sides."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer._click.core import ParameterSource

from hybridsync.cli import app, exit_codes
from hybridsync.cli.init_template import (
    OPTIONS,
    PLACEHOLDER,
    InitAnswers,
    Placeholder,
    placeholders,
    render,
)
from hybridsync.cli.sync import (
    ConfigOption,
    JsonOption,
    config_failure,
    config_path,
    print_json,
)

TargetOption = typer.Option(
    "cloud", "--target", help="cloud (hybridsync's cloud directory) or entra (Entra ID)."
)
IncludeOuOption = typer.Option(
    [], "--include-ou", help="An OU to sync (repeat it); none: the whole domain."
)


@app.command("init")
def init(
    context: typer.Context,
    config: Path | None = ConfigOption,
    target: str = TargetOption,
    ad_url: str = typer.Option("ldaps://dc1.corp.contoso.com", "--ad-url", help="The DC."),
    bind_user: str = typer.Option(
        "svc-hybridsync@corp.contoso.com", "--bind-user", help="The account that reads AD."
    ),
    ad_ca_file: str | None = typer.Option(None, "--ad-ca-file", help="CA of the DC's cert."),
    include_ou: list[str] = IncludeOuOption,
    partner_suffix: str = typer.Option(
        "@partners.contoso.com", "--partner-suffix", help="Guests: UPNs ending with this."
    ),
    user_type_attribute: str | None = typer.Option(
        None, "--user-type-attribute", help="Or: an attribute holding Member or Guest."
    ),
    cloud_url: str = typer.Option(
        "https://cloud.contoso.com", "--cloud-url", help="The cloud directory's base URL."
    ),
    tenant: str = typer.Option("contoso.com", "--tenant", help="Tenant id or domain."),
    client_id: str = typer.Option(
        "00000000-0000-0000-0000-000000000000",
        "--client-id",
        help="The sync engine's application (client) id.",
    ),
    cloud_ca_file: str | None = typer.Option(
        None, "--cloud-ca-file", help="CA of the cloud's cert (else the system's)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    check: bool = typer.Option(False, "--check", help="Test the connection to both sides."),
    as_json: bool = JsonOption,
) -> None:
    """Write a commented hybridsync.toml (AD to the cloud directory or Entra ID).

    With --check on an existing file, only test it: bind to AD and read, get a token
    from the cloud side and read. Secrets come from HYBRIDSYNC_AD_PASSWORD and
    HYBRIDSYNC_CLOUD_SECRET (or the files the configuration names).
    """
    path = config_path(config)
    if target not in ("cloud", "entra"):
        typer.echo(f"--target: cloud or entra, not {target!r}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    if path.exists() and not force and not check:
        typer.echo(f"{path} exists: use --force to replace it, --check to test it", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    if not path.exists() or force:
        answers = InitAnswers(
            target, ad_url, bind_user, ad_ca_file, tuple(include_ou), partner_suffix,
            user_type_attribute, cloud_url, tenant, client_id, cloud_ca_file,
            examples=_not_given(context),
        )  # fmt: skip
        path.write_text(render(answers), encoding="utf-8")
        if not check:
            _written(path, as_json)
            return
    _check(path, as_json)


def _not_given(context: typer.Context) -> frozenset[str]:
    """The options left at their example value (a value given equal to it is meant)."""
    return frozenset(
        name
        for name in OPTIONS
        if context.get_parameter_source(name) in (None, ParameterSource.DEFAULT)
    )


def _written(path: Path, as_json: bool) -> None:
    left = placeholders(path.read_text(encoding="utf-8"))
    next_step = f"hybridsync init --check --config {path}"
    if as_json:
        document = {"written": str(path), "placeholders": [p.as_dict() for p in left]}
        print_json(document | {"next": next_step})
        return
    typer.echo(f"wrote {path}")
    if left:
        typer.echo(f"{len(left)} example values to replace (marked '{PLACEHOLDER}'):")
        for item in left:
            typer.echo(f"  line {item.line}: {item.key} = {item.value}: {item.hint}")
    typer.echo(f"next: replace them, set the secrets, then  {next_step}")


CHECK_LIMITS: dict[str, dict[str, Any]] = {
    # A check answers in seconds: no retries, short timeouts (runs keep the configured ones).
    "ad": {"reconnect_attempts": 0, "timeout_seconds": 15},
    "graph": {"max_retries": 0, "timeout": 15},
}


def _check(path: Path, as_json: bool) -> None:
    from hybridsync.errors import HybridsyncError
    from hybridsync.wiring import build, load_config_file

    try:
        config = load_config_file(path)  # an unreadable file is a configuration error
        left = placeholders(path.read_text(encoding="utf-8"))
        entries = [{**e, **CHECK_LIMITS.get(str(e.get("type")), {})} for e in config.connectors]
        built = None if left else build(config.model_copy(update={"connectors": entries}))
    except HybridsyncError as exc:
        raise config_failure(exc) from exc
    if built is None:
        _refuse_placeholders(path, left, as_json)
    results = []
    try:
        for name, connector in built.connectors.items():
            if not as_json:
                typer.echo(f"checking {name}...")
            results.append(_probe(name, connector))
    finally:
        built.close()
    _report(results, as_json)


def _refuse_placeholders(path: Path, left: list[Placeholder], as_json: bool) -> NoReturn:
    if as_json:
        problems = [
            {"file": str(path), "line": p.line, "column": 1, "key": p.key,
             "message": f"still an example value {p.value}: {p.hint}"}
            for p in left
        ]  # fmt: skip
        print_json({"error": "configuration", "problems": problems})
    typer.echo(f"configuration error: {path} still holds example values:", err=True)
    for item in left:
        typer.echo(f"  {path}:{item.line}: {item.key} = {item.value}: {item.hint}", err=True)
    raise typer.Exit(exit_codes.CONFIG_ERROR)


def _report(results: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(results)
    else:
        for result in results:
            state = "ok" if result["ok"] else "FAILED"
            typer.echo(f"{result['connector']:<12} {state:<7} {result['detail']}")
    failed = [result for result in results if not result["ok"]]
    if failed and all(result.get("unreachable") for result in failed):
        raise typer.Exit(exit_codes.UNREACHABLE)
    if failed:
        raise typer.Exit(exit_codes.CONFIG_ERROR)


def _probe(name: str, connector: Any) -> dict[str, Any]:
    """Connect, authenticate and read the first page of a full import; write nothing."""
    started = time.perf_counter()
    from hybridsync.errors import HybridsyncError, UnreachableError

    try:
        parameters = dict(connector.parameters())
        page = next(iter(connector.full_import()), None)
    except HybridsyncError as exc:
        unreachable = isinstance(exc, UnreachableError)
        return {"connector": name, "ok": False, "unreachable": unreachable, "detail": str(exc)}
    count = len(page.objects) if page is not None else 0
    seconds = time.perf_counter() - started
    where = parameters.get("Domain.FQDN") or parameters.get("Cloud.BaseUrl") or ""
    detail = f"{where} read {count} objects in {seconds:.1f} s".strip()
    return {"connector": name, "ok": True, "detail": detail, "parameters": parameters}
