"""Persistence of connector spaces, metaverse, watermarks and runs."""

from __future__ import annotations

import importlib
import typing

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


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = ["MemoryStore", "SqlStore", "open_postgresql", "open_sqlite"]
