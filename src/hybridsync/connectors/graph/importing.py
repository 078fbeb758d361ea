"""Graph user JSON -> imported connector-space objects. Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hybridsync.connectors.graph import groups, mapping
from hybridsync.connectors.graph.errors import GraphError
from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.core.values import Values
from hybridsync.errors import FatalConnectorError

OBJECT_TYPE = "user"
GUEST_GROUP_MEMBER = "inGuestScopeGroup"

EXPIRED_DELTA_CODES = frozenset(
    {"syncstatenotfound", "resyncrequired", "syncstateinvalid", "badrequest_expiredsynctoken"}
)


def imported_user(
    user: Mapping[str, Any], target: mapping.Target, kind: ImportKind, *, managers: bool = False
) -> ImportedObject:
    """``managers``: the user was read with ``$expand=manager`` (no manager: none)."""
    attributes = mapping.attributes_from_user(user, target)
    if managers:
        attributes[mapping.MANAGER] = mapping.manager_from_user(user)
    return ImportedObject(
        anchor=str(user["id"]),
        dn=mapping.dn_for(user),
        object_type=OBJECT_TYPE,
        attributes=attributes,
        kind=kind,
    )


def delta_item(user: Mapping[str, Any], target: mapping.Target) -> ImportedObject:
    """One ``/users/delta`` item: removed, complete (replace) or partial (update).

    ``@removed`` with reason ``changed`` is a soft delete (restorable in the cloud);
    both reasons mean the user is gone from the directory as it is now.
    """
    if "@removed" in user:
        return ImportedObject(
            anchor=str(user["id"]),
            dn=mapping.dn_for(user),
            object_type=OBJECT_TYPE,
            attributes={},
            kind=ImportKind.DELETE,
        )
    kind = ImportKind.REPLACE if mapping.is_complete(user, target) else ImportKind.UPDATE
    found = imported_user(user, target, kind)
    manager = mapping.manager_from_delta(user)
    return replace(found, attributes={**found.attributes, mapping.MANAGER: manager})


def is_expired_delta(error: GraphError) -> bool:
    """Whether a delta answer says the token can no longer be used (full import needed)."""
    if error.status == 410:
        return True
    code = error.code.lower()
    return code in EXPIRED_DELTA_CODES or (
        error.status in (400, 404) and "token" in error.message.lower()
    )


def imported_group(
    group: Mapping[str, Any], target: mapping.Target, kind: ImportKind, members: Values | None
) -> ImportedObject:
    """One group of ``/groups/delta``: removed, or its properties and its members, from
    ``members`` when given (read whole), else from a first round's ``members@delta``
    (then the whole list); an UPDATE carries no members (see :func:`group_delta_item`)."""
    if "@removed" in group or kind is ImportKind.DELETE:
        return ImportedObject(
            anchor=str(group["id"]),
            dn=groups.dn_for(group),
            object_type=groups.OBJECT_TYPE,
            attributes={},
            kind=ImportKind.DELETE,
        )
    attributes = groups.attributes_from_group(group, target)
    delta = group.get(f"{groups.MEMBERS}@delta")
    if members is not None:
        attributes[groups.MEMBERS] = members
    elif kind is not ImportKind.UPDATE:
        attributes[groups.MEMBERS] = groups.members_of(delta if isinstance(delta, list) else [])
    return ImportedObject(
        anchor=str(group["id"]),
        dn=groups.dn_for(group),
        object_type=groups.OBJECT_TYPE,
        attributes=attributes,
        kind=kind,
    )


def group_delta_item(group: Mapping[str, Any], target: mapping.Target) -> ImportedObject:
    """One group of a later ``/groups/delta`` round: removed, or its changed properties
    and, from ``members@delta``, its member changes (applied by the engine to the
    members it holds: no member list is read)."""
    if "@removed" in group:
        return imported_group(group, target, ImportKind.DELETE, None)
    found = imported_group(group, target, ImportKind.UPDATE, None)
    delta = group.get(f"{groups.MEMBERS}@delta")
    if not isinstance(delta, list):
        return found
    return replace(found, value_changes={groups.MEMBERS: groups.member_changes_of(delta)})


def same_group_items_combined(objects: list[ImportedObject]) -> list[ImportedObject]:
    """A round's items with those of one group folded into one, in first-seen order.

    Graph may spread a group's changes over several items of one page; applied one by
    one, each would be merged with the stored group rather than with the one before.
    """
    found: dict[str, ImportedObject] = {}
    for item in objects:
        earlier = found.get(item.anchor)
        found[item.anchor] = item if earlier is None else _then(earlier, item)
    return list(found.values())


def _then(earlier: ImportedObject, later: ImportedObject) -> ImportedObject:
    if ImportKind.DELETE in (earlier.kind, later.kind):
        return later
    changes = dict(earlier.value_changes)
    for name, then in later.value_changes.items():
        before = changes.get(name)
        changes[name] = then if before is None else groups.combined_member_changes(before, then)
    attributes = {**earlier.attributes, **later.attributes}
    return replace(later, attributes=attributes, value_changes=changes)


@dataclass(frozen=True, slots=True)
class Watermark:
    """Where delta imports resume: the users' and the groups' deltaLinks, and the
    members of ``[guests_to_ad]``'s scoping group as the last import saw them.

    Written as the users' link alone while there is nothing else (the form a connector
    that imported users only wrote), else as JSON.
    """

    users: str | None
    groups: str | None = None
    guest_members: tuple[str, ...] | None = None

    def text(self) -> str:
        if self.groups is None and self.guest_members is None:
            return self.users or ""
        data: dict[str, Any] = {"users": self.users, "groups": self.groups}
        if self.guest_members is not None:
            data["guest_members"] = list(self.guest_members)
        return json.dumps(data)

    @classmethod
    def parse(cls, text: str) -> Watermark:
        if not text.startswith("{"):
            return cls(text)
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not _watermark_shape(data):
            raise FatalConnectorError(
                "the delta watermark is not one this connector wrote; run a full import"
            )
        members = data.get("guest_members")
        return cls(data["users"], data["groups"], None if members is None else tuple(members))


def _watermark_shape(data: dict[str, Any]) -> bool:
    members = data.get("guest_members")
    if members is not None and not (
        isinstance(members, list) and all(isinstance(m, str) for m in members)
    ):
        return False
    groups_ok = isinstance(data.get("groups"), str) or (
        data.get("groups") is None and members is not None
    )
    return isinstance(data.get("users"), str) and groups_ok


def with_guest_scope(found: ImportedObject, members: frozenset[str]) -> ImportedObject:
    """A user marked as a member of the scoping group of ``[guests_to_ad]``, or not."""
    flag: Values = (True,) if found.anchor in members else ()
    return replace(found, attributes={**found.attributes, GUEST_GROUP_MEMBER: flag})


def deleted_guest(
    user: Mapping[str, Any], target: mapping.Target, kind: ImportKind
) -> ImportedObject:
    """A cloud guest in the recycle bin: kept, marked by its ``deletedDateTime``."""
    found = imported_user(user, target, kind)
    stamp = user.get(mapping.DELETED) or "deleted"
    return replace(found, attributes={**found.attributes, mapping.DELETED: (str(stamp),)})
