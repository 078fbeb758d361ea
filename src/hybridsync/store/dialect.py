"""The few things SQLite and PostgreSQL do differently, behind one small seam.

Everything else in the store is portable SQLAlchemy Core. A dialect says how a write
transaction begins, how an upsert is spelled and how schema changes are serialized
between processes opening the same database at once.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.dialects import postgresql, sqlite

from hybridsync.errors import StoreError

__all__ = ["Dialect", "TableGrowth", "dialect_of"]

SCHEMA_LOCK_KEY = zlib.crc32(b"hybridsync schema")
"""PostgreSQL advisory lock key held while migrating (a 32-bit constant of our own)."""


def _no_schema_lock(_connection: Connection) -> None:
    """SQLite: ``BEGIN IMMEDIATE`` already makes the migrating transaction the only writer."""


def _pg_schema_lock(connection: Connection) -> None:
    # Two processes migrating a fresh database would both see a table missing and both
    # create it; the transaction-scoped lock makes the second wait, then see it done.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the store's databases."""

    name: str
    begin: str
    """The statement opening a write transaction (the store controls transactions itself)."""
    insert: Callable[[Table], Any]
    """The dialect's ``insert`` construct, the one with ``on_conflict_do_update``."""
    lock_schema: Callable[[Connection], None]
    """Called first in the migrating transaction."""
    analyzes_growth: bool = False
    """Refresh the planner's statistics as tables grow (see :class:`TableGrowth`)."""

    def upsert(self, table: Table, row: Mapping[str, Any] | None = None) -> Any:
        """Insert, or update every non-key column of the row with the same primary key.

        Without ``row`` the statement takes its values at execution (many rows at once).
        """
        statement = self.insert(table)
        if row is not None:
            statement = statement.values(dict(row))
        keys = [column.name for column in table.primary_key.columns]
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={
                column.name: statement.excluded[column.name]
                for column in table.columns
                if column.name not in keys
            },
        )


SQLITE = Dialect("sqlite", "BEGIN IMMEDIATE", sqlite.insert, _no_schema_lock)
# READ COMMITTED is enough: the sync lock admits one writer per store at a time, and a
# batch's own reads see its own writes.
POSTGRESQL = Dialect("postgresql", "BEGIN", postgresql.insert, _pg_schema_lock, True)

_DIALECTS = {dialect.name: dialect for dialect in (SQLITE, POSTGRESQL)}


class TableGrowth:
    """Runs ``ANALYZE`` on a table each time the rows written to it double.

    PostgreSQL plans from statistics that autovacuum refreshes about once a minute: an
    initial import into a fresh database would be planned as if its tables were empty
    (sequential scans for the keyed lookups of staging and join candidates, seconds per
    page). Analyzing after 1,000 rows, then 2,000, 4,000... keeps plans on the indexes
    for a few ANALYZE per run (each samples at most 30,000 rows). SQLite's planner
    prefers the indexes without statistics and needs none of this.
    """

    FIRST = 1_000

    def __init__(self) -> None:
        self._written: dict[str, int] = {}
        self._analyzed_at: dict[str, int] = {}

    def wrote(self, connection: Connection, statement: Any, rows: int) -> None:
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        if not isinstance(name, str):
            return
        written = self._written[name] = self._written.get(name, 0) + rows
        if written >= max(self.FIRST, 2 * self._analyzed_at.get(name, 0)):
            connection.exec_driver_sql(f'ANALYZE "{name}"')  # a table name of our own
            self._analyzed_at[name] = written


def dialect_of(engine: Engine) -> Dialect:
    try:
        return _DIALECTS[engine.dialect.name]
    except KeyError:
        raise StoreError(
            f"unsupported store database {engine.dialect.name!r}: use SQLite or PostgreSQL"
        ) from None
