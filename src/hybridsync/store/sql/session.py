"""The SQL store's connection, transactions and waiting writes, shared by every role.

Writes of whole objects wait here until the transaction commits or something is read,
so a batch becomes a few executemany statements instead of one per object. The value
index is written with the objects it indexes, so it lives here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import Connection, Engine, insert

from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.storage import MV_SPACE
from hybridsync.core.values import Values
from hybridsync.errors import StoreError
from hybridsync.store import tables
from hybridsync.store.bulk import BulkWriter
from hybridsync.store.codec import dump_attributes, dump_lineage
from hybridsync.store.dialect import Dialect, TableGrowth, dialect_of
from hybridsync.store.sql.rows import PUT_LINKS, cs_row, indexed_already
from hybridsync.store.transactions import NestedTransactions
from hybridsync.store.value_index import index_rows

CHUNK = 500
"""Ids per ``IN (...)`` list."""
_FLUSH_AT = 5_000
"""Waiting writes that are flushed even inside a transaction."""

T = tables


class SqlSession(NestedTransactions):
    """One connection, its transaction depth and the writes waiting for it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection = engine.connect()
        self._bulk = BulkWriter(self._connection)
        self._depth = 0
        self._indexed: dict[str, frozenset[str]] = {}
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

    def _begin_work(self) -> None:
        self._revive()
        self._connection.exec_driver_sql(self.dialect.begin)

    def _finish_work(self) -> None:
        self._flush()

    def _undo_work(self) -> None:
        self._cs_pending.clear()
        self._links_pending.clear()
        self._mv_pending.clear()
        self._rollback()

    def _commit_work(self) -> None:
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
            rows = [cs_row(cs) for cs in kept]
        by_space: dict[str, list[tuple[str, Mapping[str, Values]]]] = {}
        for cs in kept:
            if self._indexed.get(cs.connector) and not indexed_already(cs.attributes):
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
        sql = PUT_LINKS.format(*self._placeholders(5).split(", "))
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
            if self._indexed.get(MV_SPACE):
                self._reindex(MV_SPACE, [(mv.mv_id, mv.attributes) for mv in kept])

    def _delete_ids(self, table: Any, column: Any, ids: list[str]) -> None:
        self._delete_where_in(table.name, column.name, ids)
        self._delete_where_in(T.value_index.name, T.value_index.c.object_id.name, ids)

    def _delete_where_in(self, table: str, column: str, ids: Sequence[str]) -> None:
        """``DELETE FROM table WHERE column IN (ids)`` a chunk at a time, as plain SQL
        (nothing compiled per batch); ``table`` and ``column`` are the schema's names."""
        for start in range(0, len(ids), CHUNK):
            part = tuple(ids[start : start + CHUNK])
            sql = f"DELETE FROM {table} WHERE {column} IN ({self._placeholders(len(part))})"
            self._connection.exec_driver_sql(sql, part)

    def _reindex(self, space: str, items: Sequence[tuple[str, Mapping[str, Values]]]) -> None:
        ids = [object_id for object_id, _ in items]
        self._delete_where_in(T.value_index.name, T.value_index.c.object_id.name, ids)
        rows = index_rows(space, items, self._indexed.get(space, frozenset()))
        if rows:
            self._run(insert(T.value_index), rows)
