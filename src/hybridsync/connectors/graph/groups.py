"""Cloud groups: attributes <-> Graph ``group`` JSON, and the requests a change needs.

Pure: no I/O. A group's members are a multi-valued reference (``members``, cloud object
ids). A change to them is written as the change itself: one ``POST
/groups/{id}/members/$ref`` per member added and one ``DELETE
/groups/{id}/members/{member}/$ref`` per member removed, against the values the target
holds (``ExportChange.previous``), never as the whole list. A new group takes its first
members (at most 20, Graph's limit) in ``members@odata.bind``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from hybridsync.connectors.graph import mapping
from hybridsync.core.ports import ExportChange, ValueChanges
from hybridsync.core.values import Reference, Values
from hybridsync.errors import ObjectRejectedError
from hybridsync.json_types import JsonObject

OBJECT_TYPE = "group"
MEMBERS = "members"
BIND = "members@odata.bind"
MAX_BIND = 20
"""Members Graph takes in one ``members@odata.bind``."""

STRING_PROPERTIES = ("displayName", "description", "mailNickname")
BOOLEAN_PROPERTIES = ("mailEnabled", "securityEnabled")
LIST_PROPERTIES = ("groupTypes",)
MANAGED_PROPERTIES = STRING_PROPERTIES + BOOLEAN_PROPERTIES + LIST_PROPERTIES
SYNCED_PROPERTIES = (
    # Only the project's cloud directory takes these (from its synchronization role).
    "onPremisesSecurityIdentifier",
    "onPremisesSamAccountName",
    "onPremisesDomainName",
)
REQUIRED_ON_CREATE = ("displayName", "mailNickname")
NOT_CLEARABLE = frozenset({"displayName", "mailNickname", "mailEnabled", "securityEnabled"})

_CLOUD_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def properties(target: mapping.Target) -> tuple[str, ...]:
    return MANAGED_PROPERTIES + SYNCED_PROPERTIES if target.synced_markers else MANAGED_PROPERTIES


def select(target: mapping.Target) -> str:
    """The ``$select`` list for reading groups (``members`` too: ``members@delta``)."""
    extra = (mapping.SYNC_MARKER,) if target.synced_markers else ()
    return ",".join(("id", *properties(target), *extra))


def group_path(anchor: str) -> str:
    return f"/groups/{quote(anchor, safe='')}"


def is_members(attribute: str) -> bool:
    return attribute.lower() == MEMBERS


def _property_name(attribute: str, target: mapping.Target) -> str | None:
    key = attribute.lower()
    if key in mapping.IGNORED_ATTRIBUTES or key == mapping.SYNC_MARKER.lower():
        return None
    synced = {name.lower(): name for name in SYNCED_PROPERTIES}
    if key in synced:
        return synced[key] if target.synced_markers else None
    name = {name.lower(): name for name in MANAGED_PROPERTIES}.get(key)
    if name is None:
        raise ObjectRejectedError(
            f"{attribute}: not a group property this connector writes "
            f"(managed: {', '.join(properties(target))}, {MEMBERS})"
        )
    return name


def _value(name: str, values: Values) -> Any:
    if name in LIST_PROPERTIES:
        return [str(value) for value in values]
    if len(values) > 1:
        raise ObjectRejectedError(f"{name}: {len(values)} values for a single-valued property")
    if not values:
        if name in NOT_CLEARABLE:
            raise ObjectRejectedError(f"{name}: cannot be cleared on a cloud group")
        return None
    value = values[0]
    if name in BOOLEAN_PROPERTIES:
        return _as_bool(name, value)
    if name == "mailNickname":
        nickname = mapping.mail_nickname(str(value))
        if not nickname:
            raise ObjectRejectedError(f"mailNickname: {value!r} has no valid character")
        return nickname
    if isinstance(value, bytes):
        raise ObjectRejectedError(f"{name}: binary value for a string property")
    return str(value)


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ObjectRejectedError(f"{name}: {value!r} is not a boolean")


def patch_body(changes: Iterable[tuple[str, Values]], target: mapping.Target) -> JsonObject:
    """The minimal PATCH body of a group (members are never in it).

    Raises:
        ObjectRejectedError: an attribute or value Graph would refuse (names it).
    """
    body: JsonObject = {}
    for attribute, values in changes:
        if is_members(attribute):
            continue
        name = _property_name(attribute, target)
        if name is not None:
            body[name] = _value(name, values)
    return body


def create_body(attributes: Mapping[str, Values], target: mapping.Target, root: str) -> JsonObject:
    """The ``POST /groups`` body: ``securityEnabled``/``mailEnabled`` default to a
    security group; its first members (at most 20) bound.

    Raises:
        ObjectRejectedError: a required property is missing, a value is refused, or more
            members than one request takes.
    """
    body = patch_body(((k, v) for k, v in attributes.items() if v), target)
    for name in REQUIRED_ON_CREATE:
        if not body.get(name):
            raise ObjectRejectedError(f"{name}: required to create a cloud group but empty")
    body.setdefault("securityEnabled", True)
    body.setdefault("mailEnabled", False)
    members = next((v for k, v in attributes.items() if is_members(k)), ())
    if len(members) > MAX_BIND:
        raise ObjectRejectedError(
            f"{MEMBERS}: {len(members)} members for a new group; at most {MAX_BIND} are "
            "bound on create, the others are added once it exists"
        )
    if members:
        body[BIND] = [member_reference(str(member), root) for member in members]
    return body


def member_reference(member: str, root: str) -> str:
    """The ``@odata.id`` of a member (a user or a group) by its cloud id."""
    if not _CLOUD_ID.fullmatch(member):
        raise ObjectRejectedError(f"{MEMBERS}: {member!r} is not a cloud object id")
    return f"{root.rstrip('/')}/directoryObjects/{quote(member, safe='')}"


def member_changes(change: ExportChange) -> tuple[list[str], list[str]]:
    """The members to add and to remove: the change's new members against those the
    target holds (``previous``); sorted, so the requests are the same every time."""
    wanted = next((c.values for c in change.changes if is_members(c.name)), None)
    if wanted is None:
        return [], []
    before = next((v for k, v in change.previous.items() if is_members(k)), ())
    new = {str(value) for value in wanted}
    old = {str(value) for value in before}
    return sorted(new - old), sorted(old - new)


def dn_for(group: Mapping[str, Any]) -> str:
    """The connector-space DN of a cloud group: ``CN={<object id>}``."""
    return "CN={" + str(group["id"]) + "}"


def attributes_from_group(group: Mapping[str, Any], target: mapping.Target) -> dict[str, Values]:
    """The attributes of a Graph group: only the properties present in the JSON."""
    names = properties(target)
    if target.synced_markers:
        names = (*names, mapping.SYNC_MARKER)
    return mapping.present_properties(group, names)


def members_of(entries: Iterable[Mapping[str, Any]]) -> Values:
    """Member references from ``members`` (expanded) or a first-round ``members@delta``."""
    return tuple(
        Reference(str(entry["id"]))
        for entry in entries
        if isinstance(entry, Mapping) and "id" in entry and "@removed" not in entry
    )


def member_changes_of(entries: Iterable[Any]) -> ValueChanges:
    """The member changes of a later round's ``members@delta``: ``{"id": ...}`` added,
    ``{"id": ..., "@removed": {...}}`` removed; a member named twice counts as its last
    entry says."""
    last: dict[str, bool] = {}
    for entry in entries:
        if isinstance(entry, Mapping) and "id" in entry:
            member = str(entry["id"])
            last.pop(member, None)  # re-inserted: the order is that of the last entries
            last[member] = "@removed" not in entry
    return ValueChanges(
        added=tuple(Reference(member) for member, added in last.items() if added),
        removed=tuple(Reference(member) for member, added in last.items() if not added),
    )


def combined_member_changes(first: ValueChanges, then: ValueChanges) -> ValueChanges:
    """Two successive member changes of a group as one (the later entry of a member wins)."""
    added_later = {str(value) for value in then.added}
    removed_later = {str(value) for value in then.removed}
    return ValueChanges(
        added=(*(v for v in first.added if str(v) not in removed_later), *then.added),
        removed=(*(v for v in first.removed if str(v) not in added_later), *then.removed),
    )


def is_group_change(change: ExportChange) -> bool:
    return change.object_type.lower() == OBJECT_TYPE


def needs_anchor(change: ExportChange) -> str:
    if not change.anchor:
        raise ObjectRejectedError(f"{change.kind.value} of {change.dn} has no cloud anchor")
    return change.anchor
