"""``/v1.0/roleManagement/directory`` (role definitions and assignments) and
``/v1.0/directoryRoles`` (the roles in use, with their members)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from hybridsync.cloud.actions import Action
from hybridsync.cloud.api.deps import Context, Ctx, Filter
from hybridsync.cloud.api.wire import GRAPH_ROOT, no_content, odata, without_annotations
from hybridsync.cloud.errors import (
    GraphError,
    bad_request,
    invalid_value,
    unknown_property,
    unsupported_query,
)
from hybridsync.cloud.roles import ROLES, DirectoryRole
from hybridsync.cloud.roles_store import TENANT_SCOPE, RoleAssignment

router = APIRouter(prefix="/v1.0", tags=["roles"])
_FILTER = re.compile(r"^\s*(principalId|roleDefinitionId)\s+eq\s+'([0-9a-fA-F-]{1,36})'\s*$")
_ASSIGNMENT_PROPERTIES = {"principalId", "roleDefinitionId", "directoryScopeId"}
# Our actions as Entra's resource actions, so a role definition reads as Entra's does.
_RESOURCE_ACTIONS: dict[Action, tuple[str, ...]] = {
    Action.USER_READ: ("microsoft.directory/users/standard/read",),
    Action.USER_LIST: ("microsoft.directory/users/standard/read",),
    Action.USER_WRITE: (
        "microsoft.directory/users/create", "microsoft.directory/users/delete",
        "microsoft.directory/users/basic/update",
    ),
    Action.USER_RESET_PASSWORD: ("microsoft.directory/users/password/update",),
    Action.USER_INVITE: ("microsoft.directory/users/inviteGuest",),
    Action.GROUP_READ: ("microsoft.directory/groups/standard/read",),
    Action.GROUP_LIST: ("microsoft.directory/groups/standard/read",),
    Action.GROUP_WRITE: (
        "microsoft.directory/groups/create", "microsoft.directory/groups/delete",
        "microsoft.directory/groups/members/update",
    ),
    Action.POLICY_READ: ("microsoft.directory/authorizationPolicy/standard/read",),
    Action.POLICY_WRITE: ("microsoft.directory/authorizationPolicy/allProperties/allTasks",),
    Action.SIGNIN_POLICY_WRITE: ("microsoft.directory/onPremisesSynchronization/standard/update",),
    Action.ROLE_READ: ("microsoft.directory/roleAssignments/standard/read",),
    Action.ROLE_ASSIGN: ("microsoft.directory/roleAssignments/allProperties/allTasks",),
    Action.APPLICATION_READ: ("microsoft.directory/applications/standard/read",),
    Action.APPLICATION_WRITE: ("microsoft.directory/applications/allProperties/update",),
}  # fmt: skip


def role_definition(role: DirectoryRole) -> dict[str, Any]:
    actions = sorted({name for a in role.actions for name in _RESOURCE_ACTIONS[a]})
    return {
        "id": role.template_id,
        "templateId": role.template_id,
        "displayName": role.display_name,
        "description": role.description,
        "isBuiltIn": True,
        "isEnabled": True,
        "isPrivileged": role.is_privileged,
        "resourceScopes": [TENANT_SCOPE],
        "version": "1",
        "rolePermissions": [{"allowedResourceActions": actions, "condition": None}],
    }


def _assignment(found: RoleAssignment) -> dict[str, Any]:
    return {
        "id": found.id,
        "principalId": found.principal_id,
        "roleDefinitionId": found.role_definition_id,
        "directoryScopeId": found.directory_scope_id,
    }


def directory_role_id(tenant_id: str, template_id: str) -> str:
    """A role's object id in a tenant (stable: derived from the tenant and the template)."""
    return str(uuid.uuid5(uuid.UUID(template_id), tenant_id))


def directory_role(tenant_id: str, role: DirectoryRole) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": directory_role_id(tenant_id, role.template_id),
        "displayName": role.display_name,
        "description": role.description,
        "roleTemplateId": role.template_id,
    }


