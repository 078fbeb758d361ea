"""SqlStore: the engine's store on SQLAlchemy Core (SQLite or PostgreSQL), one module per
role (:mod:`hybridsync.core.storage`) over one shared session (:mod:`.session`)."""

from __future__ import annotations

from hybridsync.store.password_hash_sync import SqlPasswordSyncState
from hybridsync.store.sql.links import SqlLinks
from hybridsync.store.sql.metaverse import SqlMetaverse
from hybridsync.store.sql.runs import SqlRuns
from hybridsync.store.sql.staging import SqlImportStaging
from hybridsync.store.sql.watermarks import SqlWatermarks

__all__ = ["SqlStore"]


class SqlStore(
    SqlImportStaging,
    SqlMetaverse,
    SqlLinks,
    SqlWatermarks,
    SqlRuns,
    SqlPasswordSyncState,
):
    """Implements :class:`hybridsync.core.storage.Store` over one connection."""
