"""``/v1.0/applications/{id}``: an application registration's token settings.

Only ``groupMembershipClaims`` and ``optionalClaims`` are served (the groups claim); ``{id}``
is the application's object id, as in Graph (its client id is accepted too).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from hybridsync.cloud.api.deps import Ctx, JsonBody
from hybridsync.cloud.api.wire import GRAPH_ROOT, no_content, odata, without_annotations
from hybridsync.cloud.authz import Action
from hybridsync.cloud.groups_claim import check_changes

router = APIRouter(prefix="/v1.0", tags=["applications"])
_SHOWN = ("id", "appId", "displayName", "groupMembershipClaims", "optionalClaims")


@router.get("/applications/{ref}")
def get_application(ref: str, ctx: Ctx) -> Response:
    ctx.authorize(Action.APPLICATION_READ)
    registration = ctx.service.app_claims.registration(ctx.tenant_id, ref)
    shown = {name: registration.get(name) for name in _SHOWN}
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#applications/$entity", **shown})


@router.patch("/applications/{ref}", status_code=204)
def update_application(ref: str, body: JsonBody, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.APPLICATION_WRITE)
    changes = check_changes(without_annotations(body))
    ctx.service.app_claims.update(ctx.tenant_id, ref, changes)
    return no_content()
