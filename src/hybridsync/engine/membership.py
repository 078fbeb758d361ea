"""ISMEMBEROF / ISNOTMEMBEROF: direct membership in a group of the same connector space.

The clause's value is a group's DN; an object is a member when its DN is among the
group's ``member`` values in the connector space (direct membership only, as Entra
Connect; DNs compared ignoring case). A sync run reads each group its rules name once,
so scoping 100,000 objects costs one query per named group, not one per object.

A group's membership change reaches the objects it affects at import time: the members
added to or removed from a named group get a pending import, so a delta sync
re-evaluates their scope although their own attributes did not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from hybridsync.core.objects import CSObject, PendingImport
from hybridsync.core.rules import MEMBER_ATTRIBUTE
from hybridsync.core.scope import MemberOf
from hybridsync.core.storage import ConnectorSpaceStore
from hybridsync.core.values import Values


def member_dns(attributes: Mapping[str, Values]) -> dict[str, str]:
    """The group's ``member`` values (any attribute-name case): lower-cased DN -> DN."""
    for name, values in attributes.items():
        if name.lower() == MEMBER_ATTRIBUTE:
            return {str(value).lower(): str(value) for value in values}
    return {}


class GroupMembership:
    """Answers ISMEMBEROF for the objects of one sync run (or one preview).

    Groups are read lazily, once; connector-space attributes do not change during a
    sync (only imports change them), so the answers stay valid for the whole run.
    """

    def __init__(self, store: ConnectorSpaceStore, notes: list[str] | None = None) -> None:
        self._store = store
        self._notes = notes
        self._groups: dict[tuple[str, str], frozenset[str] | None] = {}

    def member_of(self, cs: CSObject) -> MemberOf:
        """The question "is ``cs`` a member of the group with this DN?", for scoping."""
        dn = cs.dn.lower()

        def holds(group_dn: str) -> bool:
            members = self.members(cs.connector, group_dn)
            return members is not None and dn in members

        return holds

    def members(self, connector: str, group_dn: str) -> frozenset[str] | None:
        """Lower-cased member DNs; ``None`` when the connector space has no such object."""
        key = (connector, group_dn.lower())
        if key not in self._groups:
            self._groups[key] = self._read(connector, group_dn)
        return self._groups[key]

    def holds(self, connector: str, group_dn: str) -> bool:
        """Whether the connector space holds this group, not deleted in the directory."""
        group = self._find(connector, group_dn)
        return group is not None and group.pending_import is not PendingImport.DELETE

    def _find(self, connector: str, group_dn: str) -> CSObject | None:
        store = self._store
        group = store.cs_by_dn(connector, group_dn)
        if group is None:  # the rule may spell the DN in another case than the directory
            group = store.cs_by_dns(connector, [group_dn], ignore_case=True).get(group_dn.lower())
        return group

    def _read(self, connector: str, group_dn: str) -> frozenset[str] | None:
        group = self._find(connector, group_dn)
        if group is not None and group.pending_import is PendingImport.DELETE:
            return frozenset()  # deleted in the directory: no members any more
        if group is None:
            if self._notes is not None:
                self._notes.append(
                    f"ISMEMBEROF: connector {connector!r} holds no group {group_dn!r}; "
                    "no object is a member of it"
                )
            return None
        return frozenset(member_dns(group.attributes))


def changed_members(
    before: CSObject | None, after: CSObject | None, groups: frozenset[str]
) -> set[str]:
    """DNs added to or removed from a named group (``groups``: lower-cased DNs) by an import.

    A group that is renamed, deleted or created counts as every member leaving or joining.
    """
    old = _named_members(before, groups)
    new = _named_members(after, groups)
    return {old.get(key) or new[key] for key in old.keys() ^ new.keys()}


def _named_members(cs: CSObject | None, groups: frozenset[str]) -> dict[str, str]:
    if cs is None or cs.pending_import is PendingImport.DELETE or cs.dn.lower() not in groups:
        return {}
    return member_dns(cs.attributes)


def mark_members(
    store: ConnectorSpaceStore,
    connector: str,
    groups: frozenset[str],
    changes: Iterable[tuple[CSObject | None, CSObject | None]],
) -> int:
    """Give the members whose named-group membership changed a pending import, so a
    delta sync re-evaluates their scope; returns how many were marked."""
    if not groups:
        return 0
    dns: set[str] = set()
    for before, after in changes:
        dns |= changed_members(before, after, groups)
    if not dns:
        return 0
    # Exact DN lookups (the DN index): a directory writes a member's DN in ``member`` as it
    # writes the entry's own DN. Members outside the connector space are simply not found.
    found: Sequence[CSObject] = list(store.cs_by_dns(connector, sorted(dns)).values())
    marked = [
        replace(cs, pending_import=PendingImport.UPDATE)
        for cs in found
        if cs.pending_import is PendingImport.NONE
    ]
    store.put_cs_many(marked)
    return len(marked)
