"""Reading memberships: direct and transitive, in both directions.

Nested groups make membership a graph, possibly with cycles (two groups may hold each other):
every walk keeps the set of objects already seen, so it ends. Soft-deleted users keep their
memberships (a restore brings them back) but are never listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hybridsync.cloud.db import USER_IS_LIVE, Database, group_members, groups, membership_log, users
from hybridsync.cloud.groups import GROUP, USER, kinds_of

_CHUNK = 500  # ids per IN (...) clause: well under every database's parameter limit


@dataclass(frozen=True, slots=True)
class DirectoryObject:
    """A user or a group as stored, with its kind (``user`` or ``group``)."""

    kind: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])


@dataclass(frozen=True, slots=True)
class MemberChange:
    """One entry of the membership log: a member added to or removed from a group."""

    group_id: str
    member_id: str
    member_type: str
    added: bool


class Memberships:
    """Membership queries over the store: members, groups, transitive closures, delta."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def members(
        self, tenant_id: str, group_id: str, *, after: str = "", limit: int | None = None
    ) -> tuple[list[DirectoryObject], str | None]:
        """Direct members in member-id order after ``after``, and where the next page starts.

        Read a page at a time from the database, so that listing a 50,000-member group
        costs each page its own size.
        """
        with self._db.read() as conn:
            ids = list(
                conn.execute(
                    sa.select(group_members.c.member_id)
                    .where(group_members.c.group_id == group_id, group_members.c.member_id > after)
                    .order_by(group_members.c.member_id)
                    .limit(None if limit is None else limit + 1)
                ).scalars()
            )
            more = limit is not None and len(ids) > limit
            page = ids[:limit] if limit is not None else ids
            found = {o.id: o for o in _objects(conn, tenant_id, page)}
        return [found[i] for i in page if i in found], page[-1] if more else None

    def transitive_members(self, tenant_id: str, group_id: str) -> list[DirectoryObject]:
        with self._db.read() as conn:
            return _objects(conn, tenant_id, _walk(conn, group_id, _children))

    def member_of(self, tenant_id: str, object_id: str) -> list[DirectoryObject]:
        with self._db.read() as conn:
            return _objects(conn, tenant_id, _parents(conn, [object_id]))

    def transitive_member_of(self, tenant_id: str, object_id: str) -> list[DirectoryObject]:
        with self._db.read() as conn:
            return _objects(conn, tenant_id, _walk(conn, object_id, _parents))

    def direct_members_of(
        self, tenant_id: str, group_ids: list[str]
    ) -> dict[str, list[tuple[str, str]]]:
        """Each group's direct members as (id, kind), live ones only (for delta pages).

        Driven from the membership rows, then primary-key lookups: a join let SQLite scan
        every user of the tenant for each page.
        """
        answer: dict[str, list[tuple[str, str]]] = {group_id: [] for group_id in group_ids}
        with self._db.read() as conn:
            for chunk in _chunks(group_ids):
                rows = conn.execute(
                    sa.select(group_members.c.group_id, group_members.c.member_id)
                    .where(group_members.c.group_id.in_(chunk))
                    .order_by(group_members.c.member_id)
                ).all()
                kinds = kinds_of(conn, tenant_id, (row.member_id for row in rows))
                for row in rows:
                    if row.member_id in kinds:
                        answer[row.group_id].append((row.member_id, kinds[row.member_id]))
        return answer

    def changes(
        self, tenant_id: str, group_ids: list[str], *, since: int, upto: int
    ) -> list[MemberChange]:
        """Membership changes of ``group_ids`` stamped in (since, upto], oldest first."""
        found: list[MemberChange] = []
        with self._db.read() as conn:
            for chunk in _chunks(group_ids):
                rows = conn.execute(
                    sa.select(membership_log)
                    .where(
                        membership_log.c.tenant_id == tenant_id,
                        membership_log.c.group_id.in_(chunk),
                        membership_log.c.seq > since,
                        membership_log.c.seq <= upto,
                    )
                    .order_by(membership_log.c.seq)
                ).all()
                found += [
                    MemberChange(r.group_id, r.member_id, r.member_type, r.added) for r in rows
                ]
        return found


def _walk(conn: Connection, start: str, step: Any) -> set[str]:
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        frontier = [found for found in step(conn, frontier) if found not in seen and found != start]
        seen.update(frontier)
    return seen


def _linked(conn: Connection, ids: list[str], given: Any, wanted: Any) -> set[str]:
    """The ``wanted`` column of every membership row whose ``given`` column is in ``ids``."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(conn.execute(sa.select(wanted).where(given.in_(chunk))).scalars())
    return found


def _children(conn: Connection, group_ids: list[str]) -> set[str]:
    return _linked(conn, group_ids, group_members.c.group_id, group_members.c.member_id)


def _parents(conn: Connection, member_ids: list[str]) -> set[str]:
    return _linked(conn, member_ids, group_members.c.member_id, group_members.c.group_id)


def _objects(conn: Connection, tenant_id: str, ids: Iterable[str]) -> list[DirectoryObject]:
    """The live users and groups among ``ids``: users first, each kind in id order."""
    wanted = sorted(set(ids))
    live_users = _by_id(conn, tenant_id, wanted, USER, users, USER_IS_LIVE)
    return live_users + _by_id(conn, tenant_id, wanted, GROUP, groups)


def _by_id(
    conn: Connection,
    tenant_id: str,
    ids: list[str],
    kind: str,
    table: sa.Table,
    *conditions: sa.ColumnElement[bool],
) -> list[DirectoryObject]:
    # By primary key, the tenant checked on the rows (see ``kinds_of``).
    found: list[DirectoryObject] = []
    for chunk in _chunks(ids):
        rows = conn.execute(
            sa.select(table.c.data, table.c.tenant_id)
            .where(table.c.id.in_(chunk), *conditions)
            .order_by(table.c.id)
        ).all()
        found += [DirectoryObject(kind, dict(r.data)) for r in rows if r.tenant_id == tenant_id]
    return found


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    items = list(ids)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
