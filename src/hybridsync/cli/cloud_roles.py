"""``hybridsync cloud role ...`` and ``hybridsync cloud app consent|list``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridsync.cli.cloud import (
    DEFAULT_DIR,
    AsJson,
    DatabaseUrl,
    DataDir,
    TenantRef,
    _print,
    _service,
    apps_app,
    cloud_app,
)

if TYPE_CHECKING:
    from hybridsync.cloud.roles_admin import HeldRole
    from hybridsync.cloud.service import CloudService
    from hybridsync.cloud.tenancy import Tenant

roles_app = typer.Typer(
    help="Directory roles of the cloud directory's users.", no_args_is_help=True
)
cloud_app.add_typer(roles_app, name="role")

User = Annotated[str, typer.Option("--user", help="The user's UPN (alice@contoso.com).")]
Role = Annotated[
    str, typer.Option("--role", help='A role\'s name ("User Administrator") or template id.')
]


def _tenant(service: CloudService, tenant: str | None) -> Tenant:
    return service.tenancy.tenant(tenant) if tenant else service.tenancy.only_tenant()


def _held_document(held: HeldRole) -> dict[str, Any]:
    return dataclasses.asdict(held)


@roles_app.command("assign")
def assign(
    user: User,
    role: Role,
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Give a user a directory role."""
    from hybridsync.cloud.roles_admin import assign_role

    _change_role(assign_role, user, role, tenant, data_dir, database_url, as_json)


@roles_app.command("remove")
def remove(
    user: User,
    role: Role,
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Take a directory role away from a user."""
    from hybridsync.cloud.roles_admin import remove_role

    _change_role(remove_role, user, role, tenant, data_dir, database_url, as_json)


def _change_role(
    change: Any,
    user: str,
    role: str,
    tenant: str | None,
    data_dir: Path,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Assign or remove (``change``) one role, then print what the user now holds of it."""
    with _service(data_dir, database_url) as service:
        held = change(service, _tenant(service, tenant).id, user, role)
        _print(_held_document(held), as_json)


@roles_app.command("list")
def list_command(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's roles (UPN).")
    ] = None,
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List role assignments (all of the tenant, or one user's)."""
    from hybridsync.cloud.roles_admin import list_roles

    with _service(data_dir, database_url) as service:
        found = list_roles(service, _tenant(service, tenant).id, user)
    if as_json:
        typer.echo(json.dumps([_held_document(h) for h in found], indent=2))
        return
    if not found:
        typer.echo("no role assignments")
    for held in found:
        typer.echo(f"{held.user_principal_name}: {held.role}")


@apps_app.command("consent")
def consent(
    application: Annotated[str, typer.Argument(help="Client id or display name.")],
    delegated: Annotated[
        list[str], typer.Option("--delegated", help="A delegated permission to consent to.")
    ],
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Grant admin consent, for the whole tenant, to delegated permissions an app asks for."""
    from hybridsync.cloud.roles_admin import find_application

    with _service(data_dir, database_url) as service:
        found = find_application(service, _tenant(service, tenant).id, application)
        registration = service.clients.consent(found, delegated)
        document = {
            "client_id": found.client_id,
            "display_name": found.display_name,
            "consented": sorted(registration.consented),
        }
        _print(document, as_json)


@apps_app.command("list")
def list_apps(
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List the tenant's applications: kind, permissions, redirect URIs and consent."""
    with _service(data_dir, database_url) as service:
        documents = []
        for found in service.tenancy.applications(_tenant(service, tenant).id):
            registration = service.clients.registration(found)
            documents.append(
                {
                    "client_id": found.client_id,
                    "display_name": found.display_name,
                    "kind": "public" if found.is_public_client else "confidential",
                    "roles": list(found.roles),
                    "redirect_uris": list(registration.redirect_uris),
                    "delegated": sorted(registration.delegated),
                    "consented": sorted(registration.consented),
                }
            )
    if as_json:
        typer.echo(json.dumps(documents, indent=2))
        return
    for document in documents:
        typer.echo(f"{document['display_name']} ({document['client_id']}, {document['kind']})")
        for key in ("roles", "redirect_uris", "delegated", "consented"):
            if document[key]:
                typer.echo(f"  {key}: {', '.join(document[key])}")
