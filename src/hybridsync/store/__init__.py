"""Persistence of connector spaces, metaverse, watermarks and runs."""

from __future__ import annotations

import typing

from hybridsync.lazy import lazy_getattr

if typing.TYPE_CHECKING:
    from hybridsync.store.memory import MemoryStore
    from hybridsync.store.postgres import open_postgresql
    from hybridsync.store.sql import SqlStore
    from hybridsync.store.sqlite import open_sqlite

_HOMES = {
    "MemoryStore": "memory",
    "open_postgresql": "postgres",
    "SqlStore": "sql",
    "open_sqlite": "sqlite",
}
"""Each name the package exports and its module, imported on first use: a module that
reads the store with the standard library's sqlite3 (``hybridsync status``) must not
load SQLAlchemy."""


__getattr__ = lazy_getattr(__name__, _HOMES)


__all__ = ["MemoryStore", "SqlStore", "open_postgresql", "open_sqlite"]
