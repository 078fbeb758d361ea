"""Sign-in's own tables, in the cloud directory's database.

They live in a metadata of their own so the directory's schema stays untouched; they are
created on first use. No table holds a password: refresh tokens are stored as SHA-256
digests, agents as their certificates (public keys only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hybridsync.cloud.db import Database

metadata = sa.MetaData()

signin_settings = sa.Table(
    "signin_settings",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("synced_user_authentication", sa.String(8)),
)

user_methods = sa.Table(
    "signin_user_methods",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("method", sa.String(8), nullable=False),
)

pta_agents = sa.Table(
    "pta_agents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("machine_name", sa.String(256), nullable=False),
    sa.Column("certificate_pem", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

pta_ca = sa.Table(
    "pta_ca",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("private_pem", sa.LargeBinary, nullable=False),
    sa.Column("certificate_pem", sa.LargeBinary, nullable=False),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("client_id", sa.String(36), nullable=False),
    sa.Column("scopes", sa.String(1024), nullable=False),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back naive; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a refresh token was issued for: a user, a client and the scopes granted."""

    tenant_id: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]


class SignInStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        metadata.create_all(db.engine)

    # -- methods ----------------------------------------------------------------------

    def tenant_method(self, tenant_id: str) -> str | None:
        with self.db.read() as conn:
            value = conn.execute(
                sa.select(signin_settings.c.synced_user_authentication).where(
                    signin_settings.c.tenant_id == tenant_id
                )
            ).scalar()
        return str(value) if value else None

    def set_tenant_method(self, tenant_id: str, method: str | None) -> None:
        with self.db.write() as conn:
            conn.execute(sa.delete(signin_settings).where(signin_settings.c.tenant_id == tenant_id))
            conn.execute(
                sa.insert(signin_settings).values(
                    tenant_id=tenant_id, synced_user_authentication=method
                )
            )

    def user_method(self, tenant_id: str, user_id: str) -> str | None:
        with self.db.read() as conn:
            value = conn.execute(
                sa.select(user_methods.c.method).where(
                    user_methods.c.tenant_id == tenant_id, user_methods.c.user_id == user_id
                )
            ).scalar()
        return str(value) if value else None

    def set_user_method(self, tenant_id: str, user_id: str, method: str | None) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.delete(user_methods).where(
                    user_methods.c.tenant_id == tenant_id, user_methods.c.user_id == user_id
                )
            )
            if method is not None:
                conn.execute(
                    sa.insert(user_methods).values(
                        tenant_id=tenant_id, user_id=user_id, method=method
                    )
                )

    # -- refresh tokens ---------------------------------------------------------------

    def save_refresh(self, token: str, grant: RefreshGrant, expires: dt.datetime) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.insert(refresh_tokens).values(
                    digest=digest(token),
                    tenant_id=grant.tenant_id,
                    user_id=grant.user_id,
                    client_id=grant.client_id,
                    scopes=" ".join(grant.scopes),
                    expires=expires,
                )
            )

    def redeem_refresh(self, token: str, now: dt.datetime) -> RefreshGrant | None:
        """The grant of a valid refresh token, which is used up (rotation)."""
        with self.db.write() as conn:
            row = conn.execute(
                sa.select(refresh_tokens).where(refresh_tokens.c.digest == digest(token))
            ).first()
            if row is None:
                return None
            conn.execute(sa.delete(refresh_tokens).where(refresh_tokens.c.digest == row.digest))
        if aware(row.expires) <= now:
            return None
        return RefreshGrant(row.tenant_id, row.user_id, row.client_id, tuple(row.scopes.split()))

    def revoke_refresh(self, tenant_id: str, user_id: str) -> None:
        """Every refresh token of the user stops working (its credential changed)."""
        with self.db.write() as conn:
            conn.execute(
                sa.delete(refresh_tokens).where(
                    refresh_tokens.c.tenant_id == tenant_id, refresh_tokens.c.user_id == user_id
                )
            )

    # -- agents -----------------------------------------------------------------------

    def add_agent(
        self, agent_id: str, tenant_id: str, machine_name: str, certificate_pem: str, now: Any
    ) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.insert(pta_agents).values(
                    id=agent_id,
                    tenant_id=tenant_id,
                    machine_name=machine_name,
                    certificate_pem=certificate_pem,
                    created=now,
                )
            )

    def agent(self, agent_id: str) -> Any:
        with self.db.read() as conn:
            return conn.execute(sa.select(pta_agents).where(pta_agents.c.id == agent_id)).first()

    def agents_of(self, tenant_id: str) -> list[Any]:
        with self.db.read() as conn:
            return list(
                conn.execute(sa.select(pta_agents).where(pta_agents.c.tenant_id == tenant_id))
            )

    def ca_row(self) -> Any:
        with self.db.read() as conn:
            return conn.execute(sa.select(pta_ca)).first()

    def save_ca(self, private_pem: bytes, certificate_pem: bytes) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.insert(pta_ca).values(
                    id=1, private_pem=private_pem, certificate_pem=certificate_pem
                )
            )
