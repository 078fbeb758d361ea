"""Graph user JSON -> imported connector-space objects. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hybridsync.connectors.graph import mapping
from hybridsync.connectors.graph.errors import GraphError
from hybridsync.core.ports import ImportedObject, ImportKind

OBJECT_TYPE = "user"

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
