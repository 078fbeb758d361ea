"""The export run: pending changes to the connected directory, safely.

Order of safety checks: staging mode exports nothing; more staged deletes than the
threshold export nothing (unless the admin allows it for this run). Each batch is
marked in flight (committed) before it is sent and settled after, so a crash between
the two is resolved by reading the objects back, never by sending an add twice.

References are sent once the object they name exists in the target: never with an add
(the object is created first), and a held reference (``core/references.py``) only once
its object has an id. What cannot be sent yet stays pending; after the last batch the
objects left holding references are exported again, so a reference to an object created
in a later batch of the same run is sent in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hybridsync.core.objects import CSObject, ObjectError, PendingExport
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    SupportsExport,
)
from hybridsync.core.references import held_mv_id, holds_references, resolve_held
from hybridsync.core.runs import ErrorKind
from hybridsync.core.values import Reference, Values
from hybridsync.engine.context import EngineContext
from hybridsync.engine.faults import checkpoint
from hybridsync.engine.references import StoreReferences
from hybridsync.engine.report import Profile, RunReport, Status
from hybridsync.errors import ConfigError, RunStopped


def export(
    context: EngineContext, name: str, report: RunReport, *, allow_deletes: bool = False
) -> None:
    connector = context.connector(name)
    if not isinstance(connector, SupportsExport) or not connector.capabilities.export:
        raise ConfigError(f"connector {name!r} cannot export")
    if context.settings.staging_mode:
        raise RunStopped(Status.STOPPED_STAGING, "staging mode: nothing is exported")
    if not allow_deletes:
        check_deletion_threshold(context, name)
    ids = context.store.cs_ids_to_export(name)
    size = max(1, connector.capabilities.export_batch_size)
    context.control.expect(report, len(ids))
    holding: dict[str, int] = {}
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        holding.update(_export_batch(context, connector, name, batch, report))
        context.control.committed(report, len(batch))
    _export_held(context, connector, name, holding, report, size)


def export_objects(
    context: EngineContext,
    connector: SupportsExport,
    name: str,
    ids: list[str],
    report: RunReport,
    *,
    allow_deletes: bool = False,
) -> None:
    """Export these objects' pending changes only (sync on demand), with the safety
    checks of :func:`export`; the deletion threshold is checked when one is a delete."""
    if context.settings.staging_mode:
        raise RunStopped(Status.STOPPED_STAGING, "staging mode: nothing is exported")
    objects = context.store.get_cs_many(ids)
    deleting = any(cs.pending_export and cs.pending_export.kind is ExportKind.DELETE
                   for cs in objects)  # fmt: skip
    if deleting and not allow_deletes:
        check_deletion_threshold(context, name)
    size = max(1, context.connector(name).capabilities.export_batch_size)
    # Only the pending changes: values sent before and not yet confirmed by an import are
    # the next export's to send again, not part of this object's change.
    held = _export_batch(context, connector, name, ids, report, resend=False)
    _export_held(context, connector, name, held, report, size)


def _export_held(
    context: EngineContext,
    connector: SupportsExport,
    name: str,
    held: dict[str, int],
    report: RunReport,
    size: int,
) -> None:
    """Export again the objects left holding references, while that sends any: the
    objects they name may have been created by a later batch."""
    holding, before = sorted(held), sum(held.values())
    while holding:
        again: dict[str, int] = {}
        for start in range(0, len(holding), size):
            part = holding[start : start + size]
            again.update(_export_batch(context, connector, name, part, report, resend=False))
        left = sum(again.values())
        if left == 0 or left >= before:
            if left:
                report.count("held-back", len(again))
            return
        holding, before = sorted(again), left


def _export_batch(
    context: EngineContext,
    connector: SupportsExport,
    name: str,
    batch: list[str],
    report: RunReport,
    *,
    resend: bool = True,
) -> dict[str, int]:
    """Export one batch; returns the objects left holding references (id -> how many
    attributes). ``resend=False``: unconfirmed values are not sent again (a pass over
    held references: they were sent by this run)."""
    store = context.store
    objects = _settle_in_flight(context, connector, store.get_cs_many(batch), report)
    split = _Split(context, name, objects, resend)
    objects = [cs for cs in objects if split.changes[cs.cs_id] is not None]
    changes = [change for cs in objects if (change := split.changes[cs.cs_id]) is not None]
    if changes:
        with store.transaction():
            store.mark_in_flight([cs.cs_id for cs in objects])
        checkpoint()
        results = {result.change_id: result for result in connector.export(changes)}
        checkpoint()
        with store.transaction():
            errors = _settle(context, name, objects, changes, results, report, split.held)
            store.record_errors(report.run_id, errors)
        checkpoint()
        report.errors.extend(errors)
    return {cs_id: len(held) for cs_id, held in split.held.items()}


def _refers(change: ExportChange) -> bool:
    """Whether the change carries references (a directory types an attribute's values
    alike: the first one tells)."""
    return any(values and type(values[0]) is Reference for _, values in change.changes)


class _Split:
    """Each object's change as it can be sent now, and the references held back.

    ``changes``: ``None`` for an object with nothing to send yet (only held references).
    """

    def __init__(
        self, context: EngineContext, name: str, objects: Sequence[CSObject], resend: bool
    ) -> None:
        self.changes: dict[str, ExportChange | None] = {}
        self.held: dict[str, dict[str, Values]] = {}
        full = [(cs, change_for(cs, resend_unconfirmed=resend)) for cs in objects]
        referring = [(cs, change) for cs, change in full if _refers(change)]
        for cs, change in full:
            self.changes[cs.cs_id] = change
        if not referring:
            return  # the common case: no reference in the batch, nothing to look at
        references = StoreReferences(
            context.store, context.compiled.outbound_names, context.dn_referencing()
        )
        references.prefetch_targets(
            mv_id
            for _, change in referring
            for item in change.changes
            for value in item.values
            if (mv_id := held_mv_id(value)) is not None
        )
        for cs, change in referring:
            self.changes[cs.cs_id] = self._sendable(cs, change, name, references)

    def _sendable(
        self, cs: CSObject, change: ExportChange, name: str, references: StoreReferences
    ) -> ExportChange | None:
        if change.kind is ExportKind.DELETE:
            return change
        kept: list[AttributeChange] = []
        held: dict[str, Values] = {}
        for item in change.changes:
            values = item.values
            if holds_references(values):
                if change.kind is ExportKind.ADD:
                    # an add never carries references: the object they are set on comes first
                    held[item.name] = values
                    continue
                ready, complete = resolve_held(values, name, references)
                if not complete:
                    held[item.name] = values
                if not ready:
                    continue  # nothing to send yet (never a clear that only waits)
                values = ready
            kept.append(AttributeChange(item.name, values))
        if not held:
            if len(kept) == len(change.changes) and kept == list(change.changes):
                return change
            return replace(change, changes=tuple(kept))
        self.held[cs.cs_id] = held
        if change.kind is ExportKind.UPDATE and not kept and change.dn == cs.dn:
            return None  # nothing to send until the references can be
        return replace(change, changes=tuple(kept))


def check_deletion_threshold(context: EngineContext, name: str, *, coming: int = 0) -> None:
    """Stop when the staged deletes (and ``coming`` more, about to be staged) are over
    the threshold."""
    store = context.store
    deletes = store.count_pending_deletes(name) + coming
    if not deletes:
        return
    settings = context.settings
    limits: list[float] = []
    if settings.deletion_threshold is not None:
        limits.append(settings.deletion_threshold)
    if settings.deletion_threshold_percent is not None:
        limits.append(store.count_cs(name) * settings.deletion_threshold_percent / 100)
    recent = _recently_deleted(context, name)
    if limits and deletes + recent > min(limits):
        counted = f"{deletes} deletes are staged"
        if recent:
            minutes = (settings.deletion_window_seconds or 0) / 60
            counted += f" and {recent} were exported in the last {minutes:g} minutes"
        raise RunStopped(
            Status.STOPPED_DELETION_THRESHOLD,
            f"connector {name!r}: {counted}, more than the deletion threshold "
            f"({min(limits):g}); nothing was exported. Review them (hybridsync plan), then allow "
            "them once with --allow-deletes",
        )


def _recently_deleted(context: EngineContext, name: str) -> int:
    """Deletes the connector's exports sent within the deletion window (0 without one)."""
    window = context.settings.deletion_window_seconds
    if not window:
        return 0
    since = (datetime.now(UTC) - timedelta(seconds=window)).isoformat()
    runs = context.store.runs_since(name, Profile.EXPORT, since)
    return sum(run.counts.get(ExportKind.DELETE.value, 0) for run in runs)


