"""The PHS runner's state in the store: one row per AD connector, no secret in it.

The row holds the feed's watermark, the ``pwdLastSet`` synced per anchor and the users
whose last attempt failed. Hashes are never stored here (neither NT nor derived). The
table (``tables.password_sync_state``) comes with migration ``0003_password_sync_state``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hybridsync.core.password_hash_sync.changes import PasswordChange, PasswordSyncState
from hybridsync.errors import StoreError
from hybridsync.store.sql.session import SqlSession
from hybridsync.store.tables import password_sync_state

__all__ = ["SqlPasswordSyncState"]


def _dump(state: PasswordSyncState) -> str:
    pending = {
        anchor: {"dn": change.dn, "pwdLastSet": change.pwd_last_set}
        for anchor, change in state.pending.items()
    }
    return json.dumps({"synced": dict(state.synced), "pending": pending}, sort_keys=True)


def _load(watermark: str | None, text: str, connector: str) -> PasswordSyncState:
    try:
        data: dict[str, Any] = json.loads(text)
        pending = {
            anchor: PasswordChange(anchor, str(item["dn"]), item["pwdLastSet"])
            for anchor, item in data["pending"].items()
        }
        return PasswordSyncState(dict(data["synced"]), pending, watermark)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"password sync state of connector {connector} is damaged: {exc}") from exc


class SqlPasswordSyncState(SqlSession):
    """Implements :class:`hybridsync.core.password_hash_sync.targets.PasswordSyncStateStore`."""

    def load_password_sync_state(self, connector: str) -> PasswordSyncState:
        row = self.connection.execute(
            select(password_sync_state).where(password_sync_state.c.connector == connector)
        ).first()
        if row is None:
            return PasswordSyncState()
        return _load(row.watermark, row.state, connector)

    def save_password_sync_state(self, connector: str, state: PasswordSyncState) -> None:
        row = {"connector": connector, "watermark": state.watermark, "state": _dump(state)}
        statement = self.dialect.upsert(password_sync_state, row)
        with self.transaction():
            self.connection.execute(statement)
