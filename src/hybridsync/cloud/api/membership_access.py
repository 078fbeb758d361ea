"""Who may read memberships and managers, and how much of each object they see.

Built on the directory's authorization (``authz``): applications by their permissions,
members by the member defaults, guests by the tenant's guest access level:

- same as members: everything members see;
- limited (the default): the groups of any user they look up by id (group memberships of
  non-hidden groups are readable), group members, managers and direct reports, other users
  shown with the limited property set;
- restricted: their own memberships only, as group ids; nothing about other users or groups.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.api.deps import Context
from hybridsync.cloud.authz import (
    GUEST_LIMITED,
    GUEST_RESTRICTED,
    LIMITED_USER_PROPERTIES,
    Action,
    UserView,
    guest_level,
    user_view,
)
from hybridsync.cloud.errors import access_denied
from hybridsync.cloud.group_rules import present_group
from hybridsync.cloud.membership import DirectoryObject


class GroupView(Enum):
    FULL = "full"
    IDS_ONLY = "ids"


def user_groups_view(ctx: Context, user_id: str) -> GroupView:
    """How much of a user's groups the caller sees (403 when nothing).

    The user is the target: a user's own memberships need only ``User.Read``, as in Graph.
    """
    ctx.authorize(Action.USER_READ, ctx.target_user(user_id))
    principal = ctx.principal
    if principal.is_app or not principal.is_guest:
        return GroupView.FULL
    restricted = guest_level(ctx.policy()) == GUEST_RESTRICTED
    if principal.object_id != user_id:
        if restricted:
            raise access_denied()
        return GroupView.FULL
    return GroupView.IDS_ONLY if restricted else GroupView.FULL


def authorize_group_relations(ctx: Context) -> None:
    """Members and parents of a group: whoever may read groups (not restricted guests)."""
    ctx.authorize(Action.GROUP_READ)


def authorize_managers(ctx: Context, user_id: str) -> None:
    """Managers and direct reports: users' relationships, not for restricted guests (the
    user's own with ``User.Read``, as in Graph)."""
    ctx.authorize(Action.USER_READ, ctx.target_user(user_id))
    principal = ctx.principal
    if principal.is_guest and guest_level(ctx.policy()) == GUEST_RESTRICTED:
        raise access_denied()


def shown_user(
    ctx: Context, user: dict[str, Any], *, related_to_caller: bool = False
) -> dict[str, Any]:
    """A user as the caller may see them. ``related_to_caller``: the caller's own manager or
    direct report, which ``User.Read`` shows (as in Graph) without reading other users."""
    shown = rules.present(user, None)
    if _view(ctx, user["id"], related_to_caller=related_to_caller) is UserView.LIMITED:
        shown = {k: v for k, v in shown.items() if k in LIMITED_USER_PROPERTIES}
    return {"@odata.type": "#microsoft.graph.user", **shown}


def _view(ctx: Context, user_id: str, *, related_to_caller: bool) -> UserView:
    if not related_to_caller:
        return user_view(ctx.principal, user_id, ctx.policy())
    limited = ctx.principal.is_guest and guest_level(ctx.policy()) == GUEST_LIMITED
    return UserView.LIMITED if limited else UserView.FULL


def shown_group(group: dict[str, Any], view: GroupView = GroupView.FULL) -> dict[str, Any]:
    if view is GroupView.IDS_ONLY:
        return {"@odata.type": "#microsoft.graph.group", "id": group["id"]}
    return {"@odata.type": "#microsoft.graph.group", **present_group(group, None)}


def shown(ctx: Context, found: DirectoryObject, view: GroupView = GroupView.FULL) -> dict[str, Any]:
    if found.kind == "user":
        return shown_user(ctx, found.data)
    return shown_group(found.data, view)
