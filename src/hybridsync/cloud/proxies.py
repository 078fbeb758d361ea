"""Proxy addresses are unique across the tenant's live users (case-insensitive).

A user's addresses are claimed when written by the synchronization role, released when
the user is deleted, and claimed again on restore.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hybridsync.cloud.db import proxy_addresses
from hybridsync.cloud.errors import ErrorDetail, bad_request

MESSAGE = "Another object with the same value for property proxyAddresses already exists."


def release(conn: Connection, user_id: str) -> None:
    conn.execute(sa.delete(proxy_addresses).where(proxy_addresses.c.user_id == user_id))


def claim(conn: Connection, tenant_id: str, user_id: str, addresses: Iterable[str]) -> None:
    """Make ``addresses`` the user's; 400 ``ObjectConflict`` if another user holds one."""
    keys = sorted({address.lower() for address in addresses})
    release(conn, user_id)
    if not keys:
        return
    holders = conn.execute(
        sa.select(proxy_addresses.c.user_id).where(
            proxy_addresses.c.tenant_id == tenant_id, proxy_addresses.c.address_key.in_(keys)
        )
    ).scalars()
    others = sorted(set(holders))
    if others:
        raise bad_request(
            MESSAGE,
            ErrorDetail("ObjectConflict", MESSAGE, "proxyAddresses"),
            ErrorDetail("ConflictingObjects", ", ".join(others), "proxyAddresses"),
        )
    conn.execute(
        sa.insert(proxy_addresses),
        [{"tenant_id": tenant_id, "address_key": key, "user_id": user_id} for key in keys],
    )
