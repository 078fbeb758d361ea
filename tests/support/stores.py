"""The store under test, on any backend: memory, a SQLite file or a PostgreSQL database.

``store_target`` (registered in ``tests/conftest.py``) is parametrized over the SQL
backends: a test using it (directly or through a fixture) runs once on SQLite and once
on PostgreSQL (skipped locally without PostgreSQL, a failure when ``CI=true``). The
engine unit tests override it with :func:`engine_store_target` (memory unless
``HYBRIDSYNC_TEST_STORES`` names others); the store contract runs on all three.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hybridsync.config import StoreConfig
from hybridsync.core.storage import Store
from hybridsync.store import MemoryStore, SqlStore, open_postgresql, open_sqlite

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer

__all__ = [
    "ALL_BACKENDS",
    "BACKENDS",
    "StoreTarget",
    "engine_backends",
    "postgres_target",
    "sqlite_target",
    "store_target",
    "target_of",
]

BACKENDS = ("sqlite", "postgresql")
"""The SQL backends: every store test that is about SQL runs on both."""
ALL_BACKENDS = ("memory", *BACKENDS)
"""Every store: the store contract runs on each."""


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """A store's configuration (``config``, the value of ``store``) and how to open it."""

    backend: str
    config: str | dict[str, str]
    memory: MemoryStore | None = field(default=None, compare=False)
    """The memory backend's one store: every ``open_store`` returns it, with what it
    holds (``config`` is then unused: there is no file or database to name)."""

    def open(self) -> SqlStore:
        """The SQL store (a new connection to it): for tests about SQL itself."""
        assert self.memory is None, "a memory store is opened with open_store()"
        settings = StoreConfig.model_validate(self.config)
        if settings.url is None:
            assert settings.path is not None
            return open_sqlite(settings.path)
        return open_postgresql(settings.url, password=settings.password(), ca_file=settings.ca_file)

    def open_store(self) -> Store:
        """The store, whatever its backend (a new connection to a SQL one)."""
        return self.memory if self.memory is not None else self.open()

    def toml(self) -> str:
        """The ``store = ...`` line of a configuration file (an inline table for a server)."""
        assert self.memory is None, "a memory store is not reachable from a configuration file"
        if isinstance(self.config, str):
            return f"store = {json.dumps(self.config)}\n"
        items = ", ".join(f"{key} = {json.dumps(value)}" for key, value in self.config.items())
        return f"store = {{ {items} }}\n"


def memory_target() -> StoreTarget:
    return StoreTarget("memory", ":memory:", MemoryStore())


def sqlite_target(directory: Path, name: str = "state.db") -> StoreTarget:
    return StoreTarget("sqlite", str(directory / name))


def postgres_target(server: PostgresServer, database: str, directory: Path) -> StoreTarget:
    """A database's store configuration; the password goes in a file in ``directory``."""
    secret = directory / "store-password"
    if not secret.exists():
        secret.touch(mode=0o600)
        secret.write_text(server.password.get_secret_value(), encoding="utf-8")
    config = {
        "url": server.url_of(database),
        "password_file": str(secret),
        "ca_file": str(server.ca_file),
    }
    return StoreTarget("postgresql", config)


@contextmanager
def target_of(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreTarget]:
    """An empty store on ``backend``; a PostgreSQL database is dropped afterwards."""
    if backend == "memory":
        yield memory_target()
        return
    if backend == "sqlite":
        yield sqlite_target(tmp_path)
        return
    server: Any = request.getfixturevalue("postgres_server")
    database = server.create_database()
    try:
        yield postgres_target(server, database, tmp_path)
    finally:
        server.drop_database(database)


def engine_backends() -> tuple[str, ...]:
    """The stores the engine unit tests run on: ``HYBRIDSYNC_TEST_STORES`` (a comma list
    of memory, sqlite, postgresql), else memory only (the integration suite runs the
    engine on SQLite and PostgreSQL)."""
    wanted = os.environ.get("HYBRIDSYNC_TEST_STORES", "memory")
    backends = tuple(name.strip() for name in wanted.split(",") if name.strip())
    unknown = sorted(set(backends) - set(ALL_BACKENDS))
    if unknown or not backends:
        raise ValueError(f"HYBRIDSYNC_TEST_STORES: unknown stores {unknown}; use {ALL_BACKENDS}")
    return backends


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    """An empty store for this test, on each SQL backend in turn."""
    with target_of(request.param, request, tmp_path) as target:
        yield target
