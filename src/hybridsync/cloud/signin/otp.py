"""Email one-time passcodes: the credential of a user who redeemed an invitation by email.

A code is eight digits, lives ten minutes, works once, and allows five wrong tries before it
is gone. It is stored as an HMAC keyed by the directory's master key, so a copy of the
database does not give the codes away (eight digits are too few to hide behind a plain hash).
A new code for the same purpose replaces the previous one; a code is sent at most once per
``RESEND_SECONDS`` per user and purpose, so nobody can flood a mailbox through the page.

Users who redeemed this way are listed by their email address: they sign in with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import sqlalchemy as sa

from hybridsync.cloud.db import Database, users
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.signin.store import aware

CODE_DIGITS = 8
CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_SECONDS = 30
SIGN_IN = "signin"

metadata = sa.MetaData()

otp_codes = sa.Table(
    "signin_otp_codes",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), primary_key=True),
    # "signin", or "redeem:<invitation id>": a code for one purpose never serves another.
    sa.Column("purpose", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("issued", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
)

otp_users = sa.Table(
    "signin_otp_users",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    # Lower-cased: the address the user signs in with.
    sa.Column("email_key", sa.String(256), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
)


def redemption_purpose(invitation_id: str) -> str:
    return f"redeem:{invitation_id}"


def _owner_of(tenant_id: str, email: str) -> sa.Select[Any]:
    """Who signs in with ``email``: a purged (hard-deleted) user's row counts for nobody, so
    the address can go to another user (the row is replaced when it does)."""
    purged = sa.exists().where(users.c.id == otp_users.c.user_id, users.c.purged.is_(True))
    return sa.select(otp_users.c.user_id).where(
        otp_users.c.tenant_id == tenant_id, otp_users.c.email_key == email.lower(), ~purged
    )


class OneTimePasscodes:
    def __init__(self, db: Database, master_key: str) -> None:
        self.db = db
        self._key = hashlib.sha256(b"hybridsync email one-time passcode\0" + master_key.encode())
        metadata.create_all(db.engine)

    def _digest(self, tenant_id: str, user_id: str, purpose: str, code: str) -> str:
        message = "\0".join((tenant_id, user_id, purpose, code)).encode()
        return hmac.new(self._key.digest(), message, hashlib.sha256).hexdigest()

    def issue(self, tenant_id: str, user_id: str, purpose: str) -> str | None:
        """A new code (replacing any earlier one), or None if one was sent moments ago."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        now = utcnow()
        key = self._key_of(tenant_id, user_id, purpose)
        with self.db.write() as conn:
            issued = conn.execute(sa.select(otp_codes.c.issued).where(*key)).scalar()
            if issued is not None and now - aware(issued) < dt.timedelta(seconds=RESEND_SECONDS):
                return None
            conn.execute(sa.delete(otp_codes).where(*key))
            conn.execute(
                sa.insert(otp_codes).values(
                    tenant_id=tenant_id, user_id=user_id, purpose=purpose, issued=now,
                    digest=self._digest(tenant_id, user_id, purpose, code), attempts=0,
                )
            )  # fmt: skip
        return code

    def check(self, tenant_id: str, user_id: str, purpose: str, code: str) -> bool:
        """Whether ``code`` is the live code; a right one is used up, wrong ones are counted."""
        key = self._key_of(tenant_id, user_id, purpose)
        with self.db.write() as conn:
            row = conn.execute(sa.select(otp_codes).where(*key)).one_or_none()
            if row is None:
                return False
            expired = utcnow() - aware(row.issued) > CODE_LIFETIME
            wanted = self._digest(tenant_id, user_id, purpose, code.strip())
            if not expired and hmac.compare_digest(wanted, row.digest):
                conn.execute(sa.delete(otp_codes).where(*key))
                return True
            if expired or row.attempts + 1 >= MAX_ATTEMPTS:
                conn.execute(sa.delete(otp_codes).where(*key))
            else:
                conn.execute(sa.update(otp_codes).where(*key).values(attempts=row.attempts + 1))
            return False

    @staticmethod
    def _key_of(tenant_id: str, user_id: str, purpose: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (
            otp_codes.c.tenant_id == tenant_id,
            otp_codes.c.user_id == user_id,
            otp_codes.c.purpose == purpose,
        )

    # -- who signs in with a code -------------------------------------------------------

    def register_user(self, tenant_id: str, user_id: str, email: str) -> bool:
        """From now on ``user_id`` signs in with codes sent to ``email`` (and only it).

        False, and nothing changed, when another user already signs in with that address.
        """
        with self.db.write() as conn:
            owner = conn.execute(_owner_of(tenant_id, email)).scalar()
            if owner is not None and owner != user_id:
                return False
            conn.execute(
                sa.delete(otp_users).where(
                    otp_users.c.tenant_id == tenant_id,
                    # the user's earlier address, and the row of a purged user, if any
                    sa.or_(otp_users.c.user_id == user_id, otp_users.c.email_key == email.lower()),
                )
            )
            conn.execute(
                sa.insert(otp_users).values(
                    tenant_id=tenant_id, email_key=email.lower(), user_id=user_id
                )
            )
        return True

    def user_for_email(self, tenant_id: str, email: str) -> str | None:
        with self.db.read() as conn:
            found = conn.execute(_owner_of(tenant_id, email.strip())).scalar()
        return str(found) if found else None

    def email_of(self, tenant_id: str, user_id: str) -> str | None:
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(otp_users.c.email_key).where(
                    otp_users.c.tenant_id == tenant_id, otp_users.c.user_id == user_id
                )
            ).scalar()
        return str(found) if found else None

    def forget_user(self, tenant_id: str, user_id: str) -> None:
        """``user_id`` no longer signs in with codes: its address and live codes are gone."""
        with self.db.write() as conn:
            conn.execute(
                sa.delete(otp_users).where(
                    otp_users.c.tenant_id == tenant_id, otp_users.c.user_id == user_id
                )
            )
            conn.execute(
                sa.delete(otp_codes).where(
                    otp_codes.c.tenant_id == tenant_id, otp_codes.c.user_id == user_id
                )
            )
