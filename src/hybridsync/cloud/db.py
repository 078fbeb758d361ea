"""Tables and the database handle (SQLAlchemy Core; SQLite by default, PostgreSQL-ready).

Only portable SQL is used: JSON columns, plain indexes, ``UPDATE ... SET n = n + 1``. The
per-tenant ``change_seq`` counter orders every write; delta queries read it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from hybridsync.cloud.errors import not_found

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("display_name", sa.String(256), nullable=False),
    sa.Column("initial_domain", sa.String(256), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False, default=0),
    sa.Column("authorization_policy", sa.JSON, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("is_initial", sa.Boolean, nullable=False),
    sa.Column("is_verified", sa.Boolean, nullable=False),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("client_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("object_id", sa.String(36), nullable=False),
    sa.Column("display_name", sa.String(256), nullable=False),
    sa.Column("secret_hash", sa.String(512)),
    sa.Column("certificate_pem", sa.Text),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

# An application registration's token settings, in Graph's shape: ``groupMembershipClaims``
# and ``optionalClaims`` (the groups claim and its format).
application_claims = sa.Table(
    "application_claims",
    metadata,
    sa.Column("client_id", sa.ForeignKey("applications.client_id"), primary_key=True),
    sa.Column("settings", sa.JSON, nullable=False),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("private_pem", sa.LargeBinary, nullable=False),
    sa.Column("certificate_pem", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired", sa.DateTime(timezone=True)),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False),
    # Lower-cased UPN and immutable id: the uniqueness keys (NULL once purged/deleted).
    sa.Column("upn_key", sa.String(256)),
    sa.Column("immutable_id_key", sa.String(256)),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("password_hash", sa.String(512)),
    sa.Column("deleted", sa.DateTime(timezone=True)),
    sa.Column("purged", sa.Boolean, nullable=False, default=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("tenant_id", "upn_key"),
    sa.UniqueConstraint("tenant_id", "immutable_id_key"),
    sa.Index("users_by_seq", "tenant_id", "seq"),
)
# A user's three states: in the directory, in the recycle bin (restorable), purged for good.
USER_IS_LIVE = sa.and_(users.c.deleted.is_(None), users.c.purged.is_(False))
USER_IS_RESTORABLE = sa.and_(users.c.deleted.is_not(None), users.c.purged.is_(False))

proxy_addresses = sa.Table(
    "proxy_addresses",
    metadata,
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), primary_key=True),
    # Lower-cased, prefix included ("smtp:ann@contoso.com"): SMTP: and smtp: are one address.
    sa.Column("address_key", sa.String(512), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Index("groups_by_seq", "tenant_id", "seq"),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_id", sa.ForeignKey("groups.id"), primary_key=True),
    sa.Column("member_id", sa.String(36), primary_key=True, index=True),
)

# Every membership change, stamped with the tenant's change sequence: groups delta reports
# ``members@delta`` (added and removed) from it.
membership_log = sa.Table(
    "membership_log",
    metadata,
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("group_id", sa.String(36), nullable=False),
    sa.Column("member_id", sa.String(36), nullable=False),
    sa.Column("member_type", sa.String(16), nullable=False),
    sa.Column("added", sa.Boolean, nullable=False),
    sa.Index("membership_log_by_seq", "tenant_id", "seq"),
)

# Deleted groups (security groups are not restorable): groups delta reports them as removed.
removed_groups = sa.Table(
    "removed_groups",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Index("removed_groups_by_seq", "tenant_id", "seq"),
)

managers = sa.Table(
    "managers",
    metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False),
    # NULL once removed; ``previous_id`` keeps the removed manager for users delta.
    sa.Column("manager_id", sa.String(36), index=True),
    sa.Column("previous_id", sa.String(36)),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("redeem_code_hash", sa.String(128), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)


def _enable_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL with synchronous=NORMAL never corrupts; a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """The engine plus one writer lock.

    SQLite allows one writer at a time; taking the lock in the process avoids
    ``database is locked`` errors between request threads. PostgreSQL does not need it, but
    it costs little next to a network round trip.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            _owner_only_database_file(url)
        self.engine: Engine = sa.create_engine(url, connect_args=_connect_args(url))
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _enable_wal)
        metadata.create_all(self.engine)
        self._write_lock = threading.Lock()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _owner_only_database_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions, so they
    are owner-only too. The file holds password hashes and the encrypted signing keys.
    A directory created for it is 0700.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


def _connect_args(url: str) -> dict[str, Any]:
    return {"check_same_thread": False} if url.startswith("sqlite") else {}


def user_row(
    conn: Connection, tenant_id: str, ref: str, *, state: sa.ColumnElement[bool] = USER_IS_LIVE
) -> sa.Row[Any]:
    """The user ``ref`` names (an id, or a UPN when it holds an ``@``) if in ``state``, else 404."""
    key = users.c.upn_key == ref.lower() if "@" in ref else users.c.id == ref
    row = conn.execute(
        sa.select(users).where(users.c.tenant_id == tenant_id, key, state)
    ).one_or_none()
    if row is None:
        raise not_found(ref)
    return row


# Built once: every write runs them, and building a statement (and its cache key) costs
# more than SQLite takes to execute it.
_ADVANCE_SEQ = (
    sa.update(tenants)
    .where(tenants.c.id == sa.bindparam("tenant"))
    .values(change_seq=tenants.c.change_seq + 1)
)
_READ_SEQ = sa.select(tenants.c.change_seq).where(tenants.c.id == sa.bindparam("tenant"))


def next_seq(conn: Connection, tenant_id: str) -> int:
    """Advance and return the tenant's change sequence (inside the write transaction)."""
    conn.execute(_ADVANCE_SEQ, {"tenant": tenant_id})
    return int(conn.execute(_READ_SEQ, {"tenant": tenant_id}).scalar_one())