def directory_roles_of(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    """The directory roles ``user_id`` holds, as ``memberOf`` lists them."""
    held = ctx.service.role_assignments.roles_of(ctx.tenant_id, user_id)
    return [directory_role(ctx.tenant_id, ROLES[t]) for t in sorted(held) if t in ROLES]


# -- role definitions ---------------------------------------------------------------------


@router.get("/roleManagement/directory/roleDefinitions")
def list_role_definitions(ctx: Ctx) -> Response:
    ctx.authorize(Action.ROLE_READ)
    context = f"{GRAPH_ROOT}/$metadata#roleManagement/directory/roleDefinitions"
    return odata({"@odata.context": context, "value": [role_definition(r) for r in ROLES.values()]})


@router.get("/roleManagement/directory/roleDefinitions/{role_id}")
def get_role_definition(role_id: str, ctx: Ctx) -> Response:
    ctx.authorize(Action.ROLE_READ)
    context = f"{GRAPH_ROOT}/$metadata#roleManagement/directory/roleDefinitions/$entity"
    return odata({"@odata.context": context, **role_definition(_role(role_id))})


def _role(role_id: str) -> DirectoryRole:
    role = ROLES.get(role_id.lower())
    if role is None:
        raise GraphError(
            404, "Request_ResourceNotFound", f"Resource '{role_id}' does not exist or one of its"
            " queried reference-property objects are not present.",
        )  # fmt: skip
    return role


# -- role assignments ---------------------------------------------------------------------


@router.get("/roleManagement/directory/roleAssignments")
def list_role_assignments(ctx: Ctx, filter_: Filter = None) -> Response:
    ctx.authorize(Action.ROLE_READ)
    criteria: dict[str, str] = {}
    if filter_ is not None and filter_.strip():
        match = _FILTER.match(filter_)
        if match is None:
            raise unsupported_query(
                "Only $filter=principalId eq '<id>' or roleDefinitionId eq '<id>' is supported."
            )
        name = "principal_id" if match.group(1) == "principalId" else "role_definition_id"
        criteria[name] = match.group(2).lower()
    found = ctx.service.role_assignments.list(ctx.tenant_id, **criteria)
    context = f"{GRAPH_ROOT}/$metadata#roleManagement/directory/roleAssignments"
    return odata({"@odata.context": context, "value": [_assignment(a) for a in found]})


@router.get("/roleManagement/directory/roleAssignments/{assignment_id}")
def get_role_assignment(assignment_id: str, ctx: Ctx) -> Response:
    ctx.authorize(Action.ROLE_READ)
    context = f"{GRAPH_ROOT}/$metadata#roleManagement/directory/roleAssignments/$entity"
    return odata({"@odata.context": context, **_assignment(_existing(ctx, assignment_id))})


def _existing(ctx: Context, assignment_id: str) -> RoleAssignment:
    found = ctx.service.role_assignments.get(ctx.tenant_id, assignment_id)
    if found is None:
        raise GraphError(
            404, "Request_ResourceNotFound", f"Resource '{assignment_id}' does not exist."
        )
    return found


@router.post("/roleManagement/directory/roleAssignments", status_code=201)
def create_role_assignment(body: Annotated[dict[str, Any], Body()], ctx: Ctx) -> Response:
    """Assign a role (only Privileged Role Administrators and Global Administrators may)."""
    ctx.authorize_write(Action.ROLE_ASSIGN)
    body = without_annotations(body)
    role_id, principal_id = _check_assignment(body)
    principal = ctx.service.users.get(ctx.tenant_id, principal_id)  # 404 when unknown
    found = ctx.service.role_assignments.assign(ctx.tenant_id, principal["id"], role_id)
    context = f"{GRAPH_ROOT}/$metadata#roleManagement/directory/roleAssignments/$entity"
    return odata({"@odata.context": context, **_assignment(found)}, 201)


def _check_assignment(body: dict[str, Any]) -> tuple[str, str]:
    unknown = sorted(set(body) - _ASSIGNMENT_PROPERTIES)
    if unknown:
        raise unknown_property(unknown[0])
    for name in ("principalId", "roleDefinitionId"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise bad_request(f"The property '{name}' is required and must be a string.")
    if body.get("directoryScopeId", TENANT_SCOPE) != TENANT_SCOPE:
        raise invalid_value("directoryScopeId", "UnifiedRoleAssignment")
    role_id = str(body["roleDefinitionId"]).lower()
    if role_id not in ROLES:
        raise invalid_value("roleDefinitionId", "UnifiedRoleAssignment")
    return role_id, str(body["principalId"])


@router.delete("/roleManagement/directory/roleAssignments/{assignment_id}", status_code=204)
def delete_role_assignment(assignment_id: str, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.ROLE_ASSIGN)
    if not ctx.service.role_assignments.remove(ctx.tenant_id, assignment_id):
        raise GraphError(
            404, "Request_ResourceNotFound", f"Resource '{assignment_id}' does not exist."
        )
    return no_content()


# -- directory roles ----------------------------------------------------------------------


def _roles_in_use(ctx: Context) -> dict[str, DirectoryRole]:
    """Entra lists a role under ``directoryRoles`` once it is activated: here, once held."""
    held = {a.role_definition_id for a in ctx.service.role_assignments.list(ctx.tenant_id)}
    return {directory_role_id(ctx.tenant_id, t): ROLES[t] for t in sorted(held) if t in ROLES}


@router.get("/directoryRoles")
def list_directory_roles(ctx: Ctx) -> Response:
    ctx.authorize(Action.ROLE_READ)
    value = [directory_role(ctx.tenant_id, role) for role in _roles_in_use(ctx).values()]
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#directoryRoles", "value": value})


@router.get("/directoryRoles/{role_ref}")
def get_directory_role(role_ref: str, ctx: Ctx) -> Response:
    ctx.authorize(Action.ROLE_READ)
    role = _directory_role(ctx, role_ref)
    context = f"{GRAPH_ROOT}/$metadata#directoryRoles/$entity"
    return odata({"@odata.context": context, **directory_role(ctx.tenant_id, role)})


@router.get("/directoryRoles/{role_ref}/members")
def list_directory_role_members(role_ref: str, ctx: Ctx) -> Response:
    ctx.authorize(Action.ROLE_READ)
    role = _directory_role(ctx, role_ref)
    holders = ctx.service.role_assignments.list(ctx.tenant_id, role_definition_id=role.template_id)
    value = []
    for assignment in holders:
        try:
            user = ctx.service.users.get(ctx.tenant_id, assignment.principal_id)
        except GraphError:
            continue  # a deleted holder is no member
        value.append(
            {
                "@odata.type": "#microsoft.graph.user",
                "id": user["id"],
                "displayName": user.get("displayName"),
                "userPrincipalName": user.get("userPrincipalName"),
            }
        )
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#directoryObjects", "value": value})


def _directory_role(ctx: Context, role_ref: str) -> DirectoryRole:
    """By object id, or Graph's alternate key ``roleTemplateId={id}``."""
    template = role_ref.removeprefix("roleTemplateId=").lower()
    if template != role_ref.lower() and template in ROLES:
        return ROLES[template]
    found = _roles_in_use(ctx).get(role_ref.lower())
    if found is None:
        raise GraphError(404, "Request_ResourceNotFound", f"Resource '{role_ref}' does not exist.")
    return found
