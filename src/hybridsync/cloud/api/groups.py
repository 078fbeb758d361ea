"""``/v1.0/groups`` with direct members (``members/$ref``)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from hybridsync.cloud import odata as filters
from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.api.deps import Ctx, JsonBody
from hybridsync.cloud.api.users import Filter, Select
from hybridsync.cloud.api.wire import GRAPH_ROOT, no_content, odata
from hybridsync.cloud.authz import LIMITED_USER_PROPERTIES, Action, UserView, user_view
from hybridsync.cloud.errors import GraphError, bad_request
from hybridsync.cloud.groups import GROUP_PROPERTIES, check_group_body

router = APIRouter(prefix="/v1.0/groups", tags=["groups"])
_REF = re.compile(r"/(?:directoryObjects|users|groups)/([0-9a-fA-F-]{36})$")
_BIND = "members@odata.bind"
MAX_BIND = 20
GROUP_FILTERABLE = {
    "id": "id", "displayName": "displayName", "mailNickname": "mailNickname",
    "securityEnabled": "securityEnabled", "mailEnabled": "mailEnabled", "__resource__": "Group",
}  # fmt: skip
GROUP_SELECTABLE = frozenset(GROUP_PROPERTIES)


def _present(group: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    names = select or GROUP_PROPERTIES
    return {"id": group["id"], **{name: group.get(name) for name in names}}


def _member_id(reference: Any) -> str:
    match = _REF.search(str(reference or ""))
    if match is None:
        raise bad_request("Invalid object identifier in '@odata.id'.")
    return match.group(1).lower()


@router.post("", status_code=201)
def create_group(body: JsonBody, ctx: Ctx) -> Response:
    body = {k: v for k, v in body.items() if k == _BIND or not k.startswith("@odata.")}
    ctx.authorize_write(Action.GROUP_WRITE)
    binds = body.pop(_BIND, None)
    check_group_body(body, creating=True)
    member_ids = _bind_ids(binds)
    group = ctx.service.groups.create(ctx.tenant_id, body)
    for member_id in member_ids:
        ctx.service.groups.add_member(ctx.tenant_id, group["id"], member_id)
    context = f"{GRAPH_ROOT}/$metadata#groups/$entity"
    return odata({"@odata.context": context, **_present(group, None)}, 201)


def _bind_ids(binds: Any) -> list[str]:
    if binds is None:
        return []
    if not isinstance(binds, list) or len(binds) > MAX_BIND:
        raise bad_request(f"'{_BIND}' takes a list of at most {MAX_BIND} references.")
    return [_member_id(ref) for ref in binds]


@router.get("")
def list_groups(ctx: Ctx, select: Select = None, filter_: Filter = None) -> Response:
    ctx.authorize(Action.GROUP_LIST)
    names = rules.parse_select(select, GROUP_SELECTABLE)
    node = None
    if filter_ and filter_.strip():
        node = filters.parse_filter(filter_)
        filters.check_filter(node, GROUP_FILTERABLE, advanced=False)
    found = [
        g
        for g in ctx.service.groups.all_groups(ctx.tenant_id)
        if node is None or filters.matches(node, g)
    ]
    value = [_present(group, names) for group in found]
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#groups", "value": value})


@router.get("/{group_id}")
def get_group(group_id: str, ctx: Ctx, select: Select = None) -> Response:
    ctx.authorize(Action.GROUP_READ)
    names = rules.parse_select(select, GROUP_SELECTABLE)
    group = ctx.service.groups.get(ctx.tenant_id, group_id)
    return odata(
        {"@odata.context": f"{GRAPH_ROOT}/$metadata#groups/$entity", **_present(group, names)}
    )


@router.patch("/{group_id}", status_code=204)
def update_group(group_id: str, body: JsonBody, ctx: Ctx) -> Response:
    body = {k: v for k, v in body.items() if k == _BIND or not k.startswith("@odata.")}
    ctx.authorize_write(Action.GROUP_WRITE)
    member_ids = _bind_ids(body.pop(_BIND, None))
    check_group_body(body, creating=False)
    groups = ctx.service.groups
    groups.get(ctx.tenant_id, group_id)
    for member_id in member_ids:  # check every reference before adding any (all or nothing)
        ctx.service.users.get(ctx.tenant_id, member_id)
    if body:
        groups.update(ctx.tenant_id, group_id, body)
    for member_id in member_ids:
        groups.add_member(ctx.tenant_id, group_id, member_id)
    return no_content()


@router.delete("/{group_id}", status_code=204)
def delete_group(group_id: str, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.GROUP_WRITE)
    ctx.service.groups.delete(ctx.tenant_id, group_id)
    return no_content()


@router.get("/{group_id}/members")
def list_members(group_id: str, ctx: Ctx) -> Response:
    ctx.authorize(Action.GROUP_READ)
    members = ctx.service.groups.members(ctx.tenant_id, group_id)
    policy = ctx.policy()
    value = []
    for user in members:
        shown = rules.present(user, None)
        if user_view(ctx.principal, user["id"], policy) is UserView.LIMITED:
            shown = {k: v for k, v in shown.items() if k in LIMITED_USER_PROPERTIES}
        value.append({"@odata.type": "#microsoft.graph.user", **shown})
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#directoryObjects", "value": value})


@router.post("/{group_id}/members/$ref", status_code=204)
def add_member(group_id: str, body: JsonBody, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.GROUP_WRITE)
    if "@odata.id" not in body:
        raise GraphError(400, "Request_BadRequest", "The '@odata.id' property is required.")
    ctx.service.groups.add_member(ctx.tenant_id, group_id, _member_id(body["@odata.id"]))
    return no_content()


@router.delete("/{group_id}/members/{member_id}/$ref", status_code=204)
def remove_member(group_id: str, member_id: str, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.GROUP_WRITE)
    ctx.service.groups.remove_member(ctx.tenant_id, group_id, member_id.lower())
    return no_content()
