"""Run profiles, statuses and the report each run produces."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hybridsync.core.objects import ObjectError


class Profile(enum.Enum):
    FULL_IMPORT = "full-import"
    DELTA_IMPORT = "delta-import"
    FULL_SYNC = "full-sync"
    DELTA_SYNC = "delta-sync"
    EXPORT = "export"


class Status:
    """Run statuses, in the spec's priority order (stopped first, success last)."""

    SUCCESS = "success"
    COMPLETED_ERRORS = "completed-sync-errors"
    COMPLETED_EXPORT_ERRORS = "completed-export-errors"
    COMPLETED_WARNINGS = "completed-warnings"
    STOPPED_ERROR_LIMIT = "stopped-error-limit"
    STOPPED_DELETION_THRESHOLD = "stopped-deletion-threshold-exceeded"
    STOPPED_IMPORT_REFUSED = "stopped-import-refused"
    STOPPED_STAGING = "stopped-staging-mode"
    STOPPED_FULL_SYNC_REQUIRED = "stopped-full-sync-required"
    STOPPED_FULL_IMPORT_REQUIRED = "stopped-full-import-required"
    STOPPED_CONNECTOR = "stopped-connectivity"
    STOPPED_UNREACHABLE = "stopped-unreachable"
    """A server could not be reached at all (name, refused connection, TLS): no retry."""
    STOPPED_STORE = "stopped-store-error"
    """The store failed (its database unreachable, the connection lost): the transaction
    in progress was rolled back, everything committed before is kept."""
    STOPPED_PLAN_MISMATCH = "stopped-plan-mismatch"
    STOPPED_BY_REQUEST = "stopped-by-request"
    IN_PROGRESS = "in-progress"


def status_rank(status: str) -> int:
    if status.startswith("stopped-"):
        return 0 if status != Status.STOPPED_ERROR_LIMIT else 1
    if status.startswith("completed-") and status.endswith("errors"):
        return 2
    if status.startswith("completed-"):
        return 3
    return 4


@dataclass(slots=True)
class RunReport:
    """What one run did: counts, per-object errors, notes, status."""

    connector: str
    profile: Profile
    run_id: str = ""
    status: str = Status.SUCCESS
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[ObjectError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "connector": self.connector,
            "profile": self.profile.value,
            "status": self.status,
            "counts": dict(sorted(self.counts.items())),
            "errors": [
                {
                    "dn": e.dn,
                    "anchor": e.anchor,
                    "rule": e.rule,
                    "attribute": e.attribute,
                    "message": e.message,
                    "kind": e.kind,
                }
                for e in self.errors
            ],
            "notes": list(self.notes),
            "message": self.message,
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class CycleReport:
    kind: str
    runs: list[RunReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False
    """A stop request ended the cycle before all its runs (a run may have ended first)."""

    @property
    def status(self) -> str:
        statuses = [run.status for run in self.runs]
        if self.stopped:
            statuses.append(Status.STOPPED_BY_REQUEST)
        return min(statuses, key=status_rank, default=Status.SUCCESS)

    def as_dict(self) -> dict[str, object]:
        return {
            "cycle": self.kind,
            "status": self.status,
            "notes": list(self.notes),
            "runs": [run.as_dict() for run in self.runs],
        }
