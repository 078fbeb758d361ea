"""Memberships: ``members``, ``memberOf``, their transitive forms, and the membership checks.

``/users/{id}``, ``/me`` and ``/groups/{id}`` answer the same questions about their object:
``memberOf`` and ``transitiveMemberOf`` (groups), ``checkMemberGroups`` (which of up to 20
given groups it belongs to, nesting included), ``getMemberGroups`` and ``getMemberObjects``
(all its groups' ids). Groups also list ``members`` and ``transitiveMembers``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from hybridsync.cloud.api import membership_access as access
from hybridsync.cloud.api.deps import Context, Ctx, JsonBody, SkipToken, Top
from hybridsync.cloud.api.roles import directory_roles_of
from hybridsync.cloud.api.users import check_top
from hybridsync.cloud.api.wire import GRAPH_ROOT, decode_token, encode_token, link_with, odata
from hybridsync.cloud.errors import bad_request
from hybridsync.cloud.membership import DirectoryObject

router = APIRouter(prefix="/v1.0", tags=["memberships"])
MAX_CHECKED_GROUPS = 20
_OBJECTS = f"{GRAPH_ROOT}/$metadata#directoryObjects"
_STRINGS = f"{GRAPH_ROOT}/$metadata#Collection(Edm.String)"


def _page(ctx: Context, items: list[dict[str, Any]], top: int | None, skip: str | None) -> Response:
    """One page of a directoryObjects collection (``$top``, then ``@odata.nextLink``)."""
    size = check_top(top)
    start = decode_token(skip, "$skiptoken").get("offset") if skip else 0
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise bad_request("Invalid $skiptoken.")
    payload: dict[str, Any] = {"@odata.context": _OBJECTS}
    if start + size < len(items):
        token = encode_token({"offset": start + size})
        payload["@odata.nextLink"] = link_with(ctx.request, ctx.base_url, **{"$skiptoken": token})
    payload["value"] = items[start : start + size]
    return odata(payload)


def _user_id(ctx: Context, user_ref: str) -> str:
    return str(ctx.service.users.get(ctx.tenant_id, user_ref)["id"])


def _groups_readable(ctx: Context, user_id: str) -> str:
    """``user_id``, once the caller may see the user's groups (403 otherwise)."""
    access.user_groups_view(ctx, user_id)
    return user_id


def _relations_readable(ctx: Context, group_id: str) -> str:
    """``group_id``, once the caller may read group relations (403) and the group exists (404)."""
    access.authorize_group_relations(ctx)
    ctx.service.groups.get(ctx.tenant_id, group_id)
    return group_id


# -- a user's groups ------------------------------------------------------------------------


def _user_groups(ctx: Context, user_id: str, *, transitive: bool) -> list[dict[str, Any]]:
    view = access.user_groups_view(ctx, user_id)
    ms = ctx.service.memberships
    found = (ms.transitive_member_of if transitive else ms.member_of)(ctx.tenant_id, user_id)
    return [access.shown_group(group.data, view) for group in found]


