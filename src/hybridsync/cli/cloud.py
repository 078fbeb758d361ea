"""``hybridsync cloud``: create, administer and serve the cloud directory."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.failures import Failure, reported

if TYPE_CHECKING:
    # The cloud directory (FastAPI, SQLAlchemy) is imported by the commands that use it,
    # never for a help screen (any ``hybridsync.cloud`` module loads the web application).
    from hybridsync.cloud import CloudService
    from hybridsync.cloud.tenancy import NewApplication, Tenant

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
TenantRef = Annotated[str | None, typer.Option("--tenant", help="Tenant id or domain.")]
DEFAULT_DIR = Path("cloud-data")
ADMIN_PASSWORD_ENV = "HYBRIDSYNC_ADMIN_PASSWORD"


@contextmanager
def _service(data_dir: Path, database_url: str | None, **settings: Any) -> Iterator[CloudService]:
    from hybridsync.cloud import CloudService
    from hybridsync.cloud.errors import CloudNotFoundError, CloudSetupError
    from hybridsync.cloud.local import settings_for

    setup_error = Failure(CloudSetupError, "error", exit_codes.CONFIG_ERROR)
    with reported(setup_error):
        service = CloudService(settings_for(data_dir, database_url=database_url, **settings))
    try:
        with reported(Failure(CloudNotFoundError, "not found", exit_codes.NOT_FOUND), setup_error):
            yield service
    finally:
        service.close()


def tenant_of(service: CloudService, tenant: str | None) -> Tenant:
    """The tenant named (an id or a domain), else the directory's only one."""
    return service.tenancy.tenant(tenant) if tenant else service.tenancy.only_tenant()


def _credential_kind(new: NewApplication) -> str:
    if new.application.is_public_client:
        return "none (public client)"
    return "certificate" if new.client_secret is None else "secret"


def _app_document(new: NewApplication) -> dict[str, Any]:
    document: dict[str, Any] = {
        "client_id": new.application.client_id,
        "display_name": new.application.display_name,
        "roles": list(new.application.roles),
        "credential": _credential_kind(new),
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
                typer.echo(f"  {inner}: {_text(inner_value)}")
        else:
            typer.echo(f"{key}: {_text(value)}")


def _text(value: Any) -> str:
    """A list as its items separated by commas (never Python's ``['a', 'b']``)."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


@cloud_app.command("init")
def init(
    tenant_domain: Annotated[str, typer.Option("--tenant-domain", help="e.g. contoso.com")],
    domain: Annotated[
        list[str] | None, typer.Option("--domain", help="More verified domains.")
    ] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Roles of the sync engine's app.")
    ] = None,
    admin: Annotated[
        str | None,
        typer.Option(
            "--admin",
            help=f"Create this user as the first Global Administrator (password from"
            f" ${ADMIN_PASSWORD_ENV}, else asked for).",
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a tenant and print the credentials of an application for the sync engine."""
    from hybridsync.cloud.errors import CloudSetupError
    from hybridsync.cloud.local import initialize
    from hybridsync.cloud.roles_admin import create_global_admin
    from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES

    admin_password = _admin_password() if admin else None
    with reported(Failure(CloudSetupError, "error", exit_codes.CONFIG_ERROR)):
        initialize(data_dir)
    with _service(data_dir, database_url) as service:
        tenant = service.tenancy.create_tenant(tenant_domain, domain or [])
        roles = role or list(DEFAULT_SYNC_APP_ROLES)
        new = service.tenancy.add_application(tenant.id, "hybridsync sync engine", roles)
        service.keys.active()
        document = _tenant_document(tenant) | {"application": _app_document(new)}
        if admin and admin_password is not None:
            user = create_global_admin(service, tenant.id, admin, admin_password)
            document["global_administrator"] = {"id": user["id"], "upn": admin}
        _print(document, as_json)


def _admin_password() -> str:
    """From the environment, or asked for (never an argument: it would show in ``ps``)."""
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if password:
        return password
    return str(typer.prompt("Administrator password", hide_input=True, confirmation_prompt=True))


def _tenant_document(tenant: Tenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "initial_domain": tenant.initial_domain,
        "verified_domains": ", ".join(tenant.domains),
    }


@apps_app.command("add")
def add_app(
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="An application permission (client credentials)."),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "application",
    public_client: Annotated[
        bool,
        typer.Option(
            "--public-client", help="No credential: a native or command-line app signing users in."
        ),
    ] = False,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option(
            "--redirect-uri", help="Where sign-in may return (http://localhost: any port)."
        ),
    ] = None,
    delegated: Annotated[
        list[str] | None,
        typer.Option("--delegated", help="A delegated permission it asks for, e.g. User.Read."),
    ] = None,
    certificate: Annotated[
        Path | None, typer.Option("--certificate", help="PEM certificate instead of a secret.")
    ] = None,
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Register an application: confidential (a secret, or a certificate) or public.

    Delegated permissions are only asked for: grant them with `cloud app consent`.
    """
    from hybridsync.cloud.roles_admin import add_client

    with _service(data_dir, database_url) as service:
        found = tenant_of(service, tenant)
        pem = certificate.read_text() if certificate else None
        new, registration = add_client(
            service, found.id, name, roles=role or [], public_client=public_client,
            certificate_pem=pem, redirect_uris=redirect_uri or [], delegated=delegated or [],
        )  # fmt: skip
        document = _app_document(new) | {
            "redirect_uris": list(registration.redirect_uris),
            "delegated": sorted(registration.delegated),
        }
        _print(document, as_json)


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
    rate_limit: Annotated[
        list[str] | None,
        typer.Option(
            "--rate-limit",
            metavar="NAME=N/SECONDS",
            help="Change a request rate limit, or turn it off with NAME=off: token_per_client, "
            "token_per_tenant, reads_per_app, reads_per_tenant (see docs/security.md).",
        ),
    ] = None,
) -> None:
    """Serve the directory over HTTPS (a local CA is generated when no certificate is given)."""
    from hybridsync.cloud import ThrottleSettings, create_app
    from hybridsync.cloud.errors import CloudSetupError
    from hybridsync.cloud.server import TlsConfig, listening_socket, serve
    from hybridsync.cloud.throttle import RateLimits
    from hybridsync.cloud.tls import ensure_local_tls

    if (certificate is None) != (key is None):
        typer.echo("error: give both --certificate and --key, or neither", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    # Every option is checked before anything is written.
    with reported(Failure(CloudSetupError, "error", exit_codes.CONFIG_ERROR)):
        limits = RateLimits().with_overrides(rate_limit or [])
    if certificate is None or key is None:
        hosts = tuple(dict.fromkeys((host, "localhost", "127.0.0.1")))
        files = ensure_local_tls(data_dir / "tls", hosts)
        certificate, key = files.certificate, files.private_key
        typer.echo(f"clients must trust this CA: {files.ca_certificate}")
    quotas = ThrottleSettings.graph_preset() if throttle else None
    settings = {"public_url": public_url, "throttle": quotas, "rate_limits": limits}
    with _service(data_dir, database_url, **settings) as service:
        sock = listening_socket(host, port)
        typer.echo(f"serving https://{host}:{port}")
        serve(create_app(service), sock, TlsConfig(certificate, key))


# Further ``cloud`` commands, each in its own module: they register themselves on the
# command groups defined here, so they are imported last.
from hybridsync.cli import (  # noqa: E402, F401
    cloud_groups_claim,
    cloud_invite,
    cloud_roles,
    cloud_signin,
    cloud_token,
)
