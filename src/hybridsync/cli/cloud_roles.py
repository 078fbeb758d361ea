"""``hybridsync cloud role ...`` and ``hybridsync cloud app consent|list``."""

from __future__ import annotations

import dataclasses
import json
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
    tenant_of,
)

if TYPE_CHECKING:
    from hybridsync.cloud.roles_admin import HeldRole

roles_app = typer.Typer(
    help="Directory roles of the cloud directory's users.", no_args_is_help=True
)
cloud_app.add_typer(roles_app, name="role")

User = Annotated[str, typer.Option("--user", help="The user's UPN (alice@contoso.com).")]
Role = Annotated[
    str, typer.Option("--role", help='A role\'s name ("User Administrator") or template id.')
]


def _held_document(held: HeldRole) -> dict[str, Any]:
    return dataclasses.asdict(held)


def _role_change(name: str, change: str, summary: str) -> None:
    """Register ``cloud role NAME``: ``change`` (a function of ``roles_admin``) on one
    user's role, then print what the user now holds of it."""

    def command(
        user: User,
        role: Role,
        tenant: TenantRef = None,
        data_dir: DataDir = DEFAULT_DIR,
        database_url: DatabaseUrl = None,
        as_json: AsJson = False,
    ) -> None:
        from hybridsync.cloud import roles_admin

        with _service(data_dir, database_url) as service:
            held = getattr(roles_admin, change)(service, tenant_of(service, tenant).id, user, role)
            _print(_held_document(held), as_json)

    command.__doc__ = summary
    roles_app.command(name)(command)


_role_change("assign", "assign_role", "Give a user a directory role.")
_role_change("remove", "remove_role", "Take a directory role away from a user.")


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
        found = list_roles(service, tenant_of(service, tenant).id, user)
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
        found = find_application(service, tenant_of(service, tenant).id, application)
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
        for found in service.tenancy.applications(tenant_of(service, tenant).id):
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
