"""Users in the store: create, read, update, soft delete, restore, purge.

Every write advances the tenant's change sequence and stamps the row with it; delta
queries and deleted-items listing read those stamps.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hybridsync.cloud import groups, managers, proxies
from hybridsync.cloud import user_rules as rules
from hybridsync.cloud.db import (
    USER_IS_LIVE,
    USER_IS_RESTORABLE,
    Database,
    domains,
    next_seq,
    user_row,
    users,
)
from hybridsync.cloud.errors import GraphError, conflict
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.passwords import hash_password

RETENTION = dt.timedelta(days=30)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _keys(user: dict[str, Any]) -> dict[str, Any]:
    immutable = user.get("onPremisesImmutableId")
    return {
        "upn_key": str(user["userPrincipalName"]).lower(),
        # The anchor is case-sensitive (base64): values differing only in case are different users.
        "immutable_id_key": immutable if isinstance(immutable, str) else None,
    }


class UserDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writes ---------------------------------------------------------------------------

    def create(
        self, tenant_id: str, body: dict[str, Any], *, synced: bool, extra: dict[str, Any]
    ) -> dict[str, Any]:
        """Insert a validated user; ``extra`` carries service-set properties (creationType...)."""
        body = dict(body)
        profile = body.pop("passwordProfile", None) or {}
        user: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "createdDateTime": iso(utcnow()),
            "userType": "Member",
            "creationType": None,
            **body,
            **extra,
        }
        if synced:
            user |= {"onPremisesSyncEnabled": True, "onPremisesLastSyncDateTime": iso(utcnow())}
        password = profile.get("password")
        with self._db.write() as conn:
            rules.check_upn(user["userPrincipalName"], _verified(conn, tenant_id))
            self._check_unique(conn, tenant_id, user)
            seq = next_seq(conn, tenant_id)
            self._insert(conn, tenant_id, user, seq, password)
            proxies.claim(conn, tenant_id, user["id"], user.get("proxyAddresses") or [])
        return user

    def update(
        self,
        tenant_id: str,
        ref: str,
        changes: dict[str, Any],
        check: Callable[[dict[str, Any]], None],
        *,
        synced: bool,
    ) -> dict[str, Any]:
        """Apply ``changes`` after ``check(existing)`` accepted them (inside the transaction)."""
        changes = dict(changes)
        profile = changes.pop("passwordProfile", None) or {}
        with self._db.write() as conn:
            row = user_row(conn, tenant_id, ref)
            existing = dict(row.data)
            check(existing)
            user = {**existing, **changes}
            if synced and rules.marks_synced(existing, changes):
                user |= {"onPremisesSyncEnabled": True, "onPremisesLastSyncDateTime": iso(utcnow())}
            if "userPrincipalName" in changes:
                rules.check_upn(user["userPrincipalName"], _verified(conn, tenant_id))
            self._check_unique(conn, tenant_id, user, except_id=row.id)
            if "proxyAddresses" in changes:
                proxies.claim(conn, tenant_id, row.id, user.get("proxyAddresses") or [])
            values: dict[str, Any] = {"data": user, "seq": next_seq(conn, tenant_id), **_keys(user)}
            if profile.get("password"):
                values["password_hash"] = hash_password(profile["password"])
            conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
        return user

    def soft_delete(
        self, tenant_id: str, ref: str, check: Callable[[dict[str, Any]], None]
    ) -> None:
        with self._db.write() as conn:
            row = user_row(conn, tenant_id, ref)
            check(dict(row.data))
            now = utcnow()
            user = dict(row.data) | {
                "deletedDateTime": iso(now),
                "userPrincipalName": row.id.replace("-", "") + row.data["userPrincipalName"],
                "originalUserPrincipalName": row.data["userPrincipalName"],
            }
            proxies.release(conn, row.id)
            conn.execute(
                sa.update(users)
                .where(users.c.id == row.id)
                .values(
                    data=user,
                    deleted=now,
                    upn_key=None,
                    immutable_id_key=None,
                    seq=next_seq(conn, tenant_id),
                )
            )

    def restore(self, tenant_id: str, user_id: str, new_upn: str | None) -> dict[str, Any]:
        with self._db.write() as conn:
            row = user_row(conn, tenant_id, user_id, state=USER_IS_RESTORABLE)
            user = {k: v for k, v in row.data.items() if k != "originalUserPrincipalName"}
            user["userPrincipalName"] = new_upn or row.data["originalUserPrincipalName"]
            user["deletedDateTime"] = None
            if new_upn:
                rules.check_upn(new_upn, _verified(conn, tenant_id))
            self._check_unique(conn, tenant_id, user, except_id=row.id)
            proxies.claim(conn, tenant_id, row.id, user.get("proxyAddresses") or [])
            conn.execute(
                sa.update(users)
                .where(users.c.id == row.id)
                .values(data=user, deleted=None, seq=next_seq(conn, tenant_id), **_keys(user))
            )
        return user

    def purge(self, tenant_id: str, user_id: str) -> None:
        with self._db.write() as conn:
            row = user_row(conn, tenant_id, user_id, state=USER_IS_RESTORABLE)
            self._purge_row(conn, tenant_id, row.id)

    def purge_expired(self, tenant_id: str) -> int:
        """Permanently delete users deleted more than 30 days ago."""
        expired_rows = sa.select(users.c.id).where(
            users.c.tenant_id == tenant_id,
            USER_IS_RESTORABLE,
            users.c.deleted < utcnow() - RETENTION,
        )
        with self._db.read() as conn:
            if conn.execute(expired_rows.limit(1)).first() is None:
                return 0  # the common case costs one read, no write lock
        with self._db.write() as conn:
            expired = list(conn.execute(expired_rows).scalars())
            for user_id in expired:
                self._purge_row(conn, tenant_id, user_id)
        return len(expired)

    def _purge_row(self, conn: Connection, tenant_id: str, user_id: str) -> None:
        seq = next_seq(conn, tenant_id)
        groups.log_removals(conn, tenant_id, user_id, seq)
        managers.forget(conn, user_id)
        conn.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(data={"id": user_id}, purged=True, password_hash=None, seq=seq)
        )

    # -- reads ----------------------------------------------------------------------------

    def get(self, tenant_id: str, ref: str) -> dict[str, Any]:
        with self._db.read() as conn:
            return dict(user_row(conn, tenant_id, ref).data)

    def get_deleted(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            return dict(user_row(conn, tenant_id, user_id, state=USER_IS_RESTORABLE).data)

    def scan(
        self, tenant_id: str, *, after_id: str = "", deleted: bool = False, chunk: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Users in id order after ``after_id`` (live ones, or the recycle bin's)."""
        while True:
            with self._db.read() as conn:
                rows = conn.execute(
                    sa.select(users.c.id, users.c.data)
                    .where(
                        users.c.tenant_id == tenant_id,
                        USER_IS_RESTORABLE if deleted else USER_IS_LIVE,
                        users.c.id > after_id,
                    )
                    .order_by(users.c.id)
                    .limit(chunk)
                ).all()
            for row in rows:
                yield dict(row.data)
            if len(rows) < chunk:
                return
            after_id = rows[-1].id

    def changes(
        self, tenant_id: str, *, since: int, upto: int, after: int, limit: int
    ) -> list[Any]:
        """Rows stamped in (max(since, after), upto], in stamp order (delta queries)."""
        with self._db.read() as conn:
            return list(
                conn.execute(
                    sa.select(
                        users.c.id, users.c.data, users.c.deleted, users.c.purged, users.c.seq
                    )
                    .where(
                        users.c.tenant_id == tenant_id,
                        users.c.seq > max(since, after),
                        users.c.seq <= upto,
                    )
                    .order_by(users.c.seq)
                    .limit(limit)
                ).all()
            )

    def password_hash(self, tenant_id: str, user_id: str) -> str | None:
        with self._db.read() as conn:
            return conn.execute(
                sa.select(users.c.password_hash).where(
                    users.c.tenant_id == tenant_id, users.c.id == user_id
                )
            ).scalar()

    # -- helpers --------------------------------------------------------------------------

    def _check_unique(
        self, conn: Connection, tenant_id: str, user: dict[str, Any], except_id: str = ""
    ) -> None:
        keys = _keys(user)
        for column, prop in (
            (users.c.upn_key, "userPrincipalName"),
            (users.c.immutable_id_key, "onPremisesImmutableId"),
        ):
            value = keys[column.name]
            if value is None:
                continue
            clash = conn.execute(
                sa.select(users.c.id).where(
                    users.c.tenant_id == tenant_id, column == value, users.c.id != except_id
                )
            ).first()
            if clash is not None:
                raise conflict(prop)

    def _insert(
        self, conn: Connection, tenant_id: str, user: dict[str, Any], seq: int, password: Any
    ) -> None:
        try:
            conn.execute(
                sa.insert(users).values(
                    id=user["id"],
                    tenant_id=tenant_id,
                    data=user,
                    password_hash=hash_password(password) if isinstance(password, str) else None,
                    purged=False,
                    seq=seq,
                    **_keys(user),
                )
            )
        except IntegrityError as exc:  # a concurrent writer on another worker
            raise conflict("userPrincipalName") from exc


def _verified(conn: Connection, tenant_id: str) -> set[str]:
    return set(
        conn.execute(
            sa.select(domains.c.name).where(
                domains.c.tenant_id == tenant_id, domains.c.is_verified.is_(True)
            )
        ).scalars()
    )


__all__ = ["GraphError", "UserDirectory", "iso"]
