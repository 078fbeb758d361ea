"""The Engine: runs profiles and cycles, records each run, turns failures into statuses."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hybridsync.core.ports import AnnouncesWaits, attribute_hash
from hybridsync.core.runs import CycleKind
from hybridsync.engine.collection import fewer_collections
from hybridsync.engine.context import EngineContext
from hybridsync.engine.export import export
from hybridsync.engine.imports import delta_import, full_import
from hybridsync.engine.plan import make_plan, unjoined_synced
from hybridsync.engine.preview import preview
from hybridsync.engine.report import CycleReport, Profile, RunReport, Status
from hybridsync.engine.sync import synchronize
from hybridsync.errors import (
    FatalConnectorError,
    RunStopped,
    StoreError,
    TransientConnectorError,
    UnreachableError,
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Engine:
    """Runs profiles over the ports: connectors and store are given, never imported."""

    def __init__(self, context: EngineContext) -> None:
        self.context = context

    def run(
        self,
        connector: str,
        profile: Profile,
        *,
        allow_deletes: bool = False,
        allow_shrink: bool = False,
        work: Callable[[RunReport], None] | None = None,
    ) -> RunReport:
        """Run a profile, recorded in the history; ``work`` does the run's work instead
        of the profile's own (sync on demand runs a profile on one object)."""
        self.context.connector(connector)
        report = RunReport(connector, profile, run_id=str(uuid.uuid4()), started=_now())
        store = self.context.store
        with store.transaction():
            store.start_run(replace(report.record(), status=Status.IN_PROGRESS))
        started = time.perf_counter()
        self.context.control.begin(report)
        try:
            with fewer_collections(), self._waits_announced(connector, report):
                if work is not None:
                    work(report)
                else:
                    self._dispatch(connector, profile, report, allow_deletes, allow_shrink)
        except RunStopped as exc:
            report.status, report.message = Status(exc.status), str(exc)
        except UnreachableError as exc:
            report.status, report.message = Status.STOPPED_UNREACHABLE, str(exc)
        except (FatalConnectorError, TransientConnectorError) as exc:
            report.status, report.message = Status.STOPPED_CONNECTOR, str(exc)
        except StoreError as exc:
            report.status, report.message = Status.STOPPED_STORE, str(exc)
        else:
            report.status = _completed_status(report)
        report.seconds = time.perf_counter() - started
        self._finish(report)
        self.context.control.end(report)
        return report

    @contextmanager
    def _waits_announced(self, name: str, report: RunReport) -> Iterator[None]:
        """While the run lasts, its connector's retry waits reach the progress callback."""
        connector = self.context.connector(name)
        if not isinstance(connector, AnnouncesWaits):
            yield
            return
        connector.announce_waits(self.context.control.waits_of(report))
        try:
            yield
        finally:
            connector.announce_waits(None)

    def _finish(self, report: RunReport) -> None:
        """Record how the run ended; after a store failure, if the store can (the run
        stays ``in-progress`` in the history when it cannot, and the report says so)."""
        store = self.context.store
        report.ended = _now()
        try:
            with store.transaction():
                store.finish_run(report.record())
        except StoreError as exc:
            if report.status != Status.STOPPED_STORE:
                raise
            report.notes.append(f"the run's end could not be recorded: {exc}")

    def _dispatch(
        self,
        connector: str,
        profile: Profile,
        report: RunReport,
        allow_deletes: bool,
        allow_shrink: bool,
    ) -> None:
        context = self.context
        if profile is Profile.FULL_IMPORT:
            full_import(context, connector, report, allow_shrink=allow_shrink)
        elif profile is Profile.DELTA_IMPORT:
            delta_import(context, connector, report, allow_shrink=allow_shrink)
        elif profile is Profile.FULL_SYNC:
            synchronize(context, connector, report, full=True)
        elif profile is Profile.DELTA_SYNC:
            synchronize(context, connector, report, full=False)
        else:
            export(context, connector, report, allow_deletes=allow_deletes)

    def preview(self, connector: str, key: str) -> dict[str, Any]:
        """What a sync would do to one object (by DN or anchor); writes nothing."""
        return preview(self.context, connector, key)

    def sync_object(
        self,
        connector: str,
        key: str,
        *,
        allow_deletes: bool = False,
        on_run: Callable[[RunReport], None] | None = None,
    ) -> dict[str, Any]:
        """Sync one object now, by DN, UPN or anchor, through every step; the step report
        (see ``engine.on_demand``)."""
        from hybridsync.engine.on_demand import sync_object

        return sync_object(self, connector, key, allow_deletes=allow_deletes, on_run=on_run)

    def plan(self) -> dict[str, Any]:
        """Every pending export, with per-attribute before and after, and a fingerprint."""
        return make_plan(self.context)

    def unjoined(self) -> list[dict[str, Any]]:
        """Target objects a directory synchronization wrote that no source object joins."""
        return unjoined_synced(self.context)

    def apply(self, saved: dict[str, Any], *, allow_deletes: bool = False) -> CycleReport:
        """Export exactly a saved plan; refuse it when the pending exports changed since."""
        cycle = CycleReport(CycleKind.APPLY)
        current = make_plan(self.context)
        if current["fingerprint"] != saved.get("fingerprint"):
            report = RunReport("*", Profile.EXPORT, status=Status.STOPPED_PLAN_MISMATCH)
            report.message = (
                "the pending exports changed since the plan was made; nothing was exported. "
                "Make a new plan and review it"
            )
            cycle.runs.append(report)
            return cycle
        for name in self.context.targets():
            cycle.runs.append(self.run(name, Profile.EXPORT, allow_deletes=allow_deletes))
        return cycle

    def cycle(
        self,
        kind: str,
        *,
        allow_deletes: bool = False,
        allow_shrink: bool = False,
        export: bool = True,
        only: Collection[str] | None = None,
    ) -> CycleReport:
        """Entra Connect's order: import sources, import targets, sync sources, sync
        targets, export targets. ``initial`` uses full runs, ``delta`` delta runs; a
        delta cycle upgrades a connector to a full run when its rules or attribute list
        changed, and says so. A stopped import skips that connector's sync.

        ``only`` names the connectors to import and sync (the sources a change was
        announced in); every target is still exported."""
        cycle = CycleReport(_cycle_kind(kind))
        context = self.context
        context.change_times.clear()  # the times a cycle carries are its own
        order = [name for name in context.run_order() if only is None or name in only]
        failed: set[str] = set()
        for name in order:
            if self._stopping(cycle):
                return cycle
            profile = self._import_profile(cycle.kind, name, cycle)
            report = self.run(name, profile, allow_shrink=allow_shrink)
            cycle.runs.append(report)
            if report.status.stopped:
                failed.add(name)
        for name in order:
            if self._stopping(cycle):
                return cycle
            if name in failed:
                cycle.notes.append(f"{name}: sync skipped because its import stopped")
                continue
            cycle.runs.append(self.run(name, self._sync_profile(cycle.kind, name, cycle)))
        for name in context.targets() if export else ():
            if self._stopping(cycle):
                return cycle
            if context.settings.staging_mode:
                cycle.notes.append(f"{name}: staging mode, export skipped")
                continue
            if name in failed:  # what the target holds now is unknown: export nothing
                cycle.notes.append(f"{name}: export skipped because its import stopped")
                continue
            cycle.runs.append(self.run(name, Profile.EXPORT, allow_deletes=allow_deletes))
        return cycle

    def _stopping(self, cycle: CycleReport) -> bool:
        """A stop was requested, or the store failed: the cycle starts no further run
        (the next cycle does)."""
        if cycle.runs and cycle.runs[-1].status == Status.STOPPED_STORE:
            cycle.notes.append("the store failed: the next cycle runs the rest")
            return True
        if not self.context.control.stopping:
            return False
        cycle.stopped = True
        cycle.notes.append("stopped by request: the next cycle runs the rest")
        return True

    def _import_profile(self, kind: CycleKind, name: str, cycle: CycleReport) -> Profile:
        if kind is CycleKind.INITIAL:
            return Profile.FULL_IMPORT
        state = self.context.store.connector_state(name)
        connector = self.context.connector(name)
        current = attribute_hash(connector)
        if state.watermark is not None and (
            state.full_import_required or state.attribute_hash != current
        ):
            cycle.notes.append(
                f"{name}: the attribute list changed, a full import is required and was run"
            )
            return Profile.FULL_IMPORT
        return Profile.DELTA_IMPORT

    def _sync_profile(self, kind: CycleKind, name: str, cycle: CycleReport) -> Profile:
        if kind is CycleKind.INITIAL:
            return Profile.FULL_SYNC
        state = self.context.store.connector_state(name)
        if not state.rules_hash:  # a fresh store, or every full sync so far was cut short
            cycle.notes.append(f"{name}: no full sync has completed yet, so one was run")
            return Profile.FULL_SYNC
        if state.full_sync_required or state.rules_hash != self.context.rules.content_hash:
            cycle.notes.append(
                f"{name}: the sync rules changed, a full sync is required and was run"
            )
            return Profile.FULL_SYNC
        return Profile.DELTA_SYNC


def _cycle_kind(kind: str) -> CycleKind:
    """The cycle asked for: ``initial`` or ``delta`` (``apply`` is :meth:`Engine.apply`)."""
    if kind in (CycleKind.INITIAL, CycleKind.DELTA):
        return CycleKind(kind)
    raise ValueError(f"unknown cycle {kind!r}: use 'initial' or 'delta'")


def _completed_status(report: RunReport) -> Status:
    if not report.errors:
        return Status.SUCCESS
    if report.profile is Profile.EXPORT:
        return Status.COMPLETED_EXPORT_ERRORS
    return Status.COMPLETED_ERRORS
