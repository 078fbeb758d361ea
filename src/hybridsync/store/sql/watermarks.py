"""Per-connector state in SQL: watermark, hashes, the full runs required."""

from __future__ import annotations

from sqlalchemy import select

from hybridsync.core.storage import ConnectorState
from hybridsync.store import tables
from hybridsync.store.sql.session import SqlSession

T = tables


class SqlWatermarks(SqlSession):
    """Implements :class:`hybridsync.core.storage.WatermarkStore`."""

    def connector_state(self, connector: str) -> ConnectorState:
        row = self._read(
            select(T.connector_state).where(T.connector_state.c.connector == connector)
        ).first()
        if row is None:
            return ConnectorState(connector)
        return ConnectorState(
            connector,
            row.watermark,
            row.attribute_hash,
            row.rules_hash,
            bool(row.full_import_required),
            bool(row.full_sync_required),
        )

    def put_connector_state(self, state: ConnectorState) -> None:
        row = {
            "connector": state.connector,
            "watermark": state.watermark,
            "attribute_hash": state.attribute_hash,
            "rules_hash": state.rules_hash,
            "full_import_required": state.full_import_required,
            "full_sync_required": state.full_sync_required,
        }
        self._run(self.dialect.upsert(T.connector_state, row))
