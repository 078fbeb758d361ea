"""Runs as data: their profiles, statuses, cycle kinds and object-error kinds, and the one
dict a run and its errors become (run history, run report and store alike)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybridsync.core.objects import ObjectError

__all__ = [
    "CycleKind",
    "ErrorKind",
    "Profile",
    "RunRecord",
    "Status",
    "error_dict",
    "run_dict",
]


class Profile(enum.StrEnum):
    """A run profile: what one run of one connector does."""

    FULL_IMPORT = "full-import"
    DELTA_IMPORT = "delta-import"
    FULL_SYNC = "full-sync"
    DELTA_SYNC = "delta-sync"
    EXPORT = "export"


class Status(enum.StrEnum):
    """How a run ended, in the spec's priority order (stopped first, success last)."""

    SUCCESS = "success"
    COMPLETED_ERRORS = "completed-sync-errors"
    COMPLETED_EXPORT_ERRORS = "completed-export-errors"
    COMPLETED_PASSWORD_ERRORS = "completed-errors"
    """A password hash sync run: some users' hashes could not be read or uploaded."""
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
    STOPPED_FILTER_GROUP_MISSING = "stopped-filter-group-missing"
    """The connector space does not hold the ``[filter] group``: a sync would take every
    object out of scope, so it does not run."""
    STOPPED_BY_REQUEST = "stopped-by-request"
    IN_PROGRESS = "in-progress"

    @property
    def stopped(self) -> bool:
        """The run ended before doing all its work."""
        return self in _STOPPED

    @property
    def with_errors(self) -> bool:
        """The run did all its work, and some objects failed."""
        return self in _COMPLETED_WITH_ERRORS

    @property
    def rank(self) -> int:
        """Lower is worse: a cycle's status is its runs' lowest-ranked one."""
        if self is Status.STOPPED_ERROR_LIMIT:
            return 1
        if self.stopped:
            return 0
        if self.with_errors:
            return 2
        return 3 if self is Status.COMPLETED_WARNINGS else 4


_STOPPED = frozenset(
    {
        Status.STOPPED_ERROR_LIMIT,
        Status.STOPPED_DELETION_THRESHOLD,
        Status.STOPPED_IMPORT_REFUSED,
        Status.STOPPED_STAGING,
        Status.STOPPED_FULL_SYNC_REQUIRED,
        Status.STOPPED_FULL_IMPORT_REQUIRED,
        Status.STOPPED_CONNECTOR,
        Status.STOPPED_UNREACHABLE,
        Status.STOPPED_STORE,
        Status.STOPPED_PLAN_MISMATCH,
        Status.STOPPED_FILTER_GROUP_MISSING,
        Status.STOPPED_BY_REQUEST,
    }
)
_COMPLETED_WITH_ERRORS = frozenset(
    {Status.COMPLETED_ERRORS, Status.COMPLETED_EXPORT_ERRORS, Status.COMPLETED_PASSWORD_ERRORS}
)


class CycleKind(enum.StrEnum):
    INITIAL = "initial"
    """Full import and full sync of every connector, then export."""
    DELTA = "delta"
    """Delta runs, upgraded to full ones where the rules or attribute lists changed."""
    APPLY = "apply"
    """The export of a saved plan."""


class ErrorKind(enum.StrEnum):
    """Where an object error happened."""

    IMPORT = "import"
    SYNC = "sync"
    OUTBOUND = "outbound"
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as the store keeps it."""

    run_id: str
    connector: str
    profile: Profile
    status: Status
    started: str
    ended: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    message: str = ""


def error_dict(error: ObjectError) -> dict[str, str | None]:
    """An object error's fields (its connector is its run's)."""
    return {
        "dn": error.dn,
        "anchor": error.anchor,
        "rule": error.rule,
        "attribute": error.attribute,
        "message": error.message,
        "kind": error.kind,
    }


def run_dict(record: RunRecord, errors: Sequence[ObjectError] | None = ()) -> dict[str, Any]:
    """A run and its errors as one dict; ``errors=None`` leaves the errors out."""
    data: dict[str, Any] = {
        "run_id": record.run_id,
        "connector": record.connector,
        "profile": record.profile,
        "status": record.status,
        "started": record.started,
        "ended": record.ended,
        "counts": dict(sorted(record.counts.items())),
        "message": record.message,
    }
    if errors is not None:
        data["errors"] = [error_dict(error) for error in errors]
    return data
