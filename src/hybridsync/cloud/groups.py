"""Groups and their direct members (users and nested groups) in the store.

Every write advances the tenant's change sequence and stamps the group with it; each
membership change is also written to ``membership_log`` so that groups delta can report
``members@delta`` as the changes themselves, never as the whole member list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hybridsync.cloud.db import (
    USER_IS_LIVE,
    Database,
    group_members,
    groups,
    membership_log,
    next_seq,
    removed_groups,
    users,
)
from hybridsync.cloud.errors import ErrorDetail, bad_request, not_found
from hybridsync.cloud.keys import utcnow

Check = Callable[[dict[str, Any]], None]
USER, GROUP = "user", "group"
_CHUNK = 500  # ids per IN (...) clause: well under every database's parameter limit
ALREADY_MEMBER = (
    "One or more added object references already exist for the following modified"
    " properties: 'members'."
)

__all__ = ["GROUP", "USER", "GroupDirectory", "Stamped", "kinds_of", "log_removals"]


@dataclass(frozen=True, slots=True)
class Stamped:
    """A group as of its last change (``data`` is ``None`` once the group is deleted)."""

    id: str
    seq: int
    data: dict[str, Any] | None


def _no_check(_group: dict[str, Any]) -> None:
    return None


def _now() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


class GroupDirectory:
    """The groups of every tenant and their direct members, in the store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writes ---------------------------------------------------------------------------

    def create(
        self,
        tenant_id: str,
        body: dict[str, Any],
        *,
        synced: bool = False,
        member_ids: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Insert a validated group and its first members (all or nothing)."""
        group = {
            "id": str(uuid.uuid4()),
            "createdDateTime": _now(),
            "groupTypes": [],
            "description": None,
            "mail": None,
            "visibility": None,
            **body,
        }
        if synced:
            group |= {"onPremisesSyncEnabled": True, "onPremisesLastSyncDateTime": _now()}
        with self._db.write() as conn:
            seq = next_seq(conn, tenant_id)
            conn.execute(
                sa.insert(groups).values(id=group["id"], tenant_id=tenant_id, data=group, seq=seq)
            )
            if member_ids:
                self._add(conn, tenant_id, group["id"], list(dict.fromkeys(member_ids)), seq)
        return group

    def get(self, tenant_id: str, group_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            return self._data(conn, tenant_id, group_id)

    def update(
        self,
        tenant_id: str,
        group_id: str,
        changes: dict[str, Any],
        *,
        check: Check = _no_check,
        synced: bool = False,
        member_ids: Iterable[str] = (),
    ) -> None:
        """Apply ``changes`` and add ``member_ids`` after ``check(existing)`` accepted them."""
        with self._db.write() as conn:
            existing = self._data(conn, tenant_id, group_id)
            check(existing)
            seq = next_seq(conn, tenant_id)
            group = existing | changes
            if synced:
                group |= {"onPremisesSyncEnabled": True, "onPremisesLastSyncDateTime": _now()}
            conn.execute(sa.update(groups).where(groups.c.id == group_id).values(data=group))
            self._stamp(conn, group_id, seq)
            if member_ids:
                self._add(conn, tenant_id, group_id, list(dict.fromkeys(member_ids)), seq)

    def delete(self, tenant_id: str, group_id: str, *, check: Check = _no_check) -> None:
        """Delete a group; it leaves every group it was a member of (both changes logged)."""
        with self._db.write() as conn:
            check(self._data(conn, tenant_id, group_id))
            seq = next_seq(conn, tenant_id)
            parents = conn.execute(
                sa.select(group_members.c.group_id).where(group_members.c.member_id == group_id)
            ).scalars()
            for parent in list(parents):
                self._remove(conn, tenant_id, parent, group_id, seq)
            conn.execute(sa.delete(group_members).where(group_members.c.group_id == group_id))
            conn.execute(sa.delete(groups).where(groups.c.id == group_id))
            conn.execute(
                sa.insert(removed_groups).values(id=group_id, tenant_id=tenant_id, seq=seq)
            )

    def add_member(
        self, tenant_id: str, group_id: str, member_id: str, *, check: Check = _no_check
    ) -> None:
        """One member added (``POST .../members/$ref``): the commonest write of a sync,
        so its statements are built once (see :func:`_add_one`)."""
        with self._db.write() as conn:
            check(self._data(conn, tenant_id, group_id))
            seq = next_seq(conn, tenant_id)
            _add_one(conn, tenant_id, group_id, member_id, seq)
            self._stamp(conn, group_id, seq)

    def remove_member(
        self, tenant_id: str, group_id: str, member_id: str, *, check: Check = _no_check
    ) -> None:
        with self._db.write() as conn:
            check(self._data(conn, tenant_id, group_id))
            if not _is_member(conn, group_id, member_id):
                raise not_found(member_id)
            seq = next_seq(conn, tenant_id)
            self._remove(conn, tenant_id, group_id, member_id, seq)  # stamps the group

    def _add(
        self, conn: Connection, tenant_id: str, group_id: str, member_ids: list[str], seq: int
    ) -> None:
        """Add members in a few statements, whatever their number (all checked first)."""
        if group_id in member_ids:
            raise bad_request("A group cannot be a member of itself.")
        kinds = kinds_of(conn, tenant_id, member_ids)
        for member_id in member_ids:
            if member_id not in kinds:
                raise not_found(member_id)
        if _existing_members(conn, group_id, member_ids):
            raise bad_request(
                ALREADY_MEMBER, ErrorDetail("ObjectConflict", ALREADY_MEMBER, "members")
            )
        conn.execute(
            sa.insert(group_members),
            [{"group_id": group_id, "member_id": member_id} for member_id in member_ids],
        )
        conn.execute(
            sa.insert(membership_log),
            [
                {"tenant_id": tenant_id, "seq": seq, "group_id": group_id,
                 "member_id": member_id, "member_type": kinds[member_id], "added": True}
                for member_id in member_ids
            ],
        )  # fmt: skip

    def _remove(
        self, conn: Connection, tenant_id: str, group_id: str, member_id: str, seq: int
    ) -> None:
        kind = GROUP if _group_exists(conn, tenant_id, member_id) else USER
        conn.execute(_DELETE_MEMBER, {"group": group_id, "member": member_id})
        _log(conn, tenant_id, seq, group_id, member_id, kind, added=False)
        self._stamp(conn, group_id, seq)

    @staticmethod
    def _stamp(conn: Connection, group_id: str, seq: int) -> None:
        conn.execute(_STAMP, {"group": group_id, "seq": seq})

    # -- reads ----------------------------------------------------------------------------

    def all_groups(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(groups.c.data)
                .where(groups.c.tenant_id == tenant_id)
                .order_by(groups.c.id)
            ).scalars()
            return [dict(data) for data in rows]

    def changes(
        self, tenant_id: str, *, since: int, upto: int, after: int, limit: int
    ) -> list[Stamped]:
        """Groups stamped, and groups deleted, in (max(since, after), upto], in stamp order.

        About ``limit`` of them: one write may stamp several groups with one sequence
        number, and a page never splits those (the next page starts after that number).
        """
        low = max(since, after)
        with self._db.read() as conn:
            found = _stamped(conn, tenant_id, low, upto, limit)[:limit]
            if len(found) == limit:
                last = found[-1].seq
                found = [s for s in found if s.seq < last] + _stamped(
                    conn, tenant_id, last - 1, last, None
                )
        return found

    def _data(self, conn: Connection, tenant_id: str, group_id: str) -> dict[str, Any]:
        data = conn.execute(_GROUP_DATA, {"tenant": tenant_id, "group": group_id}).scalar()
        if data is None:
            raise not_found(group_id)
        return dict(data)


# The statements of one member addition, built once (building them, with their cache
# keys, cost more than SQLite took to run them).
_STAMP = (
    sa.update(groups).where(groups.c.id == sa.bindparam("group")).values(seq=sa.bindparam("seq"))
)
_GROUP_DATA = sa.select(groups.c.data).where(
    groups.c.tenant_id == sa.bindparam("tenant"), groups.c.id == sa.bindparam("group")
)
_LIVE_USER = sa.select(users.c.tenant_id).where(users.c.id == sa.bindparam("id"), USER_IS_LIVE)
_GROUP_TENANT = sa.select(groups.c.tenant_id).where(groups.c.id == sa.bindparam("id"))
_IS_MEMBER = sa.select(group_members.c.member_id).where(
    group_members.c.group_id == sa.bindparam("group"),
    group_members.c.member_id == sa.bindparam("member"),
)
_INSERT_MEMBER = sa.insert(group_members)
_INSERT_LOG = sa.insert(membership_log)
_DELETE_MEMBER = sa.delete(group_members).where(
    group_members.c.group_id == sa.bindparam("group"),
    group_members.c.member_id == sa.bindparam("member"),
)
_GROUP_IN_TENANT = sa.select(groups.c.id).where(
    groups.c.tenant_id == sa.bindparam("tenant"), groups.c.id == sa.bindparam("group")
)


def _add_one(conn: Connection, tenant_id: str, group_id: str, member_id: str, seq: int) -> None:
    """:meth:`GroupDirectory._add` for one member, with the same checks and answers."""
    if member_id == group_id:
        raise bad_request("A group cannot be a member of itself.")
    kind = _kind_of(conn, tenant_id, member_id)
    if kind is None:
        raise not_found(member_id)
    if _is_member(conn, group_id, member_id):
        raise bad_request(ALREADY_MEMBER, ErrorDetail("ObjectConflict", ALREADY_MEMBER, "members"))
    conn.execute(_INSERT_MEMBER, {"group_id": group_id, "member_id": member_id})
    conn.execute(
        _INSERT_LOG,
        {"tenant_id": tenant_id, "seq": seq, "group_id": group_id, "member_id": member_id,
         "member_type": kind, "added": True},
    )  # fmt: skip


def _kind_of(conn: Connection, tenant_id: str, object_id: str) -> str | None:
    """:func:`kinds_of` for one id: ``user``, ``group``, or ``None`` (not in the tenant)."""
    for query, kind in ((_LIVE_USER, USER), (_GROUP_TENANT, GROUP)):
        owner = conn.execute(query, {"id": object_id}).scalar()
        if owner == tenant_id:
            return kind
    return None


def _stamped(
    conn: Connection, tenant_id: str, low: int, high: int, limit: int | None
) -> list[Stamped]:
    live = conn.execute(
        sa.select(groups.c.id, groups.c.data, groups.c.seq)
        .where(groups.c.tenant_id == tenant_id, groups.c.seq > low, groups.c.seq <= high)
        .order_by(groups.c.seq)
        .limit(limit)
    ).all()
    gone = conn.execute(
        sa.select(removed_groups.c.id, removed_groups.c.seq)
        .where(
            removed_groups.c.tenant_id == tenant_id,
            removed_groups.c.seq > low,
            removed_groups.c.seq <= high,
        )
        .order_by(removed_groups.c.seq)
        .limit(limit)
    ).all()
    stamped = [Stamped(r.id, r.seq, dict(r.data)) for r in live]
    stamped += [Stamped(r.id, r.seq, None) for r in gone]
    return sorted(stamped, key=lambda s: s.seq)


def kinds_of(conn: Connection, tenant_id: str, ids: Iterable[str]) -> dict[str, str]:
    """``user`` or ``group`` for each live object of the tenant among ``ids``.

    Looked up by primary key, the tenant checked on the rows found: with the tenant in
    the WHERE clause, SQLite chose the tenant index and read every object of the tenant.
    """
    found: dict[str, str] = {}
    items = list(dict.fromkeys(ids))
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        live_users = sa.select(users.c.id, users.c.tenant_id).where(
            users.c.id.in_(chunk), USER_IS_LIVE
        )
        in_groups = sa.select(groups.c.id, groups.c.tenant_id).where(groups.c.id.in_(chunk))
        for query, kind in ((live_users, USER), (in_groups, GROUP)):
            found |= {row.id: kind for row in conn.execute(query) if row.tenant_id == tenant_id}
    return found


def _existing_members(conn: Connection, group_id: str, member_ids: list[str]) -> bool:
    found = conn.execute(
        sa.select(group_members.c.member_id).where(
            group_members.c.group_id == group_id, group_members.c.member_id.in_(member_ids)
        )
    ).first()
    return found is not None


def _log(
    conn: Connection,
    tenant_id: str,
    seq: int,
    group_id: str,
    member_id: str,
    kind: str,
    *,
    added: bool,
) -> None:
    conn.execute(
        _INSERT_LOG,
        {"tenant_id": tenant_id, "seq": seq, "group_id": group_id, "member_id": member_id,
         "member_type": kind, "added": added},
    )  # fmt: skip


def log_removals(conn: Connection, tenant_id: str, member_id: str, seq: int) -> None:
    """``member_id`` is gone for good: it leaves every group, and each group hears of it."""
    parents = list(
        conn.execute(
            sa.select(group_members.c.group_id).where(group_members.c.member_id == member_id)
        ).scalars()
    )
    for parent in parents:
        _log(conn, tenant_id, seq, parent, member_id, USER, added=False)
        conn.execute(sa.update(groups).where(groups.c.id == parent).values(seq=seq))
    conn.execute(sa.delete(group_members).where(group_members.c.member_id == member_id))


def _is_member(conn: Connection, group_id: str, member_id: str) -> bool:
    return conn.execute(_IS_MEMBER, {"group": group_id, "member": member_id}).first() is not None


def _group_exists(conn: Connection, tenant_id: str, group_id: str) -> bool:
    found = conn.execute(_GROUP_IN_TENANT, {"tenant": tenant_id, "group": group_id}).first()
    return found is not None
