"""``/v1.0/policies/authorizationPolicy`` (the guest access level lives here)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from hybridsync.cloud.api.deps import Ctx
from hybridsync.cloud.api.wire import GRAPH_ROOT, no_content, odata
from hybridsync.cloud.authz import GUEST_LEVELS, Action
from hybridsync.cloud.errors import invalid_value, read_only, unknown_property

router = APIRouter(prefix="/v1.0/policies", tags=["policies"])
_INVITES_FROM = {"none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone"}
_BOOLEANS = {
    "allowedToSignUpEmailBasedSubscriptions",
    "allowEmailVerifiedUsersToJoinOrganization",
    "blockMsolPowerShell",
}
_STRINGS = {"displayName", "description"}


@router.get("/authorizationPolicy")
def get_policy(ctx: Ctx) -> Response:
    ctx.authorize(Action.POLICY_READ)
    context = f"{GRAPH_ROOT}/$metadata#policies/authorizationPolicy/$entity"
    return odata({"@odata.context": context, **ctx.policy()})


@router.patch("/authorizationPolicy", status_code=204)
def update_policy(body: Annotated[dict[str, Any], Body()], ctx: Ctx) -> Response:
    ctx.authorize_write(Action.POLICY_WRITE)
    policy = ctx.policy()
    for name, value in body.items():
        _check(name, value, policy)
    policy.update({k: v for k, v in body.items() if k != "defaultUserRolePermissions"})
    if "defaultUserRolePermissions" in body:
        policy["defaultUserRolePermissions"] = {
            **policy["defaultUserRolePermissions"],
            **body["defaultUserRolePermissions"],
        }
    ctx.service.tenancy.set_authorization_policy(ctx.tenant_id, policy)
    return no_content()


def _check(name: str, value: Any, policy: dict[str, Any]) -> None:
    resource = "AuthorizationPolicy"
    if name == "id":
        raise read_only(name)
    if name == "guestUserRoleId":
        if value not in GUEST_LEVELS:
            raise invalid_value(name, resource)
    elif name == "allowInvitesFrom":
        if value not in _INVITES_FROM:
            raise invalid_value(name, resource)
    elif name in _BOOLEANS:
        if not isinstance(value, bool):
            raise invalid_value(name, resource)
    elif name in _STRINGS:
        if not isinstance(value, str):
            raise invalid_value(name, resource)
    elif name == "defaultUserRolePermissions":
        known = policy["defaultUserRolePermissions"]
        if not isinstance(value, dict) or any(
            k not in known or not isinstance(v, type(known[k])) for k, v in value.items()
        ):
            raise invalid_value(name, resource)
    else:
        raise unknown_property(name)
