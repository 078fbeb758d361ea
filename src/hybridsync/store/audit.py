"""The audit log: each operator action of the console, kept in the store.

Written and read on a connection of the reader's own (the console's), never the engine's:
an action is recorded even while a cycle holds the engine's connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from hybridsync.store import tables

__all__ = ["AuditEntry", "audit_count", "audit_entries", "record_audit"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    target: str
    plan_hash: str | None
    outcome: str


def record_audit(
    connection: Connection,
    *,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    plan_hash: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(datetime.now(UTC).isoformat(timespec="seconds"), actor, action,
                       target, plan_hash, outcome)  # fmt: skip
    # The store's connections commit each statement (autocommit): one row, one commit.
    connection.execute(
        tables.audit_log.insert().values(
            at=entry.at,
            actor=actor,
            action=action,
            target=target,
            plan_hash=plan_hash,
            outcome=outcome,
        )
    )
    return entry


def audit_entries(connection: Connection, limit: int, offset: int = 0) -> list[AuditEntry]:
    """Newest first."""
    log = tables.audit_log
    rows = connection.execute(
        select(log).order_by(log.c.seq.desc()).limit(limit).offset(offset)
    ).all()
    return [
        AuditEntry(row.at, row.actor, row.action, row.target, row.plan_hash, row.outcome)
        for row in rows
    ]


def audit_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(tables.audit_log)).scalar_one())