def _groups_and_roles(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    # Graph's memberOf lists directory roles beside groups (both are directoryObjects).
    return _user_groups(ctx, user_id, transitive=False) + directory_roles_of(ctx, user_id)


@router.get("/users/{user_ref}/memberOf")
def user_member_of(user_ref: str, ctx: Ctx, top: Top = None, skip: SkipToken = None) -> Response:
    user_id = _user_id(ctx, user_ref)
    return _page(ctx, _groups_and_roles(ctx, user_id), top, skip)


@router.get("/me/memberOf")
def my_member_of(ctx: Ctx, top: Top = None, skip: SkipToken = None) -> Response:
    return _page(ctx, _groups_and_roles(ctx, ctx.me()), top, skip)


@router.get("/users/{user_ref}/transitiveMemberOf")
def user_transitive_member_of(
    user_ref: str, ctx: Ctx, top: Top = None, skip: SkipToken = None
) -> Response:
    user_id = _user_id(ctx, user_ref)
    return _page(ctx, _user_groups(ctx, user_id, transitive=True), top, skip)


@router.get("/me/transitiveMemberOf")
def my_transitive_member_of(ctx: Ctx, top: Top = None, skip: SkipToken = None) -> Response:
    return _page(ctx, _user_groups(ctx, ctx.me(), transitive=True), top, skip)


@router.post("/users/{user_ref}/checkMemberGroups")
def user_check_member_groups(user_ref: str, body: JsonBody, ctx: Ctx) -> Response:
    return _check_member_groups(ctx, _groups_readable(ctx, _user_id(ctx, user_ref)), body)


@router.post("/me/checkMemberGroups")
def my_check_member_groups(body: JsonBody, ctx: Ctx) -> Response:
    return _check_member_groups(ctx, _groups_readable(ctx, ctx.me()), body)


@router.post("/users/{user_ref}/getMemberGroups")
@router.post("/users/{user_ref}/getMemberObjects", operation_id="user_get_member_objects")
def user_get_member_groups(user_ref: str, body: JsonBody, ctx: Ctx) -> Response:
    return _get_member_groups(ctx, _groups_readable(ctx, _user_id(ctx, user_ref)), body)


@router.post("/me/getMemberGroups")
@router.post("/me/getMemberObjects", operation_id="me_get_member_objects")
def my_get_member_groups(body: JsonBody, ctx: Ctx) -> Response:
    return _get_member_groups(ctx, _groups_readable(ctx, ctx.me()), body)


# -- a group's members and groups -----------------------------------------------------------


def _shown(ctx: Context, found: list[DirectoryObject]) -> list[Any]:
    """The objects as the caller may see them (other users limited for limited guests)."""
    return [access.shown(ctx, item) for item in found]


@router.get("/groups/{group_id}/members")
def group_members(group_id: str, ctx: Ctx, top: Top = None, skip: SkipToken = None) -> Response:
    _relations_readable(ctx, group_id)
    after = decode_token(skip, "$skiptoken").get("after") if skip else ""
    if not isinstance(after, str):
        raise bad_request("Invalid $skiptoken.")
    found, next_after = ctx.service.memberships.members(
        ctx.tenant_id, group_id, after=after, limit=check_top(top)
    )
    payload: dict[str, Any] = {"@odata.context": _OBJECTS}
    if next_after is not None:
        token = encode_token({"after": next_after})
        payload["@odata.nextLink"] = link_with(ctx.request, ctx.base_url, **{"$skiptoken": token})
    payload["value"] = _shown(ctx, found)
    return odata(payload)


def _group_relation(
    ctx: Context, group_id: str, lookup: Any, top: int | None, skip: str | None
) -> Response:
    """One page of the objects ``lookup(tenant, group)`` relates to a readable group."""
    _relations_readable(ctx, group_id)
    return _page(ctx, _shown(ctx, lookup(ctx.tenant_id, group_id)), top, skip)


@router.get("/groups/{group_id}/transitiveMembers")
def group_transitive_members(
    group_id: str, ctx: Ctx, top: Top = None, skip: SkipToken = None
) -> Response:
    return _group_relation(ctx, group_id, ctx.service.memberships.transitive_members, top, skip)


@router.get("/groups/{group_id}/memberOf")
def group_member_of(group_id: str, ctx: Ctx, top: Top = None, skip: SkipToken = None) -> Response:
    return _group_relation(ctx, group_id, ctx.service.memberships.member_of, top, skip)


@router.get("/groups/{group_id}/transitiveMemberOf")
def group_transitive_member_of(
    group_id: str, ctx: Ctx, top: Top = None, skip: SkipToken = None
) -> Response:
    return _group_relation(ctx, group_id, ctx.service.memberships.transitive_member_of, top, skip)


@router.post("/groups/{group_id}/checkMemberGroups")
def group_check_member_groups(group_id: str, body: JsonBody, ctx: Ctx) -> Response:
    return _check_member_groups(ctx, _relations_readable(ctx, group_id), body)


@router.post("/groups/{group_id}/getMemberGroups")
@router.post("/groups/{group_id}/getMemberObjects", operation_id="group_get_member_objects")
def group_get_member_groups(group_id: str, body: JsonBody, ctx: Ctx) -> Response:
    return _get_member_groups(ctx, _relations_readable(ctx, group_id), body)


# -- the two membership functions -----------------------------------------------------------


def _check_member_groups(ctx: Context, object_id: str, body: dict[str, Any]) -> Response:
    wanted = body.get("groupIds")
    if not isinstance(wanted, list) or not all(isinstance(g, str) for g in wanted):
        raise bad_request("The 'groupIds' parameter must be a list of group ids.")
    if len(wanted) > MAX_CHECKED_GROUPS:
        raise bad_request(f"The 'groupIds' parameter takes at most {MAX_CHECKED_GROUPS} group ids.")
    groups = ctx.service.memberships.transitive_member_of(ctx.tenant_id, object_id)
    held = {group.id for group in groups}
    value = [group_id for group_id in dict.fromkeys(wanted) if group_id.lower() in held]
    return odata({"@odata.context": _STRINGS, "value": value})


def _get_member_groups(ctx: Context, object_id: str, body: dict[str, Any]) -> Response:
    security_only = body.get("securityEnabledOnly")
    if not isinstance(security_only, bool):
        raise bad_request("The 'securityEnabledOnly' parameter must be true or false.")
    groups = ctx.service.memberships.transitive_member_of(ctx.tenant_id, object_id)
    value = [g.id for g in groups if not security_only or g.data.get("securityEnabled")]
    return odata({"@odata.context": _STRINGS, "value": value})