def change_for(cs: CSObject, *, resend_unconfirmed: bool = True) -> ExportChange:
    """The export change for one object: its pending export, and any unconfirmed values
    (unless ``resend_unconfirmed`` is false)."""
    pending = cs.pending_export
    if pending is not None and pending.kind is ExportKind.DELETE:
        return ExportChange(cs.cs_id, ExportKind.DELETE, cs.anchor, cs.dn, cs.object_type)
    kind = ExportKind.ADD if cs.anchor is None else pending.kind if pending else ExportKind.UPDATE
    if not resend_unconfirmed and pending is not None:
        values = pending.changes
    elif pending is None:
        values = cs.unconfirmed
    elif cs.unconfirmed:
        values = {**cs.unconfirmed, **pending.changes}
    else:
        values = pending.changes  # the common case: nothing unconfirmed to send again
    dn_values = values.get("dn", ())
    dn = str(dn_values[0]) if dn_values else cs.dn
    names = sorted(values)
    if "dn" in values:
        names.remove("dn")  # the DN travels as the change's DN, never as an attribute
    changes = tuple(map(AttributeChange, names, map(values.__getitem__, names)))
    previous = _previous_references(cs, changes) if kind is ExportKind.UPDATE else {}
    return ExportChange(cs.cs_id, kind, cs.anchor, dn, cs.object_type, changes, previous)


