"""``/v1.0/directory/deletedItems``: the recycle bin of users (30 days), restore, purge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.api.deps import Ctx, Select, SkipToken, Top
from hybridsync.cloud.api.users import check_top
from hybridsync.cloud.api.wire import (
    GRAPH_ROOT,
    decode_token,
    encode_token,
    link_with,
    no_content,
    odata,
)
from hybridsync.cloud.authz import Action
from hybridsync.cloud.errors import bad_request, invalid_values

router = APIRouter(prefix="/v1.0/directory/deletedItems", tags=["deletedItems"])
DELETED_DEFAULT = (*rules.DEFAULT_PROPERTIES, "deletedDateTime")
CONTEXT = f"{GRAPH_ROOT}/$metadata#directory/deletedItems"


@router.get("")
def deleted_items_without_cast(ctx: Ctx) -> Response:
    ctx.authorize(Action.USER_LIST)
    raise bad_request(
        "Deleted items can only be listed by type: use"
        " /directory/deletedItems/microsoft.graph.user."
    )


@router.get("/microsoft.graph.user")
@router.get("/graph.user", operation_id="list_deleted_users_short_cast")
def list_deleted_users(
    ctx: Ctx, select: Select = None, top: Top = None, skiptoken: SkipToken = None
) -> Response:
    ctx.authorize(Action.USER_LIST)
    ctx.service.users.purge_expired(ctx.tenant_id)  # the recycle bin keeps 30 days
    names = rules.parse_select(select) or DELETED_DEFAULT
    size = check_top(top)
    after = str(decode_token(skiptoken, "$skiptoken").get("after", "")) if skiptoken else ""
    scan = ctx.service.users.scan(ctx.tenant_id, after_id=after, deleted=True)
    page = [user for _, user in zip(range(size), scan, strict=False)]
    payload: dict[str, Any] = {"@odata.context": f"{CONTEXT}/microsoft.graph.user"}
    if len(page) == size and next(scan, None) is not None:
        payload["@odata.nextLink"] = link_with(
            ctx.request, ctx.base_url, **{"$skiptoken": encode_token({"after": page[-1]["id"]})}
        )
    payload["value"] = [rules.present(user, names) for user in page]
    return odata(payload)


@router.get("/{object_id}")
def get_deleted(object_id: str, ctx: Ctx, select: Select = None) -> Response:
    ctx.authorize(Action.USER_LIST)
    ctx.service.users.purge_expired(ctx.tenant_id)
    user = ctx.service.users.get_deleted(ctx.tenant_id, object_id)
    names = rules.parse_select(select) or DELETED_DEFAULT
    body = {"@odata.context": f"{CONTEXT}/$entity", "@odata.type": "#microsoft.graph.user"}
    return odata(body | rules.present(user, names))


@router.delete("/{object_id}", status_code=204)
def purge_deleted(object_id: str, ctx: Ctx) -> Response:
    # A deleted user keeps its roles until purged: the sensitive-action rules still apply.
    ctx.authorize_write(Action.USER_WRITE, ctx.target_user(object_id, deleting=True))
    ctx.service.users.purge(ctx.tenant_id, object_id)
    return no_content()


@router.post("/{object_id}/restore")
def restore_deleted(
    object_id: str, ctx: Ctx, body: Annotated[dict[str, Any] | None, Body()] = None
) -> Response:
    ctx.authorize_write(Action.USER_WRITE, ctx.target_user(object_id, deleting=True))
    body = body or {}
    ctx.service.users.purge_expired(ctx.tenant_id)
    new_upn = body.get("newUserPrincipalName")
    if new_upn is not None and not isinstance(new_upn, str):
        raise invalid_values("newUserPrincipalName")
    user = ctx.service.users.restore(ctx.tenant_id, object_id, new_upn)
    payload = {
        "@odata.context": f"{GRAPH_ROOT}/$metadata#directoryObjects/$entity",
        "@odata.type": "#microsoft.graph.user",
    }
    return odata(payload | rules.present(user, DELETED_DEFAULT))
