"""The export run: pending changes to the connected directory, safely.

Order of safety checks: staging mode exports nothing; more staged deletes than the
threshold export nothing (unless the admin allows it for this run). Each batch is
marked in flight (committed) before it is sent and settled after, so a crash between
the two is resolved by reading the objects back, never by sending an add twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hybridsync.core.objects import CSObject, ObjectError
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    SupportsExport,
)
from hybridsync.core.runs import ErrorKind
from hybridsync.engine.context import EngineContext
from hybridsync.engine.faults import checkpoint
from hybridsync.engine.report import RunReport, Status
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
    store = context.store
    ids = store.cs_ids_to_export(name)
    size = max(1, connector.capabilities.export_batch_size)
    context.control.expect(report, len(ids))
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        objects = _settle_in_flight(context, connector, store.get_cs_many(batch), report)
        changes = [change_for(cs) for cs in objects]
        if not changes:
            context.control.committed(report, len(batch))
            continue
        with store.transaction():
            store.mark_in_flight([cs.cs_id for cs in objects])
        checkpoint()
        results = {result.change_id: result for result in connector.export(changes)}
        checkpoint()
        with store.transaction():
            errors = _settle(context, name, objects, changes, results, report)
            store.record_errors(report.run_id, errors)
        checkpoint()
        report.errors.extend(errors)
        context.control.committed(report, len(batch))


def check_deletion_threshold(context: EngineContext, name: str) -> None:
    store = context.store
    deletes = store.count_pending_deletes(name)
    settings = context.settings
    limits: list[float] = []
    if settings.deletion_threshold is not None:
        limits.append(settings.deletion_threshold)
    if settings.deletion_threshold_percent is not None:
        limits.append(store.count_cs(name) * settings.deletion_threshold_percent / 100)
    if limits and deletes > min(limits):
        raise RunStopped(
            Status.STOPPED_DELETION_THRESHOLD,
            f"connector {name!r}: {deletes} deletes are staged, more than the deletion threshold "
            f"({min(limits):g}); nothing was exported. Review them (hybridsync plan), then allow "
            "them once with --allow-deletes",
        )


def change_for(cs: CSObject) -> ExportChange:
    """The export change for one object: its pending export, and any unconfirmed values."""
    pending = cs.pending_export
    if pending is not None and pending.kind is ExportKind.DELETE:
        return ExportChange(cs.cs_id, ExportKind.DELETE, cs.anchor, cs.dn, cs.object_type)
    kind = ExportKind.ADD if cs.anchor is None else pending.kind if pending else ExportKind.UPDATE
    if pending is None:
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
    return ExportChange(cs.cs_id, kind, cs.anchor, dn, cs.object_type, changes)


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
            with context.store.transaction():
                context.store.put_cs(_applied(cs, change, applied))
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
        if change.kind is ExportKind.DELETE:
            store.delete_cs(cs.cs_id)
        else:
            exported.append(_applied(cs, change, result))
    store.put_exported(exported)
    return errors


def _applied(cs: CSObject, change: ExportChange, result: ExportResult) -> CSObject:
    unconfirmed = {**cs.unconfirmed, **result.written}
    unconfirmed.update(change.changes)  # (name, values) pairs: the values sent
    return cs.with_export_state(result.anchor or cs.anchor, change.dn, None, unconfirmed, False)
