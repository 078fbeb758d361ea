"""What ``hybridsync status`` shows of the store: counts and the latest runs, in plain SQL.

Read through any connection that runs SQL (the standard library's ``sqlite3`` for a
SQLite file, so that a status loads no SQLAlchemy; the SQL store's own connection
otherwise), with counts computed by the database: no object is read whole. The SQL is
portable between SQLite and PostgreSQL, with ``?`` for each parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hybridsync.core.ports import ExportKind

Query = Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]]
"""Runs one statement (``?`` marks each parameter) and returns its rows."""
SYNC_PROFILES = ("full-sync", "delta-sync")
_PENDING_IMPORTS = ("add", "update", "delete")
_DELETE = f'{{"kind":"{ExportKind.DELETE.value}"%'
"""A pending export of a delete, as the store writes it (JSON without spaces)."""


@dataclass(frozen=True, slots=True)
class LastRun:
    run_id: str
    connector: str
    profile: str
    status: str
    started: str
    ended: str | None


@dataclass(frozen=True, slots=True)
class RecordedState:
    """What the last runs recorded of a connector (a connector never run: the default)."""

    watermark: str | None = None
    attribute_hash: str = ""
    rules_hash: str = ""
    full_import_required: bool = False
    full_sync_required: bool = False


@dataclass(frozen=True, slots=True)
class ConnectorCounts:
    objects: int
    objects_in_error: int
    pending_imports: int
    pending_exports: int
    pending_deletes: int
    awaiting_confirmation: int
    """Values an export sent, waiting for an import to read them back."""


class StoreSummary:
    """The status queries, each run by ``query``."""

    def __init__(self, query: Query) -> None:
        self._rows = query

    def _count(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return int(self._rows(sql, parameters)[0][0])

    def metaverse_objects(self) -> int:
        return self._count("SELECT count(*) FROM mv_objects")

    def last_runs(self, limit: int) -> list[LastRun]:
        """The latest ``limit`` runs, newest first."""
        sql = (
            "SELECT run_id, connector, profile, status, started, ended FROM runs"
            " ORDER BY seq DESC LIMIT ?"
        )
        return [LastRun(*row) for row in self._rows(sql, (limit,))]

    def recorded_state(self, connector: str) -> RecordedState:
        sql = (
            "SELECT watermark, attribute_hash, rules_hash, full_import_required,"
            " full_sync_required FROM connector_state WHERE connector = ?"
        )
        rows = self._rows(sql, (connector,))
        if not rows:
            return RecordedState()
        watermark, attributes, rules, full_import, full_sync = rows[0]
        return RecordedState(watermark, attributes, rules, bool(full_import), bool(full_sync))

    def connector_counts(self, connector: str, last_runs: list[LastRun]) -> ConnectorCounts:
        """The connector's counts; an object its last sync failed on is in error, not a
        pending import."""
        in_error = self._error_keys(connector, last_runs)
        marks = ", ".join("?" * len(_PENDING_IMPORTS))
        pending = self._rows(
            "SELECT dn, anchor FROM cs_objects"
            f" WHERE connector = ? AND pending_import IN ({marks})",
            (connector, *_PENDING_IMPORTS),
        )
        to_export = "FROM cs_objects WHERE connector = ? AND to_export = ?"
        exports = self._count(f"SELECT count(*) {to_export}", (connector, True))
        awaiting = self._count(
            f"SELECT count(*) {to_export} AND (pending_export IS NULL OR pending_export = '')"
            " AND export_in_flight = ?",
            (connector, True, False),
        )
        return ConnectorCounts(
            objects=self._count(
                "SELECT count(*) FROM cs_objects WHERE connector = ?", (connector,)
            ),
            objects_in_error=len({key for key in in_error if key.startswith("dn:")}),
            pending_imports=sum(
                1 for dn, anchor in pending if f"dn:{dn}" not in in_error and anchor not in in_error
            ),
            pending_exports=exports - awaiting,
            pending_deletes=self._count(
                f"SELECT count(*) {to_export} AND pending_export LIKE ?", (connector, True, _DELETE)
            ),
            awaiting_confirmation=awaiting,
        )

    def _error_keys(self, connector: str, last_runs: list[LastRun]) -> set[str]:
        """The DNs (``dn:…``) and anchors of the objects the connector's last sync failed on."""
        last_sync = next(
            (r for r in last_runs if r.connector == connector and r.profile in SYNC_PROFILES),
            None,
        )
        if last_sync is None:
            return set()
        sql = "SELECT dn, anchor FROM run_errors WHERE run_id = ?"
        keys: set[str] = set()
        for dn, anchor in self._rows(sql, (last_sync.run_id,)):
            keys.add(f"dn:{dn}")
            if anchor:
                keys.add(anchor)
        return keys


__all__ = ["ConnectorCounts", "LastRun", "RecordedState", "StoreSummary"]
