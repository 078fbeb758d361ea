"""Password hashes uploaded by password hash sync: stored, read back, verified at sign-in.

Only the derived wire text ``v1;PPH1_MD4,<salt hex>,<iterations>,<hash hex>;`` arrives
and is stored (a salted PBKDF2 of the NT hash); never an NT hash, never a password. A
sign-in recomputes the chain from the entered password
(:func:`verify_synced_password_hash`).

The seam with the sign-in dispatcher (``cloud/signin/verify.py``) is exactly
:func:`stored_password_hash` and :func:`verify_synced_password_hash`. The cloud recomputes
the chain locally (its own MD4: it imports nothing of the sync engine), so PHS users sign
in while AD and the sync server are offline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from hybridsync.cloud.db import USER_IS_LIVE, Database, metadata, users
from hybridsync.md4 import md4

if TYPE_CHECKING:  # the service owns a SyncedPasswords: a run-time import would be a cycle
    from hybridsync.cloud.service import CloudService

__all__ = [
    "ParsedWire",
    "SyncedPasswords",
    "parse_wire",
    "stored_password_hash",
    "verify_synced_password_hash",
]

synced_password_hashes = sa.Table(
    "synced_password_hashes",
    metadata,
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("wire", sa.String(256), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

_WIRE = re.compile(r"^v1;PPH1_MD4,([0-9a-f]{20}),([0-9]{1,6}),([0-9a-f]{64});$")
MIN_ITERATIONS = 100  # hashes from before about 2016 used 100


@dataclass(frozen=True, slots=True)
class ParsedWire:
    salt: bytes
    iterations: int
    digest: bytes


def parse_wire(text: str) -> ParsedWire | None:
    """The parts of a wire-format hash, ``None`` when it is not one (never echoed)."""
    match = _WIRE.match(text)
    if match is None or int(match[2]) < MIN_ITERATIONS:
        return None
    return ParsedWire(bytes.fromhex(match[1]), int(match[2]), bytes.fromhex(match[3]))


def verify_synced_password_hash(stored_wire: str, password: str) -> bool:
    """Whether ``password`` matches the uploaded hash (constant-time comparison).

    NT hash (MD4 of UTF-16LE) -> uppercase hex -> UTF-16LE -> PBKDF2-HMAC-SHA256 with the
    stored salt and iterations. A stored text that is not a wire-format hash never matches.
    """
    parsed = parse_wire(stored_wire)
    if parsed is None:
        return False
    nt_hash = md4(password.encode("utf-16-le", errors="surrogatepass"))
    key = nt_hash.hex().upper().encode("utf-16-le")
    derived = hashlib.pbkdf2_hmac("sha256", key, parsed.salt, parsed.iterations, 32)
    return hmac.compare_digest(derived, parsed.digest)


class SyncedPasswords:
    """The table of uploaded hashes, one per live synced user."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.write() as conn:  # databases created before PHS existed lack the table
            synced_password_hashes.create(conn, checkfirst=True)

    def store(self, tenant_id: str, user_id: str, wire: str) -> None:
        """Replace the user's hash.

        The user's change sequence does not move: a hash is not a Graph property, so a
        delta query has nothing to report.
        """
        now = dt.datetime.now(dt.UTC)
        table = synced_password_hashes
        with self._db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.user_id == user_id))
            conn.execute(
                sa.insert(table).values(
                    user_id=user_id, tenant_id=tenant_id, wire=wire, updated=now
                )
            )

    def get(self, tenant_id: str, user_id: str) -> str | None:
        """The stored wire text of a live user, ``None`` without one."""
        table = synced_password_hashes
        query = (
            sa.select(table.c.wire)
            .join(users, users.c.id == table.c.user_id)
            .where(
                table.c.tenant_id == tenant_id,
                table.c.user_id == user_id,
                USER_IS_LIVE,
            )
        )
        with self._db.read() as conn:
            wire = conn.execute(query).scalar_one_or_none()
        return None if wire is None else str(wire)


def stored_password_hash(service: CloudService, tenant_id: str, user_id: str) -> str | None:
    """The wire-format hash password hash sync uploaded for the user, ``None`` without one."""
    return service.synced_passwords.get(tenant_id, user_id)
