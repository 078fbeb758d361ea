"""``/users/{id}/manager`` (and its ``$ref``) and ``/users/{id}/directReports``.

Writing a manager is writing the user: it needs the user-write permission, and a user
mastered on-premises gets its manager from AD only (the synchronization role writes it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from hybridsync.cloud.api import membership_access as access
from hybridsync.cloud.api.deps import Context, Ctx, JsonBody
from hybridsync.cloud.api.wire import GRAPH_ROOT, no_content, odata
from hybridsync.cloud.authz import Action, may_write_on_premises_properties
from hybridsync.cloud.errors import GraphError, bad_request
from hybridsync.cloud.group_rules import check_not_mastered_on_premises

router = APIRouter(prefix="/v1.0", tags=["managers"])
_OBJECT_ID = re.compile(r"/(?:directoryObjects|users)/([0-9a-fA-F-]{36})$")


def _manager(ctx: Context, user_ref: str) -> Response:
    user = ctx.service.users.get(ctx.tenant_id, user_ref)
    access.authorize_managers(ctx, user["id"])
    manager = ctx.service.managers.manager(ctx.tenant_id, user["id"])
    mine = user["id"] == ctx.principal.object_id
    shown = access.shown_user(ctx, manager, related_to_caller=mine)
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#directoryObjects/$entity", **shown})


def _reports(ctx: Context, user_ref: str) -> Response:
    user = ctx.service.users.get(ctx.tenant_id, user_ref)
    access.authorize_managers(ctx, user["id"])
    reports = ctx.service.managers.direct_reports(ctx.tenant_id, user["id"])
    mine = user["id"] == ctx.principal.object_id
    value = [access.shown_user(ctx, report, related_to_caller=mine) for report in reports]
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#directoryObjects", "value": value})


@router.get("/users/{user_ref}/manager")
def get_manager(user_ref: str, ctx: Ctx) -> Response:
    return _manager(ctx, user_ref)


@router.get("/me/manager")
def get_my_manager(ctx: Ctx) -> Response:
    return _manager(ctx, ctx.me())


@router.get("/users/{user_ref}/manager/$ref")
def get_manager_ref(user_ref: str, ctx: Ctx) -> Response:
    user = ctx.service.users.get(ctx.tenant_id, user_ref)
    access.authorize_managers(ctx, user["id"])
    manager = ctx.service.managers.manager(ctx.tenant_id, user["id"])
    return odata(
        {
            "@odata.context": f"{GRAPH_ROOT}/$metadata#directoryObjects/$ref",
            "@odata.id": f"{GRAPH_ROOT}/directoryObjects/{manager['id']}",
        }
    )


@router.get("/users/{user_ref}/directReports")
def get_direct_reports(user_ref: str, ctx: Ctx) -> Response:
    return _reports(ctx, user_ref)


@router.get("/me/directReports")
def get_my_direct_reports(ctx: Ctx) -> Response:
    return _reports(ctx, ctx.me())


@router.put("/users/{user_ref}/manager/$ref", status_code=204)
def set_manager(user_ref: str, body: JsonBody, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.USER_WRITE)
    manager_id = _referenced_id(body)
    user = ctx.service.users.get(ctx.tenant_id, user_ref)
    ctx.service.managers.set(ctx.tenant_id, user["id"], manager_id, _check(ctx))
    return no_content()


@router.delete("/users/{user_ref}/manager/$ref", status_code=204)
def remove_manager(user_ref: str, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.USER_WRITE)
    user = ctx.service.users.get(ctx.tenant_id, user_ref)
    ctx.service.managers.remove(ctx.tenant_id, user["id"], _check(ctx))
    return no_content()


def _check(ctx: Context) -> Callable[[dict[str, Any]], None]:
    """Only the synchronization role changes the manager of a user synced from AD."""
    if may_write_on_premises_properties(ctx.principal):
        return lambda _user: None
    return check_not_mastered_on_premises


def _referenced_id(body: dict[str, Any]) -> str:
    if "@odata.id" not in body:
        raise GraphError(400, "Request_BadRequest", "The '@odata.id' property is required.")
    match = _OBJECT_ID.search(str(body["@odata.id"] or ""))
    if match is None:
        raise bad_request("Invalid object identifier in '@odata.id'.")
    return match.group(1).lower()
