"""What can stop a sync on demand, in one table: each kind of problem, the HTTP status
``POST /api/sync-object`` answers with it and the exit status ``hybridsync sync OBJECT``
ends with, the same whether the object was synced in the command's process or by the
service.

| kind | HTTP | exit | when |
|---|---|---|---|
| ``not-found`` | 404 | 4 | no object has that key |
| ``ambiguous`` | 400 | 3 | the key (a UPN) names more than one object: give its DN or anchor |
| ``bad-request`` | 400 | 3 | the request has no usable key, or a connector that is not a name |
| ``configuration`` | 400 | 3 | no connector of that name, or it cannot read one object |
| ``in-progress`` | 409 | 2 | another sync holds the lock, or the service stayed busy |
| ``stopped`` | 502 | 2 | a connector or the store failed |
| ``unreachable`` | 503 | 5 | a server (the DC, the target) could not be reached |
| ``not-running`` | 503 | 5 | the service is reloading its configuration or stopping |
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridsync.cli import exit_codes
from hybridsync.cli.admin.state import NotRunning, UnknownConnector
from hybridsync.cli.runlock import SyncInProgress
from hybridsync.engine.service import ServiceBusy
from hybridsync.errors import (
    AmbiguousKeyError,
    ConfigError,
    ConnectorError,
    HybridsyncError,
    NotFoundError,
    StoreError,
    UnreachableError,
)

__all__ = ["PROBLEMS", "Problem", "problem_of"]


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    http_status: int
    exit_code: int


PROBLEMS: dict[str, Problem] = {
    problem.kind: problem
    for problem in (
        Problem("not-found", 404, exit_codes.NOT_FOUND),
        Problem("ambiguous", 400, exit_codes.CONFIG_ERROR),
        Problem("bad-request", 400, exit_codes.CONFIG_ERROR),
        Problem("configuration", 400, exit_codes.CONFIG_ERROR),
        Problem("in-progress", 409, exit_codes.STOPPED),
        Problem("stopped", 502, exit_codes.STOPPED),
        Problem("unreachable", 503, exit_codes.UNREACHABLE),
        Problem("not-running", 503, exit_codes.UNREACHABLE),
    )
}

# The first class the error is an instance of wins: a subclass before its base.
_KINDS: tuple[tuple[type[HybridsyncError], str], ...] = (
    (NotFoundError, "not-found"),
    (AmbiguousKeyError, "ambiguous"),
    (UnknownConnector, "configuration"),
    (ConfigError, "configuration"),
    (SyncInProgress, "in-progress"),
    (ServiceBusy, "in-progress"),
    (NotRunning, "not-running"),
    (UnreachableError, "unreachable"),
    (ConnectorError, "stopped"),
    (StoreError, "stopped"),
)


def problem_of(error: HybridsyncError) -> Problem | None:
    """The problem ``error`` is, or ``None`` when a sync on demand does not expect it."""
    for kind, name in _KINDS:
        if isinstance(error, kind):
            return PROBLEMS[name]
    return None
