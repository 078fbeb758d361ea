"""SqlStore: the engine's Store Protocol on SQLAlchemy Core (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, func, insert, not_, select, update

from hybridsync.core.convert import value_key
from hybridsync.core.objects import CSObject, MVObject, ObjectError, PendingImport
from hybridsync.core.ports import ExportKind, ImportedObject
from hybridsync.core.storage import ConnectorState, RunRecord
from hybridsync.core.storage_limits import INDEXED_BYTES, indexable
from hybridsync.core.values import Values
from hybridsync.errors import StoreError
from hybridsync.store import tables
from hybridsync.store.bulk import BulkWriter
from hybridsync.store.codec import (
    dump_attributes,
    dump_lineage,
    dump_pending,
    load_attributes,
    load_lineage,
    load_pending,
)
from hybridsync.store.dialect import Dialect, TableGrowth, dialect_of

_CHUNK = 500
_FLUSH_AT = 5_000
"""Waiting writes that are flushed even inside a transaction."""

T = tables
_SURE_FIT = INDEXED_BYTES // 4
"""A key of at most this many characters fits the value index whatever its characters."""


class SqlStore:
    """Implements :class:`hybridsync.core.storage.Store` over one connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection = engine.connect()
        self._bulk = BulkWriter(self._connection)
        self._depth = 0
        self._indexed: dict[str, frozenset[str]] = {}
        # Writes wait here until the transaction commits or something is read, so a
        # batch becomes a few executemany statements instead of one per object.
        self._cs_pending: dict[str, CSObject | None] = {}
        self._links_pending: dict[str, CSObject] = {}
        """Objects of which only the link and pending import changed (``put_links``)."""
        self._mv_pending: dict[str, MVObject | None] = {}
        self.dialect: Dialect = dialect_of(engine)
        self._growth = TableGrowth() if self.dialect.analyzes_growth else None
        self._cs_upsert = self.dialect.upsert(T.cs_objects)
        self._mv_upsert = self.dialect.upsert(T.mv_objects)

    @property
    def connection(self) -> Connection:
        if not self._depth:
            self._revive()
        return self._connection

    def _revive(self) -> None:
        """After a lost connection, let the next statement connect again (SQLAlchemy
        refuses to until the dead one's transaction is rolled back: no round trip)."""
        if self._connection.invalidated:
            self._connection.rollback()

    def close(self) -> None:
        self._connection.close()
        self._engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._revive()
        self._connection.exec_driver_sql(self.dialect.begin)
        self._depth = 1
        try:
            yield
            self._flush()
        except BaseException:
            self._depth = 0
            self._cs_pending.clear()
            self._links_pending.clear()
            self._mv_pending.clear()
            self._rollback()
            raise
        self._depth = 0
        self._connection.exec_driver_sql("COMMIT")

    def _rollback(self) -> None:
        """Roll back the failed transaction; a connection lost meanwhile needs none (the
        database rolled it back), and the failure being raised says what happened."""
        if not self._connection.invalidated:
            # Lost while rolling back: the database rolls back without us.
            with suppress(StoreError):
                self._connection.exec_driver_sql("ROLLBACK")
        self._revive()

    def set_indexed_attributes(self, space: str, attributes: Iterable[str]) -> None:
        self._indexed[space] = frozenset(attributes)

    def _run(self, statement: Any, parameters: Any = None) -> Any:
        if isinstance(parameters, list) and parameters:
            self._bulk.executemany(statement, parameters)
            if self._growth is not None:
                self._growth.wrote(self._connection, statement, len(parameters))
            return None
        return self._connection.execute(statement, parameters)

    def _placeholders(self, count: int) -> str:
        """``count`` positional parameters in the driver's own style."""
        style = self._connection.dialect.paramstyle
        if style == "numeric":
            return ", ".join(f":{n}" for n in range(1, count + 1))
        return ", ".join(["?" if style == "qmark" else "%s"] * count)

    def _read(self, statement: Any) -> Any:
        self._flush()
        return self._connection.execute(statement)

    def _wrote(self) -> None:
        # Outside a transaction at once; inside it, before the waiting writes take more
        # memory than a batch's worth (a first full import is one long transaction).
        waiting = len(self._cs_pending) + len(self._links_pending) + len(self._mv_pending)
        if not self._depth or waiting >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        if self._cs_pending:
            pending, self._cs_pending = self._cs_pending, {}
            self._write_cs(pending)
        if self._links_pending:
            links, self._links_pending = self._links_pending, {}
            self._write_links(links.values())
        if self._mv_pending:
            pending_mv, self._mv_pending = self._mv_pending, {}
            self._write_mv(pending_mv)

    def _write_cs(self, pending: dict[str, CSObject | None]) -> None:
        gone = [cs_id for cs_id, cs in pending.items() if cs is None]
        kept = [cs for cs in pending.values() if cs is not None]
        self._delete_ids(T.cs_objects, T.cs_objects.c.cs_id, gone)
        if kept:
            # Index first: rows read from the database still have their cached text.
            rows = [_cs_row(cs) for cs in kept]
        by_space: dict[str, list[tuple[str, Mapping[str, Values]]]] = {}
        for cs in kept:
            if self._indexed.get(cs.connector) and not _indexed_already(cs.attributes):
                by_space.setdefault(cs.connector, []).append((cs.cs_id, cs.attributes))
        for space, items in by_space.items():
            self._reindex(space, items)
        if kept:
            self._run(self._cs_upsert, rows)

    def _write_links(self, objects: Iterable[CSObject]) -> None:
        rows = [
            (cs.mv_id, cs.joined_by, cs.keeps_mv, cs.pending_import.value, cs.cs_id)
            for cs in objects
        ]
        sql = _PUT_LINKS.format(*self._placeholders(5).split(", "))
        self._connection.exec_driver_sql(sql, rows)

    def _write_mv(self, pending: dict[str, MVObject | None]) -> None:
        gone = [mv_id for mv_id, mv in pending.items() if mv is None]
        kept = [mv for mv in pending.values() if mv is not None]
        self._delete_ids(T.mv_objects, T.mv_objects.c.mv_id, gone)
        if kept:
            rows = [
                {
                    "mv_id": mv.mv_id,
                    "object_type": mv.object_type,
                    "attributes": dump_attributes(mv.attributes),
                    "lineage": dump_lineage(mv.lineage),
                }
                for mv in kept
            ]
            self._run(self._mv_upsert, rows)
            if self._indexed.get("mv"):
                self._reindex("mv", [(mv.mv_id, mv.attributes) for mv in kept])

    def _delete_ids(self, table: Any, column: Any, ids: list[str]) -> None:
        self._delete_where_in(table.name, column.name, ids)
        self._delete_where_in(T.value_index.name, T.value_index.c.object_id.name, ids)

    def _delete_where_in(self, table: str, column: str, ids: Sequence[str]) -> None:
        """``DELETE FROM table WHERE column IN (ids)`` a chunk at a time, as plain SQL
        (nothing compiled per batch); ``table`` and ``column`` are the schema's names."""
        for start in range(0, len(ids), _CHUNK):
            part = tuple(ids[start : start + _CHUNK])
            sql = f"DELETE FROM {table} WHERE {column} IN ({self._placeholders(len(part))})"
            self._connection.exec_driver_sql(sql, part)

    # connector space -------------------------------------------------------------

    def get_cs(self, cs_id: str) -> CSObject | None:
        row = self._read(select(T.cs_objects).where(T.cs_objects.c.cs_id == cs_id)).first()
        return _cs(row) if row else None

    def get_cs_many(self, cs_ids: Sequence[str]) -> list[CSObject]:
        # The batch read of every run: plain SQL text and rows taken as tuples, so no
        # statement is compiled and no row is converted by SQLAlchemy on the way.
        self._flush()
        found: list[CSObject] = []
        for start in range(0, len(cs_ids), _CHUNK):
            part = tuple(cs_ids[start : start + _CHUNK])
            sql = _CS_BY_IDS + self._placeholders(len(part)) + ")"
            rows = self._connection.exec_driver_sql(sql, part).fetchall()
            found.extend(map(_cs_values, rows))
        order = {cs_id: index for index, cs_id in enumerate(cs_ids)}
        found.sort(key=lambda cs: order[cs.cs_id])
        return found

    def cs_by_anchor(self, connector: str, anchor: str) -> CSObject | None:
        c = T.cs_objects.c
        row = self._read(
            select(T.cs_objects).where(c.connector == connector, c.anchor == anchor)
        ).first()
        return _cs(row) if row else None

    def cs_by_anchors(self, connector: str, anchors: Sequence[str]) -> dict[str, CSObject]:
        c = T.cs_objects.c
        found: dict[str, CSObject] = {}
        for start in range(0, len(anchors), _CHUNK):
            part = list(anchors[start : start + _CHUNK])
            query = select(T.cs_objects).where(c.connector == connector, c.anchor.in_(part))
            for row in self._read(query):
                found[row.anchor] = _cs(row)
        return found

    def cs_by_dn(self, connector: str, dn: str) -> CSObject | None:
        c = T.cs_objects.c
        row = self._read(select(T.cs_objects).where(c.connector == connector, c.dn == dn)).first()
        return _cs(row) if row else None

    def cs_by_dns(
        self, connector: str, dns: Sequence[str], *, ignore_case: bool = False
    ) -> dict[str, CSObject]:
        """Objects by DN, keyed by DN (lower-cased with ``ignore_case``, which cannot use
        the DN index: for a few DNs only)."""
        c = T.cs_objects.c
        column = func.lower(c.dn) if ignore_case else c.dn
        wanted = sorted({dn.lower() for dn in dns} if ignore_case else set(dns))
        found: dict[str, CSObject] = {}
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            query = select(T.cs_objects).where(c.connector == connector, column.in_(part))
            for row in self._read(query):
                found[row.dn.lower() if ignore_case else row.dn] = _cs(row)
        return found

    def cs_linked_to(self, mv_id: str) -> list[CSObject]:
        rows = self._read(select(T.cs_objects).where(T.cs_objects.c.mv_id == mv_id))
        return [_cs(row) for row in rows]

    def cs_linked_to_many(self, mv_ids: Sequence[str]) -> dict[str, list[CSObject]]:
        linked: dict[str, list[CSObject]] = {mv_id: [] for mv_id in mv_ids}
        for start in range(0, len(mv_ids), _CHUNK):
            part = list(mv_ids[start : start + _CHUNK])
            for row in self._read(select(T.cs_objects).where(T.cs_objects.c.mv_id.in_(part))):
                linked[row.mv_id].append(_cs(row))
        return linked

    def links_of(self, mv_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the CS objects joined to each MV object (no attributes read)."""
        c = T.cs_objects.c
        links: dict[str, list[str]] = {mv_id: [] for mv_id in mv_ids}
        for start in range(0, len(mv_ids), _CHUNK):
            part = list(mv_ids[start : start + _CHUNK])
            for row in self._read(select(c.cs_id, c.mv_id).where(c.mv_id.in_(part))):
                links[row.mv_id].append(row.cs_id)
        return links

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

    def cs_ids_by_value(
        self, space: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        c = T.value_index.c
        if case_sensitive:
            column, keys = c.value_key, [value_key(v) for v in values]
        else:
            column, keys = c.value_key_ci, [value_key(v).lower() for v in values]
        keys = _lookup_keys(keys)  # a longer one is never indexed
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
        keys = sorted({value_key(v) if case_sensitive else value_key(v).lower() for v in values})
        keys = _lookup_keys(keys)
        found: dict[str, set[str]] = {}
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            query = select(column.label("key"), c.object_id).where(
                c.space == space, c.attribute == attribute, column.in_(part)
            )
            for row in self._read(query):
                found.setdefault(row.key, set()).add(row.object_id)
        return found

    def mark_in_flight(self, cs_ids: Sequence[str]) -> None:
        """Flag objects whose export is about to be sent (a narrow update, no re-encoding)."""
        self._flush()
        for start in range(0, len(cs_ids), _CHUNK):
            part = (True, True, *cs_ids[start : start + _CHUNK])
            marks = self._placeholders(len(part)).split(", ")
            sql = _MARK_IN_FLIGHT.format(*marks[:2], ", ".join(marks[2:]))
            self._connection.exec_driver_sql(sql, part)

    def count_unlinked(self, connector: str) -> int:
        c = T.cs_objects.c
        query = select(func.count()).where(c.connector == connector, c.mv_id.is_(None))
        return int(self._read(query).scalar_one())

    def put_cs(self, cs: CSObject) -> None:
        self.put_cs_many([cs])

    def put_cs_many(self, objects: Sequence[CSObject]) -> None:
        links = self._links_pending
        for cs in objects:
            self._cs_pending[cs.cs_id] = cs
            if links:
                links.pop(cs.cs_id, None)  # the whole object is written: links included
        self._wrote()

    def put_links(self, objects: Sequence[CSObject]) -> None:
        """Store what a sync changed of these objects (link, pending import), leaving the
        rest as stored: a narrow update, nothing re-encoded, no other index touched."""
        for cs in objects:
            if cs.cs_id in self._cs_pending:
                self._cs_pending[cs.cs_id] = cs  # written whole anyway
            else:
                self._links_pending[cs.cs_id] = cs
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
            sql = _PUT_EXPORTED.format(*marks)
            self._connection.exec_driver_sql(sql, rows)
        self._wrote()

    def delete_cs(self, cs_id: str) -> None:
        self._cs_pending[cs_id] = None
        self._links_pending.pop(cs_id, None)
        self._wrote()

    # metaverse ---------------------------------------------------------------------

    def get_mv(self, mv_id: str) -> MVObject | None:
        return self.get_mv_many([mv_id]).get(mv_id)

    def get_mv_many(self, mv_ids: Sequence[str]) -> dict[str, MVObject]:
        found: dict[str, MVObject] = {}
        for start in range(0, len(mv_ids), _CHUNK):
            part = list(mv_ids[start : start + _CHUNK])
            for row in self._read(select(T.mv_objects).where(T.mv_objects.c.mv_id.in_(part))):
                found[row.mv_id] = MVObject(
                    row.mv_id,
                    row.object_type,
                    load_attributes(row.attributes),
                    load_lineage(row.lineage),
                )
        return found

    def count_mv(self) -> int:
        return int(self._read(select(func.count()).select_from(T.mv_objects)).scalar_one())

    def put_mv(self, mv: MVObject) -> None:
        self._mv_pending[mv.mv_id] = mv
        self._wrote()

    def delete_mv(self, mv_id: str) -> None:
        self._mv_pending[mv_id] = None
        self._wrote()

    def _reindex(self, space: str, items: Sequence[tuple[str, Mapping[str, Values]]]) -> None:
        wanted = self._indexed.get(space, frozenset())
        ids = [object_id for object_id, _ in items]
        self._delete_where_in(T.value_index.name, T.value_index.c.object_id.name, ids)
        rows = [
            {
                "space": space,
                "attribute": name,
                "value_key": key,
                "value_key_ci": key.lower(),
                "object_id": object_id,
            }
            for object_id, attributes in items
            for name in wanted
            for key in map(value_key, attributes.get(name, ()))
        ]
        if any(len(row["value_key"]) > _SURE_FIT for row in rows):
            rows = _indexable_rows(rows)
        if rows:
            self._run(insert(T.value_index), rows)

    # full-import staging -------------------------------------------------------------

    def clear_staging(self, connector: str) -> None:
        self._run(delete(T.import_staging).where(T.import_staging.c.connector == connector))

    def stage(self, connector: str, objects: Sequence[ImportedObject]) -> None:
        if objects:
            self._run(
                insert(T.import_staging),
                [
                    {
                        "connector": connector,
                        "anchor": obj.anchor,
                        "dn": obj.dn,
                        "object_type": obj.object_type,
                        "attributes": dump_attributes(obj.attributes),
                    }
                    for obj in objects
                ],
            )

    def staged_count(self, connector: str) -> int:
        c = T.import_staging.c
        return int(self._read(select(func.count()).where(c.connector == connector)).scalar_one())

    def staged_with_current(
        self, connector: str, chunk: int
    ) -> Iterator[list[tuple[ImportedObject, CSObject | None]]]:
        """Staged objects in anchor order, a chunk at a time (keyset paging: bounded memory).
        Plain SQL text and tuples: this reads every object of a full import."""
        sql = _STAGED_WITH_CURRENT.format(*self._placeholders(3).split(", "))
        last = ""
        while True:
            self._flush()
            part = self._connection.exec_driver_sql(sql, (connector, last, chunk)).fetchall()
            if not part:
                return
            last = part[-1][0]
            current = {cs.cs_id: cs for cs in self.get_cs_many([r[4] for r in part if r[4]])}
            yield [
                (
                    ImportedObject(anchor, dn, object_type, _loaded(attributes)),
                    current.get(current_id) if current_id else None,
                )
                for anchor, dn, object_type, attributes, current_id in part
            ]

    def cs_ids_not_staged(self, connector: str) -> list[str]:
        s, c = T.import_staging.c, T.cs_objects.c
        staged = select(s.anchor).where(s.connector == connector)
        query = select(c.cs_id).where(
            c.connector == connector, c.anchor.is_not(None), c.anchor.not_in(staged)
        )
        return [row.cs_id for row in self._read(query)]

    # connector state and runs ------------------------------------------------------------

    def connector_state(self, connector: str) -> ConnectorState:
        row = self._read(
            select(T.connector_state).where(T.connector_state.c.connector == connector)
        ).first()
        if row is None:
            return ConnectorState(connector)
        return ConnectorState(
            connector,
            row.watermark,
            row.attribute_hash,
            row.rules_hash,
            bool(row.full_import_required),
            bool(row.full_sync_required),
        )

    def put_connector_state(self, state: ConnectorState) -> None:
        row = {
            "connector": state.connector,
            "watermark": state.watermark,
            "attribute_hash": state.attribute_hash,
            "rules_hash": state.rules_hash,
            "full_import_required": state.full_import_required,
            "full_sync_required": state.full_sync_required,
        }
        self._run(self.dialect.upsert(T.connector_state, row))

    def start_run(self, record: RunRecord) -> None:
        self._run(insert(T.runs).values(**_run_row(record)))

    def finish_run(self, record: RunRecord) -> None:
        self._run(update(T.runs).where(T.runs.c.run_id == record.run_id).values(**_run_row(record)))

    def record_errors(self, run_id: str, errors: Sequence[ObjectError]) -> None:
        if errors:
            self._run(
                insert(T.run_errors),
                [
                    {
                        "run_id": run_id,
                        "connector": e.connector,
                        "kind": e.kind,
                        "dn": e.dn,
                        "anchor": e.anchor,
                        "rule": e.rule,
                        "attribute": e.attribute,
                        "message": e.message,
                    }
                    for e in errors
                ],
            )

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._read(select(T.runs).order_by(T.runs.c.seq.desc()).limit(limit))
        return [
            RunRecord(
                r.run_id,
                r.connector,
                r.profile,
                r.status,
                r.started,
                r.ended,
                json.loads(r.counts),
                r.message,
            )
            for r in rows
        ]

    def run_errors(self, run_id: str) -> list[ObjectError]:
        rows = self._read(select(T.run_errors).where(T.run_errors.c.run_id == run_id))
        return [
            ObjectError(r.connector, r.dn, r.message, r.anchor, r.rule, r.attribute, r.kind)
            for r in rows
        ]


def _lookup_keys(keys: Iterable[str]) -> list[str]:
    """The keys worth looking up: one the value index cannot hold is never in it."""
    return [key for key in keys if len(key) <= _SURE_FIT or indexable(key)]


def _indexable_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The value index rows PostgreSQL's btree can hold. A longer value is left out of the
    index, with a warning: the object keeps it, only a join on that value cannot find it."""
    import structlog  # here: rarely needed, and the store's import stays light

    log = structlog.get_logger(__name__)
    kept: list[dict[str, Any]] = []
    for row in rows:
        if indexable(row["value_key"]) and indexable(row["value_key_ci"]):
            kept.append(row)
            continue
        log.warning(
            "store.value_not_indexed",
            space=row["space"],
            object_id=row["object_id"],
            attribute=row["attribute"],
            bytes=len(row["value_key"].encode("utf-8")),
            limit=INDEXED_BYTES,
            note="the value is kept on the object; a join on it cannot find it",
        )
    return kept


def _run_row(record: RunRecord) -> dict[str, Any]:
    return {
        "run_id": record.run_id,
        "connector": record.connector,
        "profile": record.profile,
        "status": record.status,
        "started": record.started,
        "ended": record.ended,
        "counts": json.dumps(dict(record.counts), sort_keys=True),
        "message": record.message,
    }


_ATTRIBUTE_TEXT: dict[int, tuple[object, str, bool]] = {}
"""id(attributes mapping read from the database) -> (the mapping, its JSON text, whether
it came from the connector space): an object written back with the very mapping it was
read with is not encoded again, nor (when it came from the connector space) re-indexed.
The entry keeps the mapping alive, so its id cannot be reused meanwhile.
Bounded: cleared when it grows past a few batches."""


def _cached_text(attributes: object) -> str | None:
    cached = _ATTRIBUTE_TEXT.get(id(attributes))
    if cached is not None and cached[0] is attributes:
        return cached[1]
    return None


def _indexed_already(attributes: object) -> bool:
    cached = _ATTRIBUTE_TEXT.get(id(attributes))
    return cached is not None and cached[0] is attributes and cached[2]


def _attributes_text(cs: CSObject) -> str:
    return _cached_text(cs.attributes) or dump_attributes(cs.attributes)


def _remember_text(attributes: object, text: str, *, indexed: bool) -> None:
    if len(_ATTRIBUTE_TEXT) > 4_000:
        _ATTRIBUTE_TEXT.clear()
    _ATTRIBUTE_TEXT[id(attributes)] = (attributes, text, indexed)


def _loaded(text: str) -> dict[str, Values]:
    attributes = load_attributes(text)
    _remember_text(attributes, text, indexed=False)
    return attributes


def _cs_row(cs: CSObject) -> dict[str, Any]:
    return {
        "cs_id": cs.cs_id,
        "connector": cs.connector,
        "anchor": cs.anchor,
        "dn": cs.dn,
        "object_type": cs.object_type,
        "attributes": _attributes_text(cs),
        "pending_import": cs.pending_import.value,
        "mv_id": cs.mv_id,
        "joined_by": cs.joined_by,
        "keeps_mv": cs.keeps_mv,
        "pending_export": dump_pending(cs.pending_export),
        "unconfirmed": dump_attributes(cs.unconfirmed) if cs.unconfirmed else None,
        "export_in_flight": cs.export_in_flight,
        "to_export": bool(cs.pending_export or cs.unconfirmed or cs.export_in_flight),
    }


_CS_COLUMNS = (
    "cs_id", "connector", "anchor", "dn", "object_type", "attributes", "pending_import",
    "mv_id", "joined_by", "keeps_mv", "pending_export", "unconfirmed", "export_in_flight",
)  # fmt: skip
_STAGED_WITH_CURRENT = (
    "SELECT s.anchor, s.dn, s.object_type, s.attributes, c.cs_id FROM import_staging s"
    " LEFT JOIN cs_objects c ON c.connector = s.connector AND c.anchor = s.anchor"
    " WHERE s.connector = {} AND s.anchor > {} ORDER BY s.anchor LIMIT {}"
)
_PUT_EXPORTED = (
    "UPDATE cs_objects SET anchor = {}, dn = {}, pending_export = {}, unconfirmed = {},"
    " export_in_flight = {}, to_export = {} WHERE cs_id = {}"
)
_MARK_IN_FLIGHT = "UPDATE cs_objects SET export_in_flight = {}, to_export = {} WHERE cs_id IN ({})"
_PUT_LINKS = (
    "UPDATE cs_objects SET mv_id = {}, joined_by = {}, keeps_mv = {}, pending_import = {}"
    " WHERE cs_id = {}"
)
_PENDING_IMPORT = {kind.value: kind for kind in PendingImport}
_CS_BY_IDS = f"SELECT {', '.join(_CS_COLUMNS)} FROM cs_objects WHERE cs_id IN ("


def _cs_values(row: Sequence[Any]) -> CSObject:
    """A CS object from the values of :data:`_CS_COLUMNS`, in that order."""
    (cs_id, connector, anchor, dn, object_type, attributes_text, pending_import, mv_id,
     joined_by, keeps_mv, pending_export, unconfirmed, export_in_flight) = row  # fmt: skip
    attributes = load_attributes(attributes_text)
    _remember_text(attributes, attributes_text, indexed=True)
    return CSObject(
        cs_id,
        connector,
        anchor,
        dn,
        object_type,
        attributes,
        _PENDING_IMPORT[pending_import],
        mv_id,
        joined_by,
        bool(keeps_mv),
        load_pending(pending_export),
        load_attributes(unconfirmed),
        bool(export_in_flight),
    )


def _cs(row: Row[Any]) -> CSObject:
    return _cs_values(tuple(row._mapping[column] for column in _CS_COLUMNS))