def _previous_references(cs: CSObject, changes: tuple[AttributeChange, ...]) -> dict[str, Values]:
    """What the target holds of each changed reference attribute: the values last sent
    when no import confirmed them yet, else the values last imported (see
    ``ExportChange.previous``)."""
    previous: dict[str, Values] = {}
    for name, values in changes:
        sent = cs.unconfirmed.get(name)
        current = sent if sent is not None else cs.attributes.get(name, ())
        if holds_references(values) or holds_references(current):
            previous[name] = current
    return previous


def _settle_in_flight(
    context: EngineContext, connector: SupportsExport, objects: list[CSObject], report: RunReport
) -> list[CSObject]:
    """Resolve exports sent before a crash: read each back before sending again."""
    ready: list[CSObject] = []
    for cs in objects:
        if not cs.export_in_flight:
            ready.append(cs)
            continue
        change = change_for(cs)
        found = connector.read_back(change)
        report.count("read-back")
        if change.kind is ExportKind.DELETE and found is None:
            with context.store.transaction():
                context.store.delete_cs(cs.cs_id)
            continue
        if change.kind is ExportKind.ADD and found is not None:
            applied = ExportResult(cs.cs_id, ExportOutcome.APPLIED, anchor=found.anchor)
            held = {c.name: c.values for c in change.changes if holds_references(c.values)}
            sent = replace(change, changes=tuple(c for c in change.changes if c.name not in held))
            with context.store.transaction():
                context.store.put_cs(_applied(cs, sent, applied, held))
            continue
        ready.append(replace(cs, export_in_flight=False))
    return ready


def _settle(
    context: EngineContext,
    name: str,
    objects: Sequence[CSObject],
    changes: Sequence[ExportChange],
    results: dict[str, ExportResult],
    report: RunReport,
    held: dict[str, dict[str, Values]],
) -> list[ObjectError]:
    store = context.store
    errors: list[ObjectError] = []
    exported: list[CSObject] = []
    by_id = {change.change_id: change for change in changes}
    for cs in objects:
        change = by_id[cs.cs_id]
        result = results.get(cs.cs_id)
        if result is None or result.outcome is ExportOutcome.UNKNOWN:
            report.count("unknown")
            continue  # stays in flight: the next export reads it back first
        if result.outcome is ExportOutcome.REJECTED:
            exported.append(replace(cs, export_in_flight=False))
            errors.append(
                ObjectError(
                    name, cs.dn, result.message or "rejected", cs.anchor, kind=ErrorKind.EXPORT
                )
            )
            report.count("rejected")
            continue
        report.count(change.kind.value)
        latency = context.change_times.exported(cs.mv_id)
        if latency is not None:
            report.change_latencies.append(latency)
        if change.kind is ExportKind.DELETE:
            store.delete_cs(cs.cs_id)
        else:
            exported.append(_applied(cs, change, result, held.get(cs.cs_id)))
    store.put_exported(exported)
    return errors


def _applied(
    cs: CSObject,
    change: ExportChange,
    result: ExportResult,
    held: dict[str, Values] | None = None,
) -> CSObject:
    """The object once ``change`` is applied; the references held back stay pending."""
    unconfirmed = {**cs.unconfirmed, **result.written}
    unconfirmed.update(change.changes)  # (name, values) pairs: the values sent
    pending = PendingExport(ExportKind.UPDATE, held) if held else None
    anchor = result.anchor or cs.anchor
    return cs.with_export_state(anchor, change.dn, pending, unconfirmed, False)
