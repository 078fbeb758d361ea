"""Groups and their direct members (enough for group-based access)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hybridsync.cloud.db import Database, group_members, groups, next_seq, users
from hybridsync.cloud.errors import (
    ErrorDetail,
    GraphError,
    bad_request,
    invalid_value,
    invalid_values,
    not_found,
    read_only,
    required_missing,
)
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.user_rules import check_mail_nickname

GROUP_WRITABLE: dict[str, type] = {
    "displayName": str,
    "description": str,
    "mailEnabled": bool,
    "mailNickname": str,
    "securityEnabled": bool,
    "groupTypes": list,
    "visibility": str,
}
GROUP_READ_ONLY = frozenset({"id", "createdDateTime", "deletedDateTime", "mail"})
GROUP_REQUIRED = ("displayName", "mailEnabled", "mailNickname", "securityEnabled")
GROUP_PROPERTIES = ("id", "createdDateTime", "mail", *GROUP_WRITABLE)


def check_group_body(body: dict[str, Any], *, creating: bool) -> None:
    for name, value in body.items():
        if name in GROUP_READ_ONLY:
            raise read_only(name)
        expected = GROUP_WRITABLE.get(name)
        if expected is None:
            raise bad_request(
                f"Property '{name}' does not exist as a declared property or extension property."
            )
        if value is not None and (
            not isinstance(value, expected) or (expected is str and isinstance(value, bool))
        ):
            raise invalid_values(name)
    if creating:
        for name in GROUP_REQUIRED:
            if body.get(name) is None or body.get(name) == "":
                raise required_missing(name)
    if "mailNickname" in body:
        try:
            check_mail_nickname(body["mailNickname"])
        except GraphError:
            raise invalid_value("mailNickname", "Group") from None
    display_name = body.get("displayName")
    if display_name is not None and (len(display_name) > 256 or not display_name.strip()):
        raise invalid_value("displayName", "Group")
    if any(not isinstance(kind, str) for kind in body.get("groupTypes") or []):
        raise invalid_values("groupTypes")


class GroupDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        group = {
            "id": str(uuid.uuid4()),
            "createdDateTime": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "groupTypes": [],
            "description": None,
            "mail": None,
            "visibility": None,
            **body,
        }
        with self._db.write() as conn:
            conn.execute(
                sa.insert(groups).values(
                    id=group["id"], tenant_id=tenant_id, data=group, seq=next_seq(conn, tenant_id)
                )
            )
        return group

    def get(self, tenant_id: str, group_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            return self._data(conn, tenant_id, group_id)

    def update(self, tenant_id: str, group_id: str, changes: dict[str, Any]) -> None:
        with self._db.write() as conn:
            group = self._data(conn, tenant_id, group_id) | changes
            conn.execute(
                sa.update(groups)
                .where(groups.c.id == group_id)
                .values(data=group, seq=next_seq(conn, tenant_id))
            )

    def delete(self, tenant_id: str, group_id: str) -> None:
        with self._db.write() as conn:
            self._data(conn, tenant_id, group_id)
            conn.execute(sa.delete(group_members).where(group_members.c.group_id == group_id))
            conn.execute(sa.delete(groups).where(groups.c.id == group_id))

    def all_groups(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(groups.c.data)
                .where(groups.c.tenant_id == tenant_id)
                .order_by(groups.c.id)
            ).scalars()
            return [dict(data) for data in rows]

    def add_member(self, tenant_id: str, group_id: str, member_id: str) -> None:
        with self._db.write() as conn:
            self._data(conn, tenant_id, group_id)
            if not _live_user(conn, tenant_id, member_id):
                raise not_found(member_id)
            if self._is_member(conn, group_id, member_id):
                message = (
                    "One or more added object references already exist for the following"
                    " modified properties: 'members'."
                )
                raise bad_request(message, ErrorDetail("ObjectConflict", message, "members"))
            conn.execute(sa.insert(group_members).values(group_id=group_id, member_id=member_id))

    def remove_member(self, tenant_id: str, group_id: str, member_id: str) -> None:
        with self._db.write() as conn:
            self._data(conn, tenant_id, group_id)
            if not self._is_member(conn, group_id, member_id):
                raise not_found(member_id)
            conn.execute(
                sa.delete(group_members).where(
                    group_members.c.group_id == group_id, group_members.c.member_id == member_id
                )
            )

    def members(self, tenant_id: str, group_id: str) -> list[dict[str, Any]]:
        """Live user members (soft-deleted users keep their membership but are hidden)."""
        with self._db.read() as conn:
            self._data(conn, tenant_id, group_id)
            rows = conn.execute(
                sa.select(users.c.data)
                .join(group_members, group_members.c.member_id == users.c.id)
                .where(group_members.c.group_id == group_id, users.c.deleted.is_(None))
                .order_by(users.c.id)
            ).scalars()
            return [dict(data) for data in rows]

    def member_of(self, tenant_id: str, user_id: str) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(groups.c.data)
                .join(group_members, group_members.c.group_id == groups.c.id)
                .where(groups.c.tenant_id == tenant_id, group_members.c.member_id == user_id)
                .order_by(groups.c.id)
            ).scalars()
            return [dict(data) for data in rows]

    def _data(self, conn: Connection, tenant_id: str, group_id: str) -> dict[str, Any]:
        data = conn.execute(
            sa.select(groups.c.data).where(groups.c.tenant_id == tenant_id, groups.c.id == group_id)
        ).scalar()
        if data is None:
            raise not_found(group_id)
        return dict(data)

    def _is_member(self, conn: Connection, group_id: str, member_id: str) -> bool:
        return (
            conn.execute(
                sa.select(group_members.c.member_id).where(
                    group_members.c.group_id == group_id, group_members.c.member_id == member_id
                )
            ).first()
            is not None
        )


def _live_user(conn: Connection, tenant_id: str, user_id: str) -> bool:
    return (
        conn.execute(
            sa.select(users.c.id).where(
                users.c.tenant_id == tenant_id, users.c.id == user_id, users.c.deleted.is_(None)
            )
        ).first()
        is not None
    )
