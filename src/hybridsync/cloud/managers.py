"""Users' managers (``/users/{id}/manager``) and direct reports.

Setting or removing a manager stamps the user with a new change sequence, so the user
reappears in users delta (with ``manager@delta`` when ``manager`` is selected).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hybridsync.cloud.db import Database, managers, next_seq, user_row, users
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
                    user_id=user_id, tenant_id=tenant_id, manager_id=manager_id, previous_id=None
                )
            )
            _stamp(conn, tenant_id, user_id)

    def remove(self, tenant_id: str, user_id: str, check: Check) -> None:
        with self._db.write() as conn:
            check(_live(conn, tenant_id, user_id))
            current = _manager_id(conn, tenant_id, user_id)
            if current is None:
                raise not_found("manager")
            conn.execute(
                sa.update(managers)
                .where(managers.c.user_id == user_id)
                .values(manager_id=None, previous_id=current)
            )
            _stamp(conn, tenant_id, user_id)

    def manager(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        """The user's manager (404 when none is set, or when the manager is deleted)."""
        with self._db.read() as conn:
            manager_id = _manager_id(conn, tenant_id, user_id)
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

    def for_delta(self, tenant_id: str, user_ids: list[str]) -> dict[str, tuple[str, bool]]:
        """Each user's manager id and whether it was removed (users without one: absent)."""
        found: dict[str, tuple[str, bool]] = {}
        with self._db.read() as conn:
            for start in range(0, len(user_ids), 500):
                rows = conn.execute(
                    sa.select(managers).where(
                        managers.c.tenant_id == tenant_id,
                        managers.c.user_id.in_(user_ids[start : start + 500]),
                    )
                ).all()
                for row in rows:
                    if row.manager_id is not None:
                        found[row.user_id] = (row.manager_id, False)
                    elif row.previous_id is not None:
                        found[row.user_id] = (row.previous_id, True)
        return found


def forget(conn: Connection, user_id: str) -> None:
    """A purged user has no manager and manages nobody."""
    conn.execute(sa.delete(managers).where(managers.c.user_id == user_id))
    conn.execute(
        sa.update(managers)
        .where(managers.c.manager_id == user_id)
        .values(manager_id=None, previous_id=user_id)
    )


def _manager_id(conn: Connection, tenant_id: str, user_id: str) -> str | None:
    found = conn.execute(
        sa.select(managers.c.manager_id).where(
            managers.c.tenant_id == tenant_id, managers.c.user_id == user_id
        )
    ).scalar()
    return None if found is None else str(found)


def _live(conn: Connection, tenant_id: str, user_id: str) -> dict[str, Any]:
    return dict(user_row(conn, tenant_id, user_id).data)


def _stamp(conn: Connection, tenant_id: str, user_id: str) -> None:
    conn.execute(
        sa.update(users).where(users.c.id == user_id).values(seq=next_seq(conn, tenant_id))
    )
