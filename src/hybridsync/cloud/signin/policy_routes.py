"""``/v1.0/policies/signInPolicy``: how the tenant's synced users authenticate.

``syncedUserAuthentication``: ``"pta"``, ``"phs"`` or ``null`` (then ``phs`` when a hash is
stored, else ``pta``). ``userOverrides`` maps user ids to a method for that user alone
(``null`` removes an override). ``convertedUsers``: ``"sync"`` or ``"cloud"``, who owns the
``mail`` and password hash of a synced user who redeemed an invitation (``converted``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from hybridsync.cloud.api.deps import Ctx
from hybridsync.cloud.api.wire import no_content, odata
from hybridsync.cloud.authz import Action
from hybridsync.cloud.errors import GraphError, invalid_value, unknown_property
from hybridsync.cloud.signin.converted import OWNERS
from hybridsync.cloud.signin.service import signin_of
from hybridsync.cloud.signin.verify import METHODS

router = APIRouter(prefix="/v1.0/policies", tags=["policies"])
RESOURCE = "SignInPolicy"


@router.get("/signInPolicy")
def get_signin_policy(ctx: Ctx) -> Response:
    ctx.authorize(Action.POLICY_READ)
    signin = signin_of(ctx.service)
    method = signin.store.tenant_method(ctx.tenant_id)
    owner = signin.converted.owner(ctx.tenant_id)
    return odata(
        {"id": "signInPolicy", "syncedUserAuthentication": method, "convertedUsers": owner}
    )


@router.patch("/signInPolicy", status_code=204)
def update_signin_policy(body: Annotated[dict[str, Any], Body()], ctx: Ctx) -> Response:
    ctx.authorize_write(Action.SIGNIN_POLICY_WRITE)
    store = signin_of(ctx.service).store
    unknown = set(body) - {"syncedUserAuthentication", "userOverrides", "convertedUsers"}
    if unknown:
        raise unknown_property(sorted(unknown)[0])
    overrides = body.get("userOverrides", {})
    if not isinstance(overrides, dict) or any(
        v not in (*METHODS, None) for v in overrides.values()
    ):
        raise invalid_value("userOverrides", RESOURCE)
    if "convertedUsers" in body and body["convertedUsers"] not in OWNERS:
        raise invalid_value("convertedUsers", RESOURCE)
    if body.get("syncedUserAuthentication") not in (*METHODS, None):
        raise invalid_value("syncedUserAuthentication", RESOURCE)
    if "convertedUsers" in body:
        signin_of(ctx.service).converted.set_owner(ctx.tenant_id, body["convertedUsers"])
    if "syncedUserAuthentication" in body:
        store.set_tenant_method(ctx.tenant_id, body["syncedUserAuthentication"])
    for user_id, method in overrides.items():
        try:
            ctx.service.users.get(ctx.tenant_id, str(user_id))
        except GraphError as exc:
            raise invalid_value("userOverrides", RESOURCE) from exc
        store.set_user_method(ctx.tenant_id, str(user_id), method)
    return no_content()
