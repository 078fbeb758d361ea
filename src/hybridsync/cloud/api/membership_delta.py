"""``/v1.0/groups/delta``: groups, then their changes, with ``members@delta``.

The first round lists every group with all its direct members. Later rounds list the groups
changed since the previous deltaLink; a group whose membership changed carries only the
membership changes (``{"id": ...}`` added, ``{"id": ..., "@removed": {...}}`` removed), so
adding one member to a large group costs one entry. Deleted groups come back as
``{"id": ..., "@removed": {"reason": "deleted"}}``. Tokens work as for users delta.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hybridsync.cloud.api.delta import DeltaResource, add_delta_routes
from hybridsync.cloud.api.deps import Ctx
from hybridsync.cloud.authz import Action
from hybridsync.cloud.group_rules import GROUP_PROPERTIES, present_group
from hybridsync.cloud.groups import Stamped
from hybridsync.cloud.membership import MemberChange

router = APIRouter(prefix="/v1.0", tags=["groups"])
MEMBERS = "members"
SELECTABLE = frozenset({*GROUP_PROPERTIES, MEMBERS})
_TYPES = {"user": "#microsoft.graph.user", "group": "#microsoft.graph.group"}


def _items(ctx: Ctx, state: dict[str, Any], stamped: list[Stamped]) -> list[dict[str, Any]]:
    select = tuple(state["select"]) if state.get("select") else None
    with_members = select is None or MEMBERS in select
    live = [s.id for s in stamped if s.data is not None]
    members = _members_delta(ctx, state, live) if with_members else {}
    items: list[dict[str, Any]] = []
    for group in stamped:
        if group.data is None:
            if not state.get("initial"):
                items.append({"id": group.id, "@removed": {"reason": "deleted"}})
            continue
        names = tuple(n for n in select or GROUP_PROPERTIES if n != MEMBERS)
        item = present_group(group.data, names or ("id",))
        if with_members and (state.get("initial") or members.get(group.id)):
            item["members@delta"] = members.get(group.id, [])
        items.append(item)
    return items


def _members_delta(
    ctx: Ctx, state: dict[str, Any], group_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    memberships = ctx.service.memberships
    if state.get("initial"):
        current = memberships.direct_members_of(ctx.tenant_id, group_ids)
        return {
            group_id: [{"@odata.type": _TYPES[kind], "id": member} for member, kind in found]
            for group_id, found in current.items()
        }
    changes = memberships.changes(
        ctx.tenant_id, group_ids, since=state["since"], upto=state["upto"]
    )
    return _net_changes(changes)


def _net_changes(changes: list[MemberChange]) -> dict[str, list[dict[str, Any]]]:
    """The last change of each (group, member) pair wins: one entry per member."""
    last: dict[tuple[str, str], MemberChange] = {}
    for change in changes:
        last[(change.group_id, change.member_id)] = change
    answer: dict[str, list[dict[str, Any]]] = {}
    for (group_id, member_id), change in last.items():
        entry: dict[str, Any] = {"@odata.type": _TYPES[change.member_type], "id": member_id}
        if not change.added:
            entry["@removed"] = {"reason": "deleted"}
        answer.setdefault(group_id, []).append(entry)
    return answer


GROUPS_DELTA = DeltaResource(
    "groups", Action.GROUP_LIST, SELECTABLE, lambda service: service.groups.changes, _items
)
add_delta_routes(router, GROUPS_DELTA)
