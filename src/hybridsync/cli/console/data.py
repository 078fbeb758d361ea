"""What the console's pages read from the store: paged, filtered in SQL.

No page reads a whole table: lists are a page (one row more tells whether a next page
exists), search stops at the page's last match, and the charts read the runs of the
last 30 days only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, and_, func, literal, null, or_, select

from hybridsync.config import Config
from hybridsync.core.values import Values
from hybridsync.store import SqlStore, tables
from hybridsync.store.audit import AuditEntry, audit_entries, record_audit
from hybridsync.store.codec import load_attributes, load_lineage, load_pending

__all__ = ["METAVERSE", "PAGE", "ConsoleData", "FoundObject", "Page"]

PAGE = 25
METAVERSE = "metaverse"
"""The Objects page's name for the metaverse beside the connector spaces."""
CHART_DAYS = 30
_MAX_TERM = 200
_MAPPED = 1 << 30

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class FoundObject:
    space: str
    object_id: str
    dn: str
    anchor: str | None
    object_type: str
    display_name: str | None
    upn: str | None


class ConsoleData:
    """One connection of the console's own, used by one request at a time."""

    def __init__(self, opener: Callable[[], SqlStore]) -> None:
        self._opener = opener
        self._store: SqlStore | None = None
        self._lock = threading.Lock()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with self._lock:
            if self._store is None:
                self._store = self._opener()
                if self._store.dialect.name == "sqlite":
                    # Searches read whole tables: mapped, SQLite reads their pages where
                    # the OS caches them instead of copying each into its own cache.
                    self._store.connection.exec_driver_sql(f"PRAGMA mmap_size={_MAPPED}")
            yield self._store.connection

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # --- runs ----------------------------------------------------------------------------

    def runs(self, page: int, connector: str = "", status: str = "") -> Page:
        runs = tables.runs
        query = select(runs).order_by(runs.c.seq.desc())
        if connector:
            query = query.where(runs.c.connector == connector)
        if status == "stopped":
            query = query.where(runs.c.status.like("stopped%"))
        elif status:
            query = query.where(runs.c.status == status)
        return self._page(query, page, _run_row)

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self._connection() as connection:
            row = connection.execute(
                select(tables.runs).where(tables.runs.c.run_id == run_id)
            ).first()
        return None if row is None else _run_row(row)

    def run_errors(self, run_id: str, page: int, term: str = "") -> Page:
        errors = tables.run_errors
        query = select(errors).where(errors.c.run_id == run_id)
        if term:
            contains = self._contains(term)
            query = query.where(
                or_(
                    contains(errors.c.dn),
                    contains(errors.c.message),
                    contains(errors.c.attribute),
                    contains(errors.c.rule),
                )
            )
        return self._page(query, page, lambda row: dict(row._mapping))

    def recent_runs(self, days: int = CHART_DAYS) -> list[dict[str, Any]]:
        """The runs started in the last ``days`` days, oldest first (for the charts)."""
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        runs, errors = tables.runs, tables.run_errors
        query = select(runs).where(runs.c.started >= since).order_by(runs.c.seq)
        failed = (
            select(errors.c.run_id, func.count().label("errors"))
            .join(runs, runs.c.run_id == errors.c.run_id)
            .where(runs.c.started >= since)
            .group_by(errors.c.run_id)
        )
        with self._connection() as connection:
            found = [_run_row(row) for row in connection.execute(query)]
            counted = {row.run_id: row.errors for row in connection.execute(failed)}
        for run in found:
            run["errors"] = counted.get(run["run_id"], 0)
        return found

    # --- objects -------------------------------------------------------------------------

    def search(self, term: str, page: int, space: str = "") -> Page:
        """Objects whose DN, anchor or an attribute value (UPN, displayName...) contains
        ``term`` (case-insensitive): in one connector space, in every one (no ``space``),
        or in the metaverse. (Each found object links to its metaverse object: searching
        both at once would read the store's two largest tables for every search.)"""
        term = term.strip()[:_MAX_TERM]
        if not term:
            return Page([], page, False)
        contains = self._contains(term)
        cs, mv = tables.cs_objects, tables.mv_objects
        in_cs = select(
            cs.c.connector.label("space"), cs.c.cs_id.label("object_id"), cs.c.dn,
            cs.c.anchor, cs.c.object_type, cs.c.attributes,
        ).where(or_(cs.c.anchor == term, *self._cs_matches(term, contains)))  # fmt: skip
        in_mv = select(
            literal(METAVERSE).label("space"), mv.c.mv_id.label("object_id"),
            literal("").label("dn"), null().label("anchor"), mv.c.object_type, mv.c.attributes,
        ).where(or_(mv.c.mv_id == term, contains(mv.c.attributes)))  # fmt: skip
        if space == METAVERSE:
            query: Any = in_mv
        elif space:
            query = in_cs.where(cs.c.connector == space)
        else:
            query = in_cs
        return self._page(query, page, _found)

    def cs_object(self, connector: str, cs_id: str) -> dict[str, Any] | None:
        cs = tables.cs_objects
        with self._connection() as connection:
            row = connection.execute(
                select(cs).where(and_(cs.c.cs_id == cs_id, cs.c.connector == connector))
            ).first()
        if row is None:
            return None
        pending = load_pending(row.pending_export)
        return {
            "connector": row.connector,
            "cs_id": row.cs_id,
            "dn": row.dn,
            "anchor": row.anchor,
            "object_type": row.object_type,
            "attributes": _shown(load_attributes(row.attributes)),
            "mv_id": row.mv_id,
            "joined_by": row.joined_by,
            "pending_import": row.pending_import,
            "pending_export": None
            if pending is None
            else {
                "kind": pending.kind.value,
                "changes": {name: _values(v) for name, v in pending.changes.items()},
            },
        }

    def mv_object(self, mv_id: str) -> dict[str, Any] | None:
        mv, cs = tables.mv_objects, tables.cs_objects
        with self._connection() as connection:
            row = connection.execute(select(mv).where(mv.c.mv_id == mv_id)).first()
            if row is None:
                return None
            connected = connection.execute(
                select(cs.c.connector, cs.c.cs_id, cs.c.dn, cs.c.joined_by).where(
                    cs.c.mv_id == mv_id
                )
            ).all()
        return {
            "mv_id": row.mv_id,
            "object_type": row.object_type,
            "attributes": _shown(load_attributes(row.attributes)),
            "lineage": load_lineage(row.lineage),
            "connected": [dict(item._mapping) for item in connected],
        }

    def connector_state(self, connector: str) -> dict[str, Any]:
        """A connector's watermark and its last import and export runs."""
        runs, state = tables.runs, tables.connector_state
        latest = select(runs).where(runs.c.connector == connector).order_by(runs.c.seq.desc())
        with self._connection() as connection:
            watermark = connection.execute(
                select(state.c.watermark).where(state.c.connector == connector)
            ).scalar()
            imported = connection.execute(
                latest.where(runs.c.profile.like("%import")).limit(1)
            ).first()
            exported = connection.execute(latest.where(runs.c.profile == "export").limit(1)).first()
        return {
            "watermark": watermark,
            "last_import": None if imported is None else _run_row(imported),
            "last_export": None if exported is None else _run_row(exported),
        }

    # --- audit ---------------------------------------------------------------------------

    def audit(self, page: int) -> Page:
        with self._connection() as connection:
            rows = audit_entries(connection, PAGE + 1, (page - 1) * PAGE)
        return Page(rows[:PAGE], page, len(rows) > PAGE)

    def record(
        self, actor: str, action: str, target: str, outcome: str, plan_hash: str | None = None
    ) -> AuditEntry:
        with self._connection() as connection:
            return record_audit(
                connection,
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                plan_hash=plan_hash,
            )

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _cs_matches(term: str, contains: Callable[[Any], Any]) -> list[Any]:
        """A term with ``=`` is (part of) a DN: only the DNs are read, not every value."""
        cs = tables.cs_objects
        if "=" in term:
            return [contains(cs.c.dn)]
        return [contains(cs.c.dn), contains(cs.c.attributes)]

    def _contains(self, term: str) -> Callable[[Any], Any]:
        """A condition: the column holds ``term``, in any case, its wildcards literal.

        SQLite's LIKE ignores (ASCII) case itself; ``ilike`` would lower-case every row
        first, which doubles the time a search reads a large table in.
        """
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        with self._connection():
            sqlite = self._store is not None and self._store.dialect.name == "sqlite"
        if sqlite:
            return lambda column: column.like(pattern, escape="\\")
        return lambda column: column.ilike(pattern, escape="\\")

    def _page(self, query: Any, page: int, shape: Callable[[Any], T]) -> Page:
        query = query.limit(PAGE + 1).offset((page - 1) * PAGE)
        with self._connection() as connection:
            rows = [shape(row) for row in connection.execute(query)]
        return Page(rows[:PAGE], page, len(rows) > PAGE)


