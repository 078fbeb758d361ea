"""Password hash sync at sign-in: what was uploaded for a user, and checking a password.

The seam with the sign-in dispatcher (``cloud/signin/verify.py``) is exactly these two
functions. The cloud recomputes the chain locally (its own MD4: it imports nothing of the
sync engine), so PHS users sign in while AD and the sync server are offline.
"""

from __future__ import annotations

from hybridsync.cloud.service import CloudService
from hybridsync.cloud.synced_passwords import verify_wire

__all__ = ["stored_password_hash", "verify_synced_password_hash"]


def verify_synced_password_hash(stored_wire: str, password: str) -> bool:
    """Whether ``password`` matches the uploaded hash (constant-time comparison).

    NT hash (MD4 of UTF-16LE) -> uppercase hex -> UTF-16LE -> PBKDF2-HMAC-SHA256 with the
    stored salt and iterations. A stored text that is not a wire-format hash never matches.
    """
    return verify_wire(stored_wire, password)


def stored_password_hash(service: CloudService, tenant_id: str, user_id: str) -> str | None:
    """The wire-format hash password hash sync uploaded for the user, ``None`` without one."""
    return service.synced_passwords.get(tenant_id, user_id)
