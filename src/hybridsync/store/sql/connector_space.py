"""Connector-space objects in SQL: by id, anchor or DN, their import and export state."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, func, not_, select

from hybridsync.core.objects import CSObject, PendingImport
from hybridsync.core.ports import ExportKind
from hybridsync.store import tables
from hybridsync.store.codec import dump_attributes, dump_pending
from hybridsync.store.sql.rows import CS_BY_IDS, MARK_IN_FLIGHT, PUT_EXPORTED, cs_object, cs_values
from hybridsync.store.sql.session import CHUNK, SqlSession

T = tables


class SqlConnectorSpaces(SqlSession):
    """Implements :class:`hybridsync.core.storage.ConnectorSpaceStore`."""

    def get_cs(self, cs_id: str) -> CSObject | None:
        row = self._read(select(T.cs_objects).where(T.cs_objects.c.cs_id == cs_id)).first()
        return cs_object(row) if row else None

    def get_cs_many(self, cs_ids: Sequence[str]) -> list[CSObject]:
        # The batch read of every run: plain SQL text and rows taken as tuples, so no
        # statement is compiled and no row is converted by SQLAlchemy on the way.
        self._flush()
        found: list[CSObject] = []
        for start in range(0, len(cs_ids), CHUNK):
            part = tuple(cs_ids[start : start + CHUNK])
            sql = CS_BY_IDS + self._placeholders(len(part)) + ")"
            rows = self._connection.exec_driver_sql(sql, part).fetchall()
            found.extend(map(cs_values, rows))
        order = {cs_id: index for index, cs_id in enumerate(cs_ids)}
        found.sort(key=lambda cs: order[cs.cs_id])
        return found

    def cs_by_anchor(self, connector: str, anchor: str) -> CSObject | None:
        c = T.cs_objects.c
        row = self._read(
            select(T.cs_objects).where(c.connector == connector, c.anchor == anchor)
        ).first()
        return cs_object(row) if row else None

    def cs_by_anchors(self, connector: str, anchors: Sequence[str]) -> dict[str, CSObject]:
        c = T.cs_objects.c
        found: dict[str, CSObject] = {}
        for start in range(0, len(anchors), CHUNK):
            part = list(anchors[start : start + CHUNK])
            query = select(T.cs_objects).where(c.connector == connector, c.anchor.in_(part))
            for row in self._read(query):
                found[row.anchor] = cs_object(row)
        return found

    def cs_by_dn(self, connector: str, dn: str) -> CSObject | None:
        c = T.cs_objects.c
        row = self._read(select(T.cs_objects).where(c.connector == connector, c.dn == dn)).first()
        return cs_object(row) if row else None

    def cs_by_dns(
        self, connector: str, dns: Sequence[str], *, ignore_case: bool = False
    ) -> dict[str, CSObject]:
        """Objects by DN, keyed by DN (lower-cased with ``ignore_case``, which cannot use
        the DN index: for a few DNs only)."""
        c = T.cs_objects.c
        column = func.lower(c.dn) if ignore_case else c.dn
        wanted = sorted({dn.lower() for dn in dns} if ignore_case else set(dns))
        found: dict[str, CSObject] = {}
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            query = select(T.cs_objects).where(c.connector == connector, column.in_(part))
            for row in self._read(query):
                found[row.dn.lower() if ignore_case else row.dn] = cs_object(row)
        return found

    def cs_ids(self, connector: str, *, pending_only: bool = False) -> list[str]:
        c = T.cs_objects.c
        query = select(c.cs_id).where(c.connector == connector)
        if pending_only:
            pending = [kind.value for kind in PendingImport if kind is not PendingImport.NONE]
            query = query.where(c.pending_import.in_(pending))  # uses the index, unlike !=
        return [row.cs_id for row in self._read(query.order_by(c.cs_id))]

    def cs_ids_to_sync(self, connector: str, settled_by: Collection[str]) -> list[str]:
        if not settled_by:
            return self.cs_ids(connector)
        c = T.cs_objects.c
        settled = and_(
            c.mv_id.is_not(None),
            c.joined_by.is_not(None),  # so the test is never NULL
            c.joined_by.in_(sorted(settled_by)),
            c.pending_import == PendingImport.NONE.value,
        )
        query = select(c.cs_id).where(c.connector == connector, not_(settled))
        return [row.cs_id for row in self._read(query.order_by(c.cs_id))]

    def cs_ids_to_export(self, connector: str) -> list[str]:
        c = T.cs_objects.c
        query = select(c.cs_id).where(c.connector == connector, c.to_export.is_(True))
        return [row.cs_id for row in self._read(query.order_by(c.cs_id))]

    def count_cs(self, connector: str) -> int:
        c = T.cs_objects.c
        return int(self._read(select(func.count()).where(c.connector == connector)).scalar_one())

    def count_imported(self, connector: str) -> int:
        c = T.cs_objects.c
        query = select(func.count()).where(c.connector == connector, c.anchor.is_not(None))
        return int(self._read(query).scalar_one())

    def count_pending_deletes(self, connector: str) -> int:
        c = T.cs_objects.c
        query = select(func.count()).where(
            c.connector == connector,
            c.to_export.is_(True),
            c.pending_export.like(f'{{"kind":"{ExportKind.DELETE.value}"%'),
        )
        return int(self._read(query).scalar_one())

    def mark_in_flight(self, cs_ids: Sequence[str]) -> None:
        """Flag objects whose export is about to be sent (a narrow update, no re-encoding)."""
        self._flush()
        for start in range(0, len(cs_ids), CHUNK):
            part = (True, True, *cs_ids[start : start + CHUNK])
            marks = self._placeholders(len(part)).split(", ")
            sql = MARK_IN_FLIGHT.format(*marks[:2], ", ".join(marks[2:]))
            self._connection.exec_driver_sql(sql, part)

    def put_cs(self, cs: CSObject) -> None:
        self.put_cs_many([cs])

    def put_cs_many(self, objects: Sequence[CSObject]) -> None:
        links = self._links_pending
        for cs in objects:
            self._cs_pending[cs.cs_id] = cs
            if links:
                links.pop(cs.cs_id, None)  # the whole object is written: links included
        self._wrote()

    def put_exported(self, objects: Sequence[CSObject]) -> None:
        """Store what an export changed of these objects (anchor, DN, pending export,
        unconfirmed values, in-flight flag), leaving their attributes and links as stored:
        a narrow update, nothing re-encoded that the export did not touch."""
        waiting = [cs for cs in objects if cs.cs_id in self._cs_pending]
        if waiting:  # written whole anyway: keep the order of the writes
            self.put_cs_many(waiting)
        rows = [
            (
                cs.anchor,
                cs.dn,
                dump_pending(cs.pending_export),
                dump_attributes(cs.unconfirmed) if cs.unconfirmed else None,
                cs.export_in_flight,
                bool(cs.pending_export or cs.unconfirmed or cs.export_in_flight),
                cs.cs_id,
            )
            for cs in objects
            if cs.cs_id not in self._cs_pending
        ]
        if rows:
            marks = self._placeholders(7).split(", ")
            sql = PUT_EXPORTED.format(*marks)
            self._connection.exec_driver_sql(sql, rows)
        self._wrote()

    def delete_cs(self, cs_id: str) -> None:
        self._cs_pending[cs_id] = None
        self._links_pending.pop(cs_id, None)
        self._wrote()
