"""SQLite engine setup: WAL, foreign keys, a busy timeout, explicit transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from hybridsync.errors import StoreError
from hybridsync.store.failures import translate_errors
from hybridsync.store.migrations import migrate_store
from hybridsync.store.sql import SqlStore


def open_sqlite(path: Path | str) -> SqlStore:
    """Open (creating if needed) and migrate the store at ``path`` (``:memory:`` works)."""
    url = "sqlite://" if str(path) == ":memory:" else f"sqlite:///{path}"
    # AUTOCOMMIT hands transaction control to us: the store issues BEGIN IMMEDIATE
    # itself, so a batch is one transaction and writers never deadlock on upgrade.
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A checkpoint per 16,384 WAL pages (64 MiB), not per 1,000: a sync batch dirties
        # about that many, and each checkpoint copies them to the database and syncs it.
        for pragma in (
            "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000",
            "cache_size=-65536", "temp_store=MEMORY", "wal_autocheckpoint=16384",
        ):  # fmt: skip
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    try:
        store = SqlStore(engine)
        migrate_store(store)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from exc
    translate_errors(engine, str(path))
    return store
