"""The report each run and each cycle produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from hybridsync.core.objects import ObjectError
from hybridsync.core.runs import CycleKind, Profile, RunRecord, Status, run_dict

__all__ = ["CycleReport", "Profile", "RunReport", "Status"]


@dataclass(slots=True)
class RunReport:
    """What one run did: counts, per-object errors, notes, status."""

    connector: str
    profile: Profile
    run_id: str = ""
    status: Status = Status.SUCCESS
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[ObjectError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    started: str = ""
    ended: str | None = None
    change_latencies: list[float] = field(default_factory=list)
    """Of an export: seconds from each exported change's source change to its export's
    success (the changes whose source said when they were made)."""

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def record(self) -> RunRecord:
        """The run as the store keeps it."""
        return RunRecord(
            self.run_id,
            self.connector,
            self.profile,
            self.status,
            self.started,
            self.ended,
            self.counts,
            self.message,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            **run_dict(self.record(), self.errors),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class CycleReport:
    kind: CycleKind
    runs: list[RunReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: bool = False
    """A stop request ended the cycle before all its runs (a run may have ended first)."""

    @property
    def status(self) -> Status:
        statuses = [run.status for run in self.runs]
        if self.stopped:
            statuses.append(Status.STOPPED_BY_REQUEST)
        return min(statuses, key=lambda status: status.rank, default=Status.SUCCESS)

    def as_dict(self) -> dict[str, object]:
        return {
            "cycle": self.kind,
            "status": self.status,
            "notes": list(self.notes),
            "runs": [run.as_dict() for run in self.runs],
        }
