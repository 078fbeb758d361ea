"""Persistence of connector spaces, metaverse, watermarks and runs."""

from __future__ import annotations

from hybridsync.store.memory import MemoryStore
from hybridsync.store.postgres import open_postgresql
from hybridsync.store.sql import SqlStore
from hybridsync.store.sqlite import open_sqlite

__all__ = ["MemoryStore", "SqlStore", "open_postgresql", "open_sqlite"]
