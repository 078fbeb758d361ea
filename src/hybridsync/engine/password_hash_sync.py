"""The password hash sync runner: its own schedule, apart from the object cycle.

Each run (``PasswordHashSync.run_once``):

1. loads its state (watermark, synced and pending users) from the store,
2. computes the target users from the connector spaces and metaverse
   (:func:`~hybridsync.core.password_hash_sync.targets.password_sync_targets`),
3. asks the AD connector's :class:`PasswordChangeFeed` what changed since the watermark
   (every user on a first run) and plans with ``plan_password_sync``,
4. reads the NT hashes over MS-DRSR (:class:`NTHashSource`), derives the PBKDF2 hash of
   each, forgets the NT hash, and uploads the wire text (:class:`PasswordHashTarget`),
5. stores ``record_outcome``'s state in one step.

A crash before step 5 repeats the run; uploading a hash twice is harmless. Staging mode
reads and uploads nothing. The engine reaches connectors and the store only through the
Protocols declared in ``core``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import structlog

from hybridsync.core.password_hash_sync.changes import (
    NTHashRead,
    NTHashSource,
    PasswordChangeFeed,
    PasswordSyncPlan,
    plan_password_sync,
    record_outcome,
)
from hybridsync.core.password_hash_sync.hashes import derive_password_hash
from hybridsync.core.password_hash_sync.targets import (
    HashUpload,
    PasswordHashTarget,
    PasswordSyncStateStore,
    password_sync_targets,
)
from hybridsync.core.rules import RuleSet
from hybridsync.core.runs import Status
from hybridsync.core.storage import Store
from hybridsync.engine.membership import GroupMembership
from hybridsync.errors import HybridsyncError

__all__ = ["DEFAULT_INTERVAL_SECONDS", "PasswordHashSync", "PasswordSyncReport", "run_forever"]

log = structlog.get_logger(__name__)
DEFAULT_INTERVAL_SECONDS = 120.0
UPLOAD_CHUNK = 100


@dataclass(slots=True)
class PasswordSyncReport:
    """What one PHS run did (no secret in it)."""

    connector: str
    status: Status = Status.SUCCESS
    synced: int = 0
    unchanged: int = 0
    targets: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(anchor, message) for users that could not be read or uploaded; retried next run."""

    def as_dict(self) -> dict[str, object]:
        return {
            "connector": self.connector,
            "status": self.status,
            "synced": self.synced,
            "unchanged": self.unchanged,
            "targets": self.targets,
            "errors": [{"anchor": a, "message": m} for a, m in self.errors],
        }


@dataclass(slots=True)
class PasswordHashSync:
    """Drives PHS for one AD connector into one cloud connector."""

    source: str
    target: str
    rules: RuleSet
    store: Store
    state_store: PasswordSyncStateStore
    feed: PasswordChangeFeed
    hashes: NTHashSource
    upload: PasswordHashTarget
    staging_mode: bool = False

    def targets(self) -> dict[str, str]:
        """AD anchor -> cloud user id of every user whose hash is synced."""
        objects = self.store.get_cs_many(self.store.cs_ids(self.source))
        mv_ids = sorted({cs.mv_id for cs in objects if cs.mv_id is not None})
        return password_sync_targets(
            self.rules,
            self.source,
            self.target,
            objects,
            self.store.get_mv_many(mv_ids),
            self.store.cs_linked_to_many(mv_ids),
            GroupMembership(self.store).member_of,
        )

    def run_once(self) -> PasswordSyncReport:
        report = PasswordSyncReport(self.source)
        if self.staging_mode:
            report.status = Status.STOPPED_STAGING
            log.info("phs.run.skipped", connector=self.source, reason="staging mode")
            return report
        state = self.state_store.load_password_sync_state(self.source)
        targets = self.targets()
        plan = plan_password_sync(state, self.feed.password_changes(state.watermark), targets)
        report.targets, report.unchanged = len(targets), plan.unchanged
        succeeded = self._sync(plan, targets, report)
        self.state_store.save_password_sync_state(
            self.source, record_outcome(state, plan, succeeded)
        )
        report.synced = len(succeeded)
        if report.errors:
            report.status = Status.COMPLETED_PASSWORD_ERRORS
        log.info(
            "phs.run.done",
            connector=self.source,
            status=report.status,
            synced=report.synced,
            errors=len(report.errors),
            targets=report.targets,
        )
        return report

    def _sync(
        self, plan: PasswordSyncPlan, targets: dict[str, str], report: PasswordSyncReport
    ) -> set[str]:
        for anchor, reason in plan.skipped:
            report.errors.append((anchor, reason))
        anchors = [change.anchor for change in plan.to_sync]
        if not anchors:
            return set()
        succeeded: set[str] = set()
        for chunk in _chunks(self._derived(self.hashes.read_nt_hashes(anchors), targets, report)):
            for result in self.upload.upload_password_hashes(chunk):
                if result.stored:
                    succeeded.add(result.anchor)
                else:
                    report.errors.append((result.anchor, result.error))
                    log.warning("phs.upload.refused", anchor=result.anchor, error=result.error)
        return succeeded

    @staticmethod
    def _derived(
        reads: Iterable[NTHashRead], targets: dict[str, str], report: PasswordSyncReport
    ) -> Iterator[HashUpload]:
        for read in reads:
            if read.nt_hash is None:
                report.errors.append((read.anchor, read.error))
                log.warning("phs.hash.unreadable", anchor=read.anchor, error=read.error)
                continue
            wire = derive_password_hash(read.nt_hash).to_wire()
            yield HashUpload(read.anchor, targets[read.anchor], wire)


def _chunks(uploads: Iterable[HashUpload]) -> Iterator[list[HashUpload]]:
    chunk: list[HashUpload] = []
    for upload in uploads:
        chunk.append(upload)
        if len(chunk) == UPLOAD_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_forever(
    run: Callable[[], PasswordSyncReport],
    *,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    stop: threading.Event | None = None,
    on_error: Callable[[HybridsyncError], None] | None = None,
) -> None:
    """Run PHS every ``interval_seconds`` until ``stop`` is set.

    A failed run (DC or cloud unreachable) is logged and retried at the next interval;
    its state was not saved, so nothing is lost.
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            run()
        except HybridsyncError as exc:  # a DC or cloud outage ends a run, not the schedule
            log.error("phs.run.failed", error=str(exc), error_type=type(exc).__name__)
            if on_error is not None:
                on_error(exc)
        stop.wait(interval_seconds)
