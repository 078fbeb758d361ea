"""``hybridsync cloud``: create, administer and serve the cloud directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cloud import CloudService, ThrottleSettings, create_app
from hybridsync.cloud.errors import CloudSetupError
from hybridsync.cloud.local import initialize, settings_for
from hybridsync.cloud.server import TlsConfig, listening_socket, serve
from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES, NewApplication, Tenant
from hybridsync.cloud.tls import ensure_local_tls

cloud_app = typer.Typer(help="The Entra-compatible cloud directory.", no_args_is_help=True)
apps_app = typer.Typer(help="Applications (clients) of the cloud directory.", no_args_is_help=True)
keys_app = typer.Typer(help="Token-signing keys.", no_args_is_help=True)
app.add_typer(cloud_app, name="cloud")
cloud_app.add_typer(apps_app, name="app")
cloud_app.add_typer(keys_app, name="keys")

DataDir = Annotated[Path, typer.Option("--data-dir", help="Where the directory keeps its data.")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in data dir).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
DEFAULT_DIR = Path("cloud-data")


@contextmanager
def _service(data_dir: Path, database_url: str | None, **settings: Any) -> Iterator[CloudService]:
    try:
        service = CloudService(settings_for(data_dir, database_url=database_url, **settings))
    except CloudSetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    try:
        yield service
    except CloudSetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    finally:
        service.close()


def _app_document(new: NewApplication) -> dict[str, Any]:
    document: dict[str, Any] = {
        "client_id": new.application.client_id,
        "display_name": new.application.display_name,
        "roles": list(new.application.roles),
        "credential": "certificate" if new.client_secret is None else "secret",
    }
    if new.client_secret is not None:
        document["client_secret"] = new.client_secret
    return document


def _print(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    for key, value in document.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for inner, inner_value in value.items():
                typer.echo(f"  {inner}: {inner_value}")
        else:
            typer.echo(f"{key}: {value}")


@cloud_app.command("init")
def init(
    tenant_domain: Annotated[str, typer.Option("--tenant-domain", help="e.g. contoso.com")],
    domain: Annotated[
        list[str] | None, typer.Option("--domain", help="More verified domains.")
    ] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Roles of the sync engine's app.")
    ] = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a tenant and print the credentials of an application for the sync engine."""
    try:
        initialize(data_dir)
    except CloudSetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    with _service(data_dir, database_url) as service:
        tenant = service.tenancy.create_tenant(tenant_domain, domain or [])
        roles = role or list(DEFAULT_SYNC_APP_ROLES)
        new = service.tenancy.add_application(tenant.id, "hybridsync sync engine", roles)
        service.keys.active()
        _print(_tenant_document(tenant) | {"application": _app_document(new)}, as_json)


def _tenant_document(tenant: Tenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "initial_domain": tenant.initial_domain,
        "verified_domains": ", ".join(tenant.domains),
    }


@apps_app.command("add")
def add_app(
    role: Annotated[list[str], typer.Option("--role", help="An application permission.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "application",
    certificate: Annotated[
        Path | None, typer.Option("--certificate", help="PEM certificate instead of a secret.")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id or domain.")] = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Register an application with a client secret (or a certificate)."""
    with _service(data_dir, database_url) as service:
        found = service.tenancy.tenant(tenant) if tenant else service.tenancy.only_tenant()
        pem = certificate.read_text() if certificate else None
        new = service.tenancy.add_application(found.id, name, role, certificate_pem=pem)
        _print(_app_document(new), as_json)


@keys_app.command("rotate")
def rotate_keys(data_dir: DataDir = DEFAULT_DIR, database_url: DatabaseUrl = None) -> None:
    """Start signing with a new key; the old one stays published until its tokens expire."""
    with _service(data_dir, database_url) as service:
        typer.echo(f"new signing key: {service.keys.rotate().kid}")


@cloud_app.command("serve")
def serve_command(
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8443,
    certificate: Annotated[Path | None, typer.Option(help="Server certificate (PEM).")] = None,
    key: Annotated[Path | None, typer.Option(help="Server private key (PEM).")] = None,
    public_url: Annotated[str | None, typer.Option(help="Base URL clients use.")] = None,
    throttle: Annotated[bool, typer.Option(help="Apply Graph's published write quotas.")] = False,
) -> None:
    """Serve the directory over HTTPS (a local CA is generated when no certificate is given)."""
    if (certificate is None) != (key is None):
        typer.echo("error: give both --certificate and --key, or neither", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    if certificate is None or key is None:
        hosts = tuple(dict.fromkeys((host, "localhost", "127.0.0.1")))
        files = ensure_local_tls(data_dir / "tls", hosts)
        certificate, key = files.certificate, files.private_key
        typer.echo(f"clients must trust this CA: {files.ca_certificate}")
    quotas = ThrottleSettings.graph_preset() if throttle else None
    with _service(data_dir, database_url, public_url=public_url, throttle=quotas) as service:
        sock = listening_socket(host, port)
        typer.echo(f"serving https://{host}:{port}")
        serve(create_app(service), sock, TlsConfig(certificate, key))


# Further ``cloud`` commands, each in its own module (they register on ``cloud_app``).
import hybridsync.cli.cloud_signin  # noqa: E402
import hybridsync.cli.cloud_token  # noqa: E402, F401
