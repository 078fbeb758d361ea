"""Users' managers (``/users/{id}/manager``) and direct reports.

Setting or removing a manager stamps the user with a new change sequence, so the user
reappears in users delta.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hybridsync.cloud.db import Database, managers, next_seq, users
from hybridsync.cloud.errors import bad_request, not_found

Check = Callable[[dict[str, Any]], None]


class ManagerDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def set(self, tenant_id: str, user_id: str, manager_id: str, check: Check) -> None:
        with self._db.write() as conn:
            check(_live(conn, tenant_id, user_id))
            _live(conn, tenant_id, manager_id)
            if manager_id == user_id:
                raise bad_request("A user cannot be their own manager.")
            conn.execute(sa.delete(managers).where(managers.c.user_id == user_id))
            conn.execute(
                sa.insert(managers).values(
                    user_id=user_id, tenant_id=tenant_id, manager_id=manager_id
                )
            )
            _stamp(conn, tenant_id, user_id)

    def remove(self, tenant_id: str, user_id: str, check: Check) -> None:
        with self._db.write() as conn:
            check(_live(conn, tenant_id, user_id))
            gone = conn.execute(sa.delete(managers).where(managers.c.user_id == user_id))
            if gone.rowcount == 0:
                raise not_found("manager")
            _stamp(conn, tenant_id, user_id)

    def manager(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        """The user's manager (404 when none is set, or when the manager is deleted)."""
        with self._db.read() as conn:
            manager_id = conn.execute(
                sa.select(managers.c.manager_id).where(
                    managers.c.tenant_id == tenant_id, managers.c.user_id == user_id
                )
            ).scalar()
            if manager_id is None:
                raise not_found("manager")
            return _live(conn, tenant_id, manager_id)

    def direct_reports(self, tenant_id: str, manager_id: str) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(users.c.data)
                .join(managers, managers.c.user_id == users.c.id)
                .where(
                    managers.c.tenant_id == tenant_id,
                    managers.c.manager_id == manager_id,
                    users.c.deleted.is_(None),
                )
                .order_by(users.c.id)
            ).scalars()
            return [dict(data) for data in rows]


def forget(conn: Connection, user_id: str) -> None:
    """A purged user has no manager and manages nobody."""
    conn.execute(
        sa.delete(managers).where(
            sa.or_(managers.c.user_id == user_id, managers.c.manager_id == user_id)
        )
    )


def _live(conn: Connection, tenant_id: str, user_id: str) -> dict[str, Any]:
    data = conn.execute(
        sa.select(users.c.data).where(
            users.c.tenant_id == tenant_id,
            users.c.id == user_id,
            users.c.deleted.is_(None),
            users.c.purged.is_(False),
        )
    ).scalar()
    if data is None:
        raise not_found(user_id)
    return dict(data)


def _stamp(conn: Connection, tenant_id: str, user_id: str) -> None:
    conn.execute(
        sa.update(users).where(users.c.id == user_id).values(seq=next_seq(conn, tenant_id))
    )
