"""Sync on demand's export step: what was sent for the object, the target's answer and
its id for it, and the confirmation read back from the target."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from hybridsync.core.objects import CSObject
from hybridsync.core.ports import (
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportedObject,
    SupportsExport,
)
from hybridsync.engine.context import EngineContext
from hybridsync.engine.export import change_for
from hybridsync.engine.preview import show_values
from hybridsync.engine.report import RunReport
from hybridsync.errors import HybridsyncError

__all__ = ["Recorder", "sent", "staged"]


class Recorder:
    """An export connector that remembers what was sent and answered."""

    def __init__(self, connector: SupportsExport) -> None:
        self.connector = connector
        self.sent: list[ExportChange] = []
        self.results: dict[str, ExportResult] = {}

    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        self.sent.extend(changes)
        for result in self.connector.export(changes):
            self.results[result.change_id] = result
            yield result

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        return self.connector.read_back(change)


def staged(target: str, cs: CSObject) -> dict[str, Any]:
    change = change_for(cs, resend_unconfirmed=False)  # as export_objects sends it
    return {
        **_change_dict(target, change),
        "outcome": "not sent (staging mode)",
        "target_id": cs.anchor,
        "confirmed": None,
    }


def sent(
    target: str, recorder: Recorder, run: RunReport, context: EngineContext
) -> list[dict[str, Any]]:
    if not recorder.sent:
        answer = run.message or "nothing was sent"
        return [{"target": target, "action": None, "attributes": {}, "outcome": "not sent",
                 "message": answer, "target_id": None, "confirmed": None}]  # fmt: skip
    shown: list[dict[str, Any]] = []
    for change in recorder.sent:
        result = recorder.results.get(change.change_id)
        entry = _change_dict(target, change)
        entry.update(_answer(change, result, context, target))
        entry["confirmed"], entry["confirmation"] = _confirm(recorder, change, result)
        shown.append(entry)
    return shown


def _change_dict(target: str, change: ExportChange) -> dict[str, Any]:
    return {
        "target": target,
        "action": change.kind.value,
        "dn": change.dn,
        "attributes": {c.name: show_values(c.values) for c in change.changes},
    }


def _answer(
    change: ExportChange, result: ExportResult | None, context: EngineContext, target: str
) -> dict[str, Any]:
    if result is None or result.outcome is ExportOutcome.UNKNOWN:
        message = result.message if result else "no answer"
        return {"outcome": "unknown", "message": message, "target_id": change.anchor}
    if result.outcome is ExportOutcome.REJECTED:
        return {"outcome": "rejected", "message": result.message, "target_id": change.anchor}
    stored = context.store.get_cs_many([change.change_id])
    target_id = result.anchor or change.anchor or (stored[0].anchor if stored else None)
    return {"outcome": "ok", "message": "", "target_id": target_id}


def _confirm(
    recorder: Recorder, change: ExportChange, result: ExportResult | None
) -> tuple[bool | None, str]:
    """Read the object back from the target: there after an add or update, gone after
    a delete."""
    if result is None or result.outcome is not ExportOutcome.APPLIED:
        return None, "not confirmed: the change was not applied"
    confirmable = change if result.anchor is None else _with_anchor(change, result.anchor)
    try:
        found = recorder.read_back(confirmable)
    except HybridsyncError as exc:
        return None, f"not confirmed: reading it back failed: {exc}"
    if change.kind is ExportKind.DELETE:
        return found is None, "gone from the target" if found is None else "still in the target"
    if found is None:
        return False, "not found in the target when read back"
    return True, f"read back from the target (id {found.anchor})"


def _with_anchor(change: ExportChange, anchor: str) -> ExportChange:
    """An add, once applied, is read back as the update of the object it created."""
    if change.kind is not ExportKind.ADD:
        return change
    return ExportChange(change.change_id, ExportKind.UPDATE, anchor, change.dn,
                        change.object_type, change.changes)  # fmt: skip
