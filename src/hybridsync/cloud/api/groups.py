"""``/v1.0/groups``: groups, and their direct members through ``members/$ref`` and
``members@odata.bind`` (at most 20 per request, all or nothing)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from hybridsync.cloud import odata as filters
from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.api.deps import Ctx, Filter, JsonBody, Select
from hybridsync.cloud.api.wire import GRAPH_ROOT, no_content, odata
from hybridsync.cloud.authz import Action, may_write_on_premises_properties
from hybridsync.cloud.errors import GraphError, bad_request
from hybridsync.cloud.group_rules import (
    GROUP_PROPERTIES,
    check_group_body,
    check_not_mastered_on_premises,
    present_group,
)

router = APIRouter(prefix="/v1.0/groups", tags=["groups"])
Check = Callable[[dict[str, Any]], None]
_REF = re.compile(r"/(?:directoryObjects|users|groups)/([0-9a-fA-F-]{36})$")
_BIND = "members@odata.bind"
MAX_BIND = 20
GROUP_FILTERABLE = {
    "id": "id", "displayName": "displayName", "mailNickname": "mailNickname",
    "securityEnabled": "securityEnabled", "mailEnabled": "mailEnabled",
    "onPremisesSyncEnabled": "onPremisesSyncEnabled",
    "onPremisesSecurityIdentifier": "onPremisesSecurityIdentifier",
    "onPremisesSamAccountName": "onPremisesSamAccountName", "__resource__": "Group",
}  # fmt: skip
GROUP_SELECTABLE = frozenset(GROUP_PROPERTIES)


def _member_id(reference: Any) -> str:
    match = _REF.search(str(reference or ""))
    if match is None:
        raise bad_request("Invalid object identifier in '@odata.id'.")
    return match.group(1).lower()


def _writer(ctx: Ctx) -> tuple[bool, Check]:
    """Whether the caller is the synchronization role, and the check it passes on a group.

    Only that role writes the on-premises markers; every other caller is refused any change
    to a group synced from AD (its properties, members and existence are mastered there).
    """
    if may_write_on_premises_properties(ctx.principal):
        return True, _accept
    return False, check_not_mastered_on_premises


def _accept(_group: dict[str, Any]) -> None:
    return None


@router.post("", status_code=201)
def create_group(body: JsonBody, ctx: Ctx) -> Response:
    body = {k: v for k, v in body.items() if k == _BIND or not k.startswith("@odata.")}
    ctx.authorize_write(Action.GROUP_WRITE)
    sync_writer, _check = _writer(ctx)
    member_ids = _bind_ids(body.pop(_BIND, None))
    check_group_body(body, creating=True, sync_writer=sync_writer)
    group = ctx.service.groups.create(
        ctx.tenant_id, body, synced=sync_writer, member_ids=member_ids
    )
    context = f"{GRAPH_ROOT}/$metadata#groups/$entity"
    location = {"Location": f"{ctx.base_url}/v1.0/groups/{group['id']}"}
    return odata({"@odata.context": context, **present_group(group, None)}, 201, location)


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
    value = [present_group(group, names) for group in found]
    return odata({"@odata.context": f"{GRAPH_ROOT}/$metadata#groups", "value": value})


@router.get("/{group_id}")
def get_group(group_id: str, ctx: Ctx, select: Select = None) -> Response:
    ctx.authorize(Action.GROUP_READ)
    names = rules.parse_select(select, GROUP_SELECTABLE)
    group = ctx.service.groups.get(ctx.tenant_id, group_id)
    return odata(
        {"@odata.context": f"{GRAPH_ROOT}/$metadata#groups/$entity", **present_group(group, names)}
    )


@router.patch("/{group_id}", status_code=204)
def update_group(group_id: str, body: JsonBody, ctx: Ctx) -> Response:
    body = {k: v for k, v in body.items() if k == _BIND or not k.startswith("@odata.")}
    ctx.authorize_write(Action.GROUP_WRITE)
    sync_writer, check = _writer(ctx)
    member_ids = _bind_ids(body.pop(_BIND, None))
    check_group_body(body, creating=False, sync_writer=sync_writer)
    ctx.service.groups.update(
        ctx.tenant_id, group_id, body, check=check, synced=sync_writer, member_ids=member_ids
    )
    return no_content()


@router.delete("/{group_id}", status_code=204)
def delete_group(group_id: str, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.GROUP_WRITE)
    ctx.service.groups.delete(ctx.tenant_id, group_id, check=_writer(ctx)[1])
    return no_content()


@router.post("/{group_id}/members/$ref", status_code=204)
def add_member(group_id: str, body: JsonBody, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.GROUP_WRITE)
    if "@odata.id" not in body:
        raise GraphError(400, "Request_BadRequest", "The '@odata.id' property is required.")
    member_id = _member_id(body["@odata.id"])
    ctx.service.groups.add_member(ctx.tenant_id, group_id, member_id, check=_writer(ctx)[1])
    return no_content()


@router.delete("/{group_id}/members/{member_id}/$ref", status_code=204)
def remove_member(group_id: str, member_id: str, ctx: Ctx) -> Response:
    ctx.authorize_write(Action.GROUP_WRITE)
    check = _writer(ctx)[1]
    ctx.service.groups.remove_member(ctx.tenant_id, group_id, member_id.lower(), check=check)
    return no_content()
