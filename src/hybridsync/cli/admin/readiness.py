"""Whether the service is ready: decided from the runs it already made, with no request.

A probe may come every few seconds: it must not cost an LDAP bind or a Graph call. The
last run of each connector says whether its server answered, and the last cycle whether
the work got done; a failed store shows as a run stopped by a store error.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from hybridsync.engine.report import CycleReport, RunReport, Status

__all__ = ["NOT_CONNECTED", "Readiness", "readiness"]

NOT_CONNECTED = frozenset({Status.STOPPED_UNREACHABLE, Status.STOPPED_CONNECTOR})
"""A run that ended so could not talk to its connector's server."""
_NOT_FAILURES = frozenset({Status.STOPPED_STAGING})
"""Stopped on purpose, by the configuration: staging mode exports nothing, by design."""
OK = "ok"


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str]
    """Each check and ``"ok"`` or why it failed."""

    def as_dict(self) -> dict[str, object]:
        return {"ready": self.ready, "checks": dict(self.checks)}


def readiness(
    connectors: Collection[str],
    last_runs: Mapping[str, RunReport],
    last_cycle: CycleReport | None,
) -> Readiness:
    """``last_runs``: each connector's latest run, whichever cycle ran it."""
    checks = {f"connector:{name}": _connected(last_runs.get(name)) for name in connectors}
    checks["store"] = _store(last_cycle)
    checks["last_cycle"] = _cycle(last_cycle)
    return Readiness(all(value == OK for value in checks.values()), checks)


def _connected(run: RunReport | None) -> str:
    if run is None:
        return "no run yet"
    if run.status in NOT_CONNECTED:
        return f"{run.profile.value} {run.status.value}: {run.message}".rstrip(": ")
    return OK


def _store(cycle: CycleReport | None) -> str:
    failed = [run for run in (cycle.runs if cycle else []) if run.status is Status.STOPPED_STORE]
    if failed:
        return f"{failed[0].connector} {failed[0].profile.value} {Status.STOPPED_STORE.value}"
    return OK


def _cycle(cycle: CycleReport | None) -> str:
    if cycle is None:
        return "no cycle has ended yet"
    stopped = [run for run in cycle.runs if run.status.stopped and run.status not in _NOT_FAILURES]
    if stopped:
        run = stopped[0]
        return f"{run.connector} {run.profile.value} {run.status.value}"
    if cycle.stopped:
        return Status.STOPPED_BY_REQUEST.value
    return OK
