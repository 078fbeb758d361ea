"""Full and delta import runs: connector data into the connector space.

A full import lands in a staging table first; the connector space changes only at the
end, in one transaction, after the import guard agreed. A first full import (an empty
connector space: nothing to compare with, nothing to guard) skips the table and writes
the objects directly, all in one transaction. A delta import is read whole
before any of it is applied, then applied page by page, each page with its watermark.
Either way a failed import changes nothing, and a source that suddenly looks empty is
refused, never turned into deletes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hybridsync.core.confirm import apply_import
from hybridsync.core.objects import CSObject, ObjectError, PendingImport
from hybridsync.core.plan import reads_targets
from hybridsync.core.ports import (
    ImportedObject,
    ImportKind,
    SupportsDeltaImport,
    SupportsFullImport,
    UnreadableRecord,
    attribute_hash,
)
from hybridsync.core.runs import ErrorKind
from hybridsync.core.storage_limits import storable_problem
from hybridsync.core.values import Values
from hybridsync.engine.context import EngineContext
from hybridsync.engine.faults import checkpoint
from hybridsync.engine.ids import new_id
from hybridsync.engine.membership import mark_members
from hybridsync.engine.references import follow_renames
from hybridsync.engine.report import RunReport, Status
from hybridsync.errors import ConfigError, RunStopped


def full_import(
    context: EngineContext, name: str, report: RunReport, *, allow_shrink: bool = False
) -> None:
    connector = context.connector(name)
    if not isinstance(connector, SupportsFullImport):
        raise ConfigError(f"connector {name!r} cannot run a full import")
    store = context.store
    if store.count_cs(name) == 0:
        _first_import(context, connector, name, report)
        return
    with store.transaction():
        store.clear_staging(name)
    context.control.expect(report, store.count_imported(name) or None)
    watermark: str | None = None
    unreadable: list[UnreadableRecord] = []
    refused: set[str] = set()
    for page in connector.full_import():
        with store.transaction():
            store.stage(name, _storable(context, name, page.objects, report, refused))
        checkpoint()
        watermark = page.watermark if page.watermark is not None else watermark
        unreadable.extend(page.unreadable)
        report.count("read", len(page.objects))
        context.control.committed(report, len(page.objects))
    held = _report_unreadable(context, name, unreadable, report)
    if held is not None:
        held |= refused  # their stored objects (if any) stay as they are
    current = store.count_imported(name)
    if not allow_shrink:
        _guard(context, name, current, current - len(store.cs_ids_not_staged(name)))
    with store.transaction():
        _apply_staging(context, name, report, held)
        _imported_whole(context, connector, name, watermark)
        store.clear_staging(name)
    checkpoint()


def _first_import(
    context: EngineContext, connector: SupportsFullImport, name: str, report: RunReport
) -> None:
    """A full import into an empty connector space: every object is an add. One
    transaction, so a failed or stopped import leaves the space as empty as it was."""
    store = context.store
    groups = context.membership_groups(name)
    watermark: str | None = None
    unreadable: list[UnreadableRecord] = []
    context.control.expect(report, None)
    with store.transaction():
        store.clear_staging(name)  # rows an interrupted import of another version left
        for page in connector.full_import():
            objects = _storable(context, name, page.objects, report, set())
            added = [_new(name, imported) for imported in objects]
            store.put_cs_many(added)
            _mark_members(context, name, groups, [(None, cs) for cs in added], report)
            watermark = page.watermark if page.watermark is not None else watermark
            unreadable.extend(page.unreadable)
            report.count("read", len(page.objects))
            report.count("added", len(added))
            context.control.committed(report, len(page.objects))
        _report_unreadable(context, name, unreadable, report)
        _imported_whole(context, connector, name, watermark)
    checkpoint()


def _imported_whole(
    context: EngineContext, connector: SupportsFullImport, name: str, watermark: str | None
) -> None:
    """Record a finished full import: its watermark, and the attribute list it read."""
    state = context.store.connector_state(name)
    context.store.put_connector_state(
        replace(
            state,
            watermark=watermark,
            attribute_hash=attribute_hash(connector),
            full_import_required=False,
        )
    )


def delta_import(
    context: EngineContext, name: str, report: RunReport, *, allow_shrink: bool = False
) -> None:
    connector = context.connector(name)
    store = context.store
    state = store.connector_state(name)
    if not isinstance(connector, SupportsDeltaImport) or state.watermark is None:
        report.notes.append("no import has completed yet, so a full import was run")
        full_import(context, name, report, allow_shrink=allow_shrink)
        return
    if state.full_import_required or state.attribute_hash != attribute_hash(connector):
        raise RunStopped(
            Status.STOPPED_FULL_IMPORT_REQUIRED,
            f"connector {name!r}: the attribute list changed since the last full import; "
            "run a full import",
        )
    # Adds and changes are stored page by page as they arrive; deletes wait until the
    # whole delta was read and the guard agreed, and land with the new watermark in one
    # transaction. Until then the old watermark stays, so a crash or a failure re-reads
    # the delta, and no delete ever comes from an import that did not finish.
    deletes: list[ImportedObject] = []
    watermark: str | None = None
    unreadable: list[UnreadableRecord] = []
    for page in connector.delta_import(state.watermark):
        changed = [obj for obj in page.objects if obj.kind is not ImportKind.DELETE]
        for obj in changed:
            if obj.changed_at is not None:
                context.change_times.imported(name, obj.anchor, obj.changed_at)
        kept = _storable(context, name, changed, report, set())
        deletes.extend(obj for obj in page.objects if obj.kind is ImportKind.DELETE)
        watermark = page.watermark if page.watermark is not None else watermark
        unreadable.extend(page.unreadable)
        with store.transaction():
            _apply_objects(context, name, kept, report)
        checkpoint()
        report.count("read", len(page.objects))
        context.control.committed(report, len(page.objects))
    held = _report_unreadable(context, name, unreadable, report)
    if held is not None and any(obj.anchor in held for obj in deletes):
        # The source could not carry these objects into its new watermark: keep the old
        # one, so their records are read (and reported) again by the next delta.
        watermark = None
    if held is None:
        report.notes.append(_NO_DELETES)
        deletes, watermark = [], None
    else:
        deletes = [obj for obj in deletes if obj.anchor not in held]
    if deletes and not allow_shrink:
        current = store.count_imported(name)
        _guard(context, name, current, current - _held(context, name, deletes))
    with store.transaction():
        _apply_objects(context, name, deletes, report)
        if watermark is not None:
            store.put_connector_state(replace(store.connector_state(name), watermark=watermark))
    checkpoint()


def import_one(
    context: EngineContext, name: str, imported: ImportedObject, report: RunReport
) -> None:
    """Store one object read now (sync on demand) as a delta import would; the watermark
    stays, so the next delta import reads the change again and finds nothing new."""
    kept = _storable(context, name, [imported], report, set())
    with context.store.transaction():
        _apply_objects(context, name, kept, report)
    report.count("read")


def _held(context: EngineContext, name: str, deletes: Sequence[ImportedObject]) -> int:
    """How many objects the deletes remove: a connector may report deletes of objects
    the connector space never held (AD's USN mode sees every tombstone in the domain)."""
    anchors = list({obj.anchor for obj in deletes})
    held = context.store.cs_by_anchors(name, anchors).values()
    return sum(1 for cs in held if cs.pending_import is not PendingImport.DELETE)


def _guard(context: EngineContext, name: str, current: int, remaining: int) -> None:
    settings = context.settings
    if current == 0:
        return
    if remaining <= 0:
        raise RunStopped(
            Status.STOPPED_IMPORT_REFUSED,
            f"connector {name!r}: the import returned none of the {current} objects the "
            "connector space holds; refused (nothing changed). Check the source, or allow it "
            "once with --allow-shrink",
        )
    floor = current * settings.import_guard_percent / 100
    if current >= settings.import_guard_min_objects and remaining < floor:
        raise RunStopped(
            Status.STOPPED_IMPORT_REFUSED,
            f"connector {name!r}: the import would leave {remaining} of {current} objects "
            f"(below {settings.import_guard_percent:g}%); refused (nothing changed). Allow it "
            "once with --allow-shrink",
        )


_NO_DELETES = (
    "a record whose DN and anchor could not be read may be any stored object: "
    "this import deleted nothing"
)


def _storable(
    context: EngineContext,
    name: str,
    objects: Sequence[ImportedObject],
    report: RunReport,
    refused: set[str],
) -> Sequence[ImportedObject]:
    """The objects the store can hold; each other one becomes an object error naming it
    and the attribute, its anchor is added to ``refused``, and its stored object (if
    any) stays as it is. Checked before the write, on every backend alike."""
    kept: list[ImportedObject] = []
    errors: list[ObjectError] = []
    for imported in objects:
        problem = storable_problem(imported.anchor, imported.dn, imported.object_type)
        if problem is None:
            kept.append(imported)
            continue
        attribute, reason = problem
        # An over-long DN or anchor is shortened in the error (the other one names it).
        dn = imported.dn if attribute != "dn" else f"{imported.dn[:200]}..."
        anchor = imported.anchor if attribute != "anchor" else None
        message = f"cannot be stored, the stored object is kept: {reason}"
        errors.append(ObjectError(name, dn, message, anchor, None, attribute, ErrorKind.IMPORT))
        refused.add(imported.anchor)
    if not errors:
        return objects
    with context.store.transaction():
        context.store.record_errors(report.run_id, errors)
    report.errors.extend(errors)
    report.count("refused", len(errors))
    return kept


def _report_unreadable(
    context: EngineContext, name: str, unreadable: Sequence[UnreadableRecord], report: RunReport
) -> set[str] | None:
    """Report each unreadable record as an object error; return the anchors whose stored
    objects stay as they are, or ``None`` when any stored object might be one of them."""
    held: set[str] = set()
    errors: list[ObjectError] = []
    unknown = False
    for record in unreadable:
        anchor = record.anchor
        if anchor is None and record.dn:
            found = context.store.cs_by_dn(name, record.dn)
            anchor = found.anchor if found is not None else None
        if anchor is not None:
            held.add(anchor)
        unknown = unknown or (not record.anchor and not record.dn)
        where = f"{record.dn} ({record.where})" if record.dn else record.where
        message = f"unreadable record, the stored object is kept: {record.message}"
        errors.append(ObjectError(name, where, message, anchor, kind=ErrorKind.IMPORT))
    if errors:
        with context.store.transaction():
            context.store.record_errors(report.run_id, errors)
        report.errors.extend(errors)
        report.count("unreadable", len(errors))
    return None if unknown else held


def _apply_staging(
    context: EngineContext, name: str, report: RunReport, held: set[str] | None
) -> None:
    store = context.store
    groups = context.membership_groups(name)
    reads = reads_targets(context.compiled.inbound(name))
    for chunk in store.staged_with_current(name, context.settings.batch_size):
        updated: list[CSObject] = []
        changes: list[tuple[CSObject | None, CSObject | None]] = []
        for imported, current in chunk:
            _merge_into(updated, changes, name, imported, current, report, reads)
        store.put_cs_many(updated)
        _mark_members(context, name, groups, changes, report)
    if held is None:
        report.notes.append(_NO_DELETES)
        return
    gone = [cs for cs in store.get_cs_many(store.cs_ids_not_staged(name)) if cs.anchor not in held]
    store.put_cs_many([_deleted(cs) for cs in gone])
    report.count("deleted", len(gone))
    _mark_members(context, name, groups, [(cs, None) for cs in gone], report)


def _mark_members(
    context: EngineContext,
    name: str,
    groups: frozenset[str],
    changes: list[tuple[CSObject | None, CSObject | None]],
    report: RunReport,
) -> None:
    """Members added to or removed from a group an ISMEMBEROF clause names get a pending
    import: their scope may change although they did not (see engine/membership.py)."""
    marked = mark_members(context.store, name, groups, changes)
    if marked:
        report.count("membership-changed", marked)


def _apply_objects(
    context: EngineContext, name: str, objects: Sequence[ImportedObject], report: RunReport
) -> None:
    store = context.store
    updated: list[CSObject] = []
    changes: list[tuple[CSObject | None, CSObject | None]] = []
    known = store.cs_by_anchors(name, [obj.anchor for obj in objects])
    reads = reads_targets(context.compiled.inbound(name))
    for imported in objects:
        current = known.get(imported.anchor)
        if current is None and imported.kind is not ImportKind.DELETE and imported.dn:
            current = _adoptable(store.cs_by_dn(name, imported.dn))
        if imported.kind is ImportKind.DELETE:
            if current is not None:
                updated.append(_deleted(current))
                changes.append((current, None))
                report.count("deleted")
            continue
        if imported.kind is ImportKind.UPDATE and (current is not None or imported.value_changes):
            stored = current.attributes if current is not None else {}
            object_type = imported.object_type or (current.object_type if current else "")
            merged = imported.updated(stored)
            imported = ImportedObject(imported.anchor, imported.dn, object_type, merged)
        _merge_into(updated, changes, name, imported, current, report, reads)
    store.put_cs_many(updated)
    _mark_members(context, name, context.membership_groups(name), changes, report)
    _follow_renames(context, name, changes, report)


def _follow_renames(
    context: EngineContext,
    name: str,
    changes: list[tuple[CSObject | None, CSObject | None]],
    report: RunReport,
) -> None:
    """References to the objects this import renamed or moved name their new DNs."""
    renames = {
        before.dn.lower(): after.dn
        for before, after in changes
        if before is not None and after is not None and before.dn != after.dn
    }
    references = context.references(name) if renames else frozenset()
    rewritten = follow_renames(context.store, name, references, renames) if references else 0
    if rewritten:
        report.count("references-renamed", rewritten)


def _merge_into(
    updated: list[CSObject],
    changes: list[tuple[CSObject | None, CSObject | None]],
    name: str,
    imported: ImportedObject,
    current: CSObject | None,
    report: RunReport,
    reads_targets: bool = False,
) -> None:
    """Add the imported record, merged with the stored object, to the batch to write (and
    to the changes group membership looks at); an unchanged object adds nothing."""
    result = _merge(name, imported, current)
    if result is not None and reads_targets and _first_confirmation(current, result):
        # The import confirms what an add wrote (no change to sync, as a rule): the
        # values only the directory gave it (a SID) are new to its metaverse object.
        result = replace(result, pending_import=PendingImport.UPDATE)
    if result is not None:
        updated.append(result)
        changes.append((current, result))
        report.count("added" if current is None else "updated")


def _first_confirmation(current: CSObject | None, result: CSObject) -> bool:
    return (
        current is not None
        and not current.attributes
        and bool(current.unconfirmed)
        and result.pending_import is PendingImport.NONE
    )


def _adoptable(cs: CSObject | None) -> CSObject | None:
    """An export object the directory created without our knowing its anchor."""
    return cs if cs is not None and cs.anchor is None else None


def _merge(name: str, imported: ImportedObject, current: CSObject | None) -> CSObject | None:
    if current is None:
        return _new(name, imported)
    attributes = _present(imported.attributes)
    return apply_import(current, imported.anchor, imported.dn, imported.object_type, attributes)


def _new(name: str, imported: ImportedObject) -> CSObject:
    """The connector-space object of an imported object the space does not hold."""
    attributes = _present(imported.attributes)
    return CSObject(
        new_id(),
        name,
        imported.anchor,
        imported.dn,
        imported.object_type,
        attributes,
        PendingImport.ADD,
    )


def _present(attributes: Mapping[str, Values]) -> Mapping[str, Values]:
    """The attributes that have values (an empty one is an absent one)."""
    if all(attributes.values()):
        return attributes
    return {k: v for k, v in attributes.items() if v}


def _deleted(cs: CSObject) -> CSObject:
    return replace(cs, pending_import=PendingImport.DELETE)
