"""Links between connector-space and metaverse objects in SQL, and value-index lookups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from hybridsync.core.objects import CSObject
from hybridsync.core.values import Values
from hybridsync.store import tables
from hybridsync.store.sql.rows import cs_object
from hybridsync.store.sql.session import CHUNK, SqlSession
from hybridsync.store.value_index import lookup_key, lookup_keys

T = tables


class SqlLinks(SqlSession):
    """Implements :class:`hybridsync.core.storage.LinkStore` (the index itself is written
    with the objects, by the session)."""

    def cs_linked_to(self, mv_id: str) -> list[CSObject]:
        rows = self._read(select(T.cs_objects).where(T.cs_objects.c.mv_id == mv_id))
        return [cs_object(row) for row in rows]

    def cs_linked_to_many(self, mv_ids: Sequence[str]) -> dict[str, list[CSObject]]:
        linked: dict[str, list[CSObject]] = {mv_id: [] for mv_id in mv_ids}
        for start in range(0, len(mv_ids), CHUNK):
            part = list(mv_ids[start : start + CHUNK])
            for row in self._read(select(T.cs_objects).where(T.cs_objects.c.mv_id.in_(part))):
                linked[row.mv_id].append(cs_object(row))
        return linked

    def links_of(self, mv_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the CS objects joined to each MV object (no attributes read)."""
        c = T.cs_objects.c
        links: dict[str, list[str]] = {mv_id: [] for mv_id in mv_ids}
        for start in range(0, len(mv_ids), CHUNK):
            part = list(mv_ids[start : start + CHUNK])
            for row in self._read(select(c.cs_id, c.mv_id).where(c.mv_id.in_(part))):
                links[row.mv_id].append(row.cs_id)
        return links

    def cs_ids_by_value(
        self, space: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        c = T.value_index.c
        column = c.value_key if case_sensitive else c.value_key_ci
        keys = lookup_keys(
            lookup_key(v, case_sensitive) for v in values
        )  # a longer one is never indexed
        if not keys:
            return set()
        query = select(c.object_id).where(
            c.space == space, c.attribute == attribute, column.in_(keys)
        )
        return {row.object_id for row in self._read(query)}

    def ids_by_values(
        self, space: str, attribute: str, values: Sequence[Any], case_sensitive: bool
    ) -> dict[str, set[str]]:
        """Ids per value key (lower-cased when not case-sensitive), for many values at once."""
        c = T.value_index.c
        column = c.value_key if case_sensitive else c.value_key_ci
        keys = lookup_keys(sorted({lookup_key(v, case_sensitive) for v in values}))
        found: dict[str, set[str]] = {}
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            query = select(column.label("key"), c.object_id).where(
                c.space == space, c.attribute == attribute, column.in_(part)
            )
            for row in self._read(query):
                found.setdefault(row.key, set()).add(row.object_id)
        return found

    def count_unlinked(self, connector: str) -> int:
        c = T.cs_objects.c
        query = select(func.count()).where(c.connector == connector, c.mv_id.is_(None))
        return int(self._read(query).scalar_one())

    def put_links(self, objects: Sequence[CSObject]) -> None:
        """Store what a sync changed of these objects (link, pending import), leaving the
        rest as stored: a narrow update, nothing re-encoded, no other index touched."""
        for cs in objects:
            if cs.cs_id in self._cs_pending:
                self._cs_pending[cs.cs_id] = cs  # written whole anyway
            else:
                self._links_pending[cs.cs_id] = cs
        self._wrote()
