"""Cloud guests for ``[guests_to_ad]``: what the import adds when the connector imports
them (``cloud_guests`` in its configuration).

- A cloud guest (invited, not synced) in the recycle bin is kept in the connector space,
  marked by its ``deletedDateTime``: a soft delete disables its AD account, a restore
  enables it again, and only a hard delete (a purge) removes it. Other users leave the
  connector space on a soft delete, as before.
- With a scoping group, every user carries ``inGuestScopeGroup`` (true for its direct
  members). A delta import reads the group's members again and re-reads the users whose
  membership changed since the last import (the watermark keeps the member list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from hybridsync.connectors.graph import mapping
from hybridsync.connectors.graph.client import GraphClient
from hybridsync.connectors.graph.exporting import Matcher
from hybridsync.connectors.graph.groups import group_path
from hybridsync.connectors.graph.importing import deleted_guest, with_guest_scope
from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.errors import FatalConnectorError

DELETED_USERS = "/directory/deletedItems/microsoft.graph.user"


@dataclass
class GuestImport:
    """Reads what cloud guests need beyond ``/users`` and ``/users/delta``."""

    client: GraphClient
    target: mapping.Target
    group: str | None
    page_size: int = 999

    @property
    def _select(self) -> str:
        return f"{self.target.select()},{mapping.DELETED}"

    def members(self) -> frozenset[str] | None:
        """The scoping group's direct members' ids (``None``: no scoping group)."""
        if self.group is None:
            return None
        query = urlencode({"$select": "id", "$top": str(self.page_size)})
        found: set[str] = set()
        for page in self.client.pages(f"{group_path(self.group)}/members?{query}"):
            found.update(str(entry["id"]) for entry in page.get("value", []) if "id" in entry)
        return frozenset(found)

    def scoped(self, found: ImportedObject, members: frozenset[str] | None) -> ImportedObject:
        """A user with its scoping-group mark (as it is without a scoping group)."""
        if members is None or found.object_type != "user" or found.kind is ImportKind.DELETE:
            return found
        return with_guest_scope(found, members)

    def deleted_pages(self, members: frozenset[str] | None) -> Iterator[list[ImportedObject]]:
        """The cloud guests in the recycle bin, page by page (a full import)."""
        query = urlencode({"$select": self._select, "$top": str(self.page_size)})
        for page in self.client.pages(f"{DELETED_USERS}?{query}"):
            yield [
                self.scoped(deleted_guest(user, self.target, ImportKind.PRESENT), members)
                for user in page.get("value", [])
                if mapping.is_cloud_guest(user)
            ]

    def soft_deleted(self, items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The cloud guests among the delta's soft-deleted users, read from the recycle
        bin, by id; a user purged since, or not a cloud guest, is not in it."""
        found: dict[str, dict[str, Any]] = {}
        for item in items:
            removed = item.get("@removed")
            if not isinstance(removed, dict) or removed.get("reason") != "changed":
                continue
            user = self._read_deleted(str(item["id"]))
            if user is not None and mapping.is_cloud_guest(user):
                found[str(item["id"])] = user
        return found

    def _read_deleted(self, user_id: str) -> dict[str, Any] | None:
        query = urlencode({"$select": self._select})
        response = self.client.get(f"/directory/deletedItems/{quote(user_id, safe='')}?{query}")
        if response.status_code == 404:
            return None
        body = response.json() if response.content else None
        if response.status_code != 200 or not isinstance(body, dict):
            raise FatalConnectorError(f"GET {DELETED_USERS}/{user_id}: HTTP {response.status_code}")
        return body

    def membership_changes(
        self, before: Iterable[str] | None, now: frozenset[str]
    ) -> list[ImportedObject]:
        """The users who joined or left the scoping group since ``before`` (the members
        the last import saw), with their new mark."""
        changed = sorted(now ^ frozenset(before or ()))
        if not changed:
            return []
        # Only the mark changes: an update (the DN as the user's own, from its id and
        # immutable id), which leaves every other value as imported.
        select = "id,onPremisesImmutableId"
        users = Matcher(self.client, soft_match_upn=False).find("id", changed, select)
        return [
            self.scoped(
                ImportedObject(
                    str(user["id"]), mapping.dn_for(user), "user", {}, ImportKind.UPDATE
                ),
                now,
            )
            for user in users
        ]