def _run_row(row: Any) -> dict[str, Any]:
    counts = orjson.loads(row.counts) if row.counts else {}
    return {
        "run_id": row.run_id,
        "connector": row.connector,
        "profile": row.profile,
        "status": row.status,
        "started": row.started,
        "ended": row.ended,
        "counts": counts,
        "message": row.message,
        "seconds": _seconds(row.started, row.ended),
    }


def _seconds(started: str, ended: str | None) -> float | None:
    if not ended:
        return None
    try:
        return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    except ValueError:
        return None


def _first(attributes: dict[str, Values], name: str) -> str | None:
    values = attributes.get(name) or ()
    return str(values[0]) if values else None


def _found(row: Any) -> FoundObject:
    attributes = dict(load_attributes(row.attributes))
    return FoundObject(
        row.space,
        row.object_id,
        row.dn,
        row.anchor,
        row.object_type,
        _first(attributes, "displayName"),
        _first(attributes, "userPrincipalName"),
    )


def _values(values: Values) -> list[str]:
    return [value.hex() if isinstance(value, bytes) else str(value) for value in values]


def _shown(attributes: Any) -> dict[str, list[str]]:
    return {name: _values(values) for name, values in sorted(dict(attributes).items())}


def open_reader(config: Config) -> ConsoleData:
    from hybridsync.wiring.build import open_store

    return ConsoleData(lambda: open_store(config))
