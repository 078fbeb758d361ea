"""Administration of roles and sign-in clients from the command line (no token needed: whoever
runs these owns the data directory). Every refusal is a ``CloudSetupError`` naming what is
wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.consent import ClientRegistration, canonical_scopes, check_redirect_uri
from hybridsync.cloud.errors import CloudNotFoundError, CloudSetupError, GraphError
from hybridsync.cloud.roles import GLOBAL_ADMINISTRATOR, ROLES, DirectoryRole, find_role
from hybridsync.cloud.roles_store import RoleAssignment
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.tenancy import Application, NewApplication


@dataclass(frozen=True, slots=True)
class HeldRole:
    """One role assignment, as the CLI shows it."""

    assignment_id: str
    user_principal_name: str
    role: str
    role_definition_id: str


def create_global_admin(
    service: CloudService, tenant_id: str, upn: str, password: str
) -> dict[str, Any]:
    """A cloud member user holding Global Administrator: the tenant's first administrator."""
    body = {
        "accountEnabled": True,
        "displayName": upn.split("@")[0],
        "mailNickname": upn.split("@")[0],
        "userPrincipalName": upn,
        "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": False},
    }
    try:
        rules.check_values(body)
        user = service.users.create(tenant_id, body, synced=False, extra={})
    except GraphError as exc:
        raise CloudSetupError(f"cannot create administrator {upn!r}: {exc.message}") from exc
    service.role_assignments.assign(tenant_id, user["id"], GLOBAL_ADMINISTRATOR)
    return user


def role_named(name: str) -> DirectoryRole:
    role = find_role(name)
    if role is None:
        known = ", ".join(sorted(r.display_name for r in ROLES.values()))
        raise CloudSetupError(f"unknown directory role {name!r} (known: {known})")
    return role


def _user_id(service: CloudService, tenant_id: str, upn: str) -> str:
    try:
        return str(service.users.get(tenant_id, upn)["id"])
    except GraphError as exc:
        raise CloudNotFoundError(f"no user {upn!r} in the tenant") from exc


def assign_role(service: CloudService, tenant_id: str, upn: str, role_name: str) -> HeldRole:
    role = role_named(role_name)
    user_id = _user_id(service, tenant_id, upn)
    try:
        found = service.role_assignments.assign(tenant_id, user_id, role.template_id)
    except GraphError as exc:
        raise CloudSetupError(f"{upn} already holds {role.display_name}") from exc
    return HeldRole(found.id, upn, role.display_name, role.template_id)


def remove_role(service: CloudService, tenant_id: str, upn: str, role_name: str) -> HeldRole:
    role = role_named(role_name)
    user_id = _user_id(service, tenant_id, upn)
    held = service.role_assignments.list(
        tenant_id, principal_id=user_id, role_definition_id=role.template_id
    )
    if not held:
        raise CloudSetupError(f"{upn} does not hold {role.display_name}")
    service.role_assignments.remove(tenant_id, held[0].id)
    return HeldRole(held[0].id, upn, role.display_name, role.template_id)


def list_roles(service: CloudService, tenant_id: str, upn: str | None = None) -> list[HeldRole]:
    user_id = None if upn is None else _user_id(service, tenant_id, upn)
    found = service.role_assignments.list(tenant_id, principal_id=user_id)
    return [_held(service, tenant_id, a) for a in found]


def _held(service: CloudService, tenant_id: str, found: RoleAssignment) -> HeldRole:
    try:
        upn = str(service.users.get(tenant_id, found.principal_id)["userPrincipalName"])
    except GraphError:
        upn = f"(deleted user {found.principal_id})"
    role = ROLES.get(found.role_definition_id)
    name = role.display_name if role else found.role_definition_id
    return HeldRole(found.id, upn, name, found.role_definition_id)


def add_client(
    service: CloudService,
    tenant_id: str,
    name: str,
    *,
    roles: Sequence[str] = (),
    public_client: bool = False,
    certificate_pem: str | None = None,
    redirect_uris: Sequence[str] = (),
    delegated: Sequence[str] = (),
) -> tuple[NewApplication, ClientRegistration]:
    """Register an application: its credential (none for a public client), application
    permissions, and the redirect URIs and delegated permissions it signs users in with."""
    canonical_scopes(delegated)  # refused before anything is written
    for uri in redirect_uris:
        check_redirect_uri(uri)
    new = service.tenancy.add_application(
        tenant_id, name, roles, certificate_pem=certificate_pem, public_client=public_client
    )
    registration = service.clients.register(
        new.application, redirect_uris=redirect_uris, delegated=delegated
    )
    return new, registration


def find_application(service: CloudService, tenant_id: str, ref: str) -> Application:
    """An application of the tenant by client id or display name (which must be unique)."""
    apps = service.tenancy.applications(tenant_id)
    by_id = [a for a in apps if a.client_id == ref]
    named = by_id or [a for a in apps if a.display_name == ref]
    if len(named) == 1:
        return named[0]
    if not named:
        raise CloudNotFoundError(f"no application {ref!r} in the tenant")
    raise CloudSetupError(f"{len(named)} applications are named {ref!r}: give the client id")
