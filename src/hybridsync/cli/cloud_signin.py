"""``hybridsync cloud signin-policy``: how synced users sign in, for the tenant or one user.

The same setting as ``PATCH /v1.0/policies/signInPolicy`` (docs/signin.md): ``pta``,
``phs``, or ``default`` (``phs`` when the user's hash was synced, else ``pta``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hybridsync.cli import exit_codes
from hybridsync.cli.cloud import (
    DEFAULT_DIR,
    AsJson,
    DatabaseUrl,
    DataDir,
    _print,
    _service,
    cloud_app,
    tenant_of,
)

policy_app = typer.Typer(
    help="How synced users sign in: pass-through authentication or password hash sync.",
    no_args_is_help=True,
)
cloud_app.add_typer(policy_app, name="signin-policy")

METHOD_CHOICES = ("pta", "phs", "default")
TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant id or domain (default: the only one).")
]


def _document(service: Any, tenant_id: str, user: dict[str, Any] | None) -> dict[str, Any]:
    from hybridsync.cloud.signin.service import signin_of

    store = signin_of(service).store
    tenant_method = store.tenant_method(tenant_id)
    document: dict[str, Any] = {
        "tenant_id": tenant_id,
        "synced_user_authentication": tenant_method or "default",
    }
    if user is not None:
        override = store.user_method(tenant_id, user["id"])
        document |= {
            "user": user["userPrincipalName"],
            "user_override": override or "none",
            "effective": override or tenant_method or "default",
        }
    return document


def _user(service: Any, tenant_id: str, upn: str | None) -> dict[str, Any] | None:
    from hybridsync.cloud.errors import GraphError

    if upn is None:
        return None
    try:
        return dict(service.users.get(tenant_id, upn))
    except GraphError:
        typer.echo(f"not found: no user {upn!r} in tenant {tenant_id}", err=True)
        raise typer.Exit(exit_codes.NOT_FOUND) from None


@policy_app.command("show")
def show(
    user: Annotated[str | None, typer.Option("--user", help="Also this user (UPN or id).")] = None,
    tenant: TenantOption = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """The tenant's sign-in method for synced users, and a user's override."""
    with _service(data_dir, database_url) as service:
        found = tenant_of(service, tenant)
        _print(_document(service, found.id, _user(service, found.id, user)), as_json)


@policy_app.command("set")
def set_method(
    method: Annotated[
        str, typer.Argument(help="pta, phs, or default (phs when a hash is synced).")
    ],
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user (UPN or id): an override.")
    ] = None,
    tenant: TenantOption = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Set how synced users sign in: the tenant's method, or one user's override."""
    from hybridsync.cloud.signin.service import signin_of

    if method not in METHOD_CHOICES:
        typer.echo(f"METHOD: one of {', '.join(METHOD_CHOICES)}, not {method!r}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    value = None if method == "default" else method
    with _service(data_dir, database_url) as service:
        found = tenant_of(service, tenant)
        target = _user(service, found.id, user)
        store = signin_of(service).store
        if target is None:
            store.set_tenant_method(found.id, value)
        else:
            store.set_user_method(found.id, target["id"], value)
        _print(_document(service, found.id, target), as_json)
