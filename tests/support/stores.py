"""The store under test, on either backend: a SQLite file or a PostgreSQL database.

``store_target`` (registered in ``tests/conftest.py``) is parametrized over both
backends: a test using it (directly or through a fixture such as the engine tests'
``world``) runs once on SQLite and once on PostgreSQL (skipped locally without
PostgreSQL, a failure when ``CI=true``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hybridsync.config import StoreConfig
from hybridsync.store import SqlStore, open_postgresql, open_sqlite

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer

__all__ = ["BACKENDS", "StoreTarget", "postgres_target", "sqlite_target", "store_target"]

BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """A store's configuration (``config``, the value of ``store``) and how to open it."""

    backend: str
    config: str | dict[str, str]

    def open(self) -> SqlStore:
        settings = StoreConfig.model_validate(self.config)
        if settings.url is None:
            assert settings.path is not None
            return open_sqlite(settings.path)
        return open_postgresql(settings.url, password=settings.password(), ca_file=settings.ca_file)

    def toml(self) -> str:
        """The ``store = ...`` line of a configuration file (an inline table for a server)."""
        if isinstance(self.config, str):
            return f"store = {json.dumps(self.config)}\n"
        items = ", ".join(f"{key} = {json.dumps(value)}" for key, value in self.config.items())
        return f"store = {{ {items} }}\n"


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


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    """An empty store for this test, on each backend in turn."""
    if request.param == "sqlite":
        yield sqlite_target(tmp_path)
        return
    server: Any = request.getfixturevalue("postgres_server")
    database = server.create_database()
    try:
        yield postgres_target(server, database, tmp_path)
    finally:
        server.drop_database(database)
