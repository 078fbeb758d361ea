"""PostgreSQL engine setup: psycopg 3, TLS verified by default, the password kept apart.

The URL never holds the password (it comes from an environment variable or a file and
is added here, where SQLAlchemy keeps it out of every ``repr``). Without ``sslmode`` in
the URL the connection requires TLS and checks the server's certificate and name
(``verify-full``) against ``ca_file``, else the system's trust store.
"""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import URL, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hybridsync.errors import StoreError
from hybridsync.store.failures import translate_errors
from hybridsync.store.migrations import migrate_store
from hybridsync.store.sql import SqlStore

__all__ = ["SyncLockHeld", "database_sync_lock", "open_postgresql", "postgresql_url"]

SYNC_LOCK_KEY = zlib.crc32(b"hybridsync sync")
"""The advisory lock one sync at a time holds on a PostgreSQL store."""

CONNECT_TIMEOUT_SECONDS = 10


def postgresql_url(
    url: str, *, password: SecretStr | None = None, ca_file: Path | None = None
) -> URL:
    """The engine URL: psycopg as driver, the password added, TLS verified unless told."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"the store URL is not a database URL: {exc}") from None
    if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() not in {
        "psycopg",
        "psycopg2",  # the default driver name when the URL gives none
    }:
        raise StoreError(
            f"the store URL must start with postgresql+psycopg:// (got {parsed.drivername}://)"
        )
    if parsed.password is not None:
        raise StoreError(
            "the store URL holds a password: give it with password_env or password_file"
        )
    query = dict(parsed.query)
    query.setdefault("sslmode", "verify-full")
    if ca_file is not None:
        query["sslrootcert"] = str(ca_file)
    elif query["sslmode"] == "verify-full":
        query.setdefault("sslrootcert", "system")
    secret = password.get_secret_value() if password is not None else None
    return parsed.set(drivername="postgresql+psycopg", password=secret, query=query)


def open_postgresql(
    url: str, *, password: SecretStr | None = None, ca_file: Path | None = None
) -> SqlStore:
    """Connect to, and migrate, the store database at ``url``."""
    engine_url = postgresql_url(url, password=password, ca_file=ca_file)
    where = engine_url.render_as_string(hide_password=True)
    # AUTOCOMMIT hands transaction control to the store: it issues BEGIN and COMMIT
    # itself, so a batch is exactly one transaction, as on SQLite.
    try:
        engine = create_engine(
            engine_url,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "hybridsync",
            },
        )
    except ImportError as exc:  # the optional extra is missing
        raise StoreError(
            "a PostgreSQL store needs the postgres extra: pip install 'hybridsync[postgres]'"
        ) from exc
    event.listen(engine, "connect", _register_text_dumper)
    try:
        store = SqlStore(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot connect to the store {where}: {_reason(exc)}") from None
    try:
        migrate_store(store)
    except SQLAlchemyError as exc:
        store.close()
        raise StoreError(f"cannot migrate the store {where}: {_reason(exc)}") from None
    except BaseException:
        store.close()
        raise
    translate_errors(engine, engine_url.set(query={}).render_as_string(hide_password=True))
    return store


@cache
def _nul_free_str_dumper() -> type:
    """PostgreSQL text cannot hold NUL: U+FFFD stands in for it, in writes and lookups alike.

    SQLite keeps a NUL; here one in a DN, an anchor or a join key would fail the whole
    batch. Attribute values are JSON text, where NUL is already escaped and kept.
    (Built on first use: psycopg is an optional extra.)
    """
    from psycopg.types.string import StrDumperUnknown

    class NulFreeStrDumper(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)

    return NulFreeStrDumper


def _register_text_dumper(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.adapters.register_dumper(str, _nul_free_str_dumper())


def _reason(exc: SQLAlchemyError) -> str:
    # The driver's own message, without SQLAlchemy's statement and parameter echo.
    return str(getattr(exc, "orig", None) or exc).strip()


class SyncLockHeld(StoreError):
    """Another session holds the store's sync lock."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(f"the store's sync lock is held by {holder}")


@contextmanager
def database_sync_lock(store: SqlStore, purpose: str) -> Iterator[None]:
    """Hold the database's sync lock (a session advisory lock) for the block.

    The lock belongs to the store's connection: a process that dies, or loses its
    connection, releases it at once, so there is never a stale lock to clean up.
    """
    connection = store.connection
    # Who holds it, for the message the others print (PostgreSQL keeps 63 characters).
    name = f"hybridsync {purpose}, pid {os.getpid()} on {socket.gethostname()}"[:63]
    connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
    taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": SYNC_LOCK_KEY})
    if not taken.scalar_one():
        raise SyncLockHeld(_holder(store))
    try:
        yield
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SYNC_LOCK_KEY})


def _holder(store: SqlStore) -> str:
    row = store.connection.execute(
        text(
            "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objid = :key AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"key": SYNC_LOCK_KEY},
    ).first()
    if row is None:
        return "another session (gone meanwhile: try again)"
    client = row.client_addr or "a local socket"
    since = row.backend_start.isoformat(timespec="seconds")
    return f"{row.application_name or 'unknown'} from {client}, connected since {since}"
