"""Named schema migrations, each applied and recorded in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from hybridsync.errors import MigrationError
from hybridsync.store import tables
from hybridsync.store.sql import SqlStore

Migration = Callable[[Connection], None]


def _initial(connection: Connection) -> None:
    tables.metadata.create_all(connection, checkfirst=True)


def _unlinked_index(connection: Connection) -> None:
    tables.CS_UNLINKED.create(connection, checkfirst=True)


def _password_sync_state(connection: Connection) -> None:
    # Stores from before this migration may hold the table already: it used to be
    # created on first use, with the same columns.
    tables.password_sync_state.create(connection, checkfirst=True)


def _audit_log(connection: Connection) -> None:
    tables.audit_log.create(connection, checkfirst=True)


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("0001_initial", _initial),
    ("0002_cs_connector_mv", _unlinked_index),
    ("0003_password_sync_state", _password_sync_state),
    ("0004_audit_log", _audit_log),
)


def applied(connection: Connection) -> list[str]:
    tables.schema_migrations.create(connection, checkfirst=True)
    rows = connection.execute(select(tables.schema_migrations.c.name))
    return [row.name for row in rows]


def migrate(connection: Connection) -> list[str]:
    """Apply the migrations this database lacks; return their names."""
    done = set(applied(connection))
    known = {name for name, _ in MIGRATIONS}
    unknown = done - known
    if unknown:
        raise MigrationError(
            f"the database has migrations this version does not know: {sorted(unknown)}; "
            "use a newer hybridsync"
        )
    new: list[str] = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        step(connection)
        connection.execute(
            tables.schema_migrations.insert().values(
                name=name, applied_at=datetime.now(UTC).isoformat()
            )
        )
        new.append(name)
    return new


def migrate_store(store: SqlStore) -> list[str]:
    """Migrate in one transaction, serialized with any other process doing the same."""
    with store.transaction():
        store.dialect.lock_schema(store.connection)
        return migrate(store.connection)
