"""Rows to objects and back, and the plain SQL text of the store's hottest statements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from hybridsync.core.objects import CSObject, ObjectError, PendingImport
from hybridsync.core.runs import ErrorKind, Profile, RunRecord, Status, error_dict, run_dict
from hybridsync.core.values import Values
from hybridsync.store.codec import dump_attributes, dump_pending, load_attributes, load_pending


def run_row(record: RunRecord) -> dict[str, Any]:
    fields = run_dict(record, errors=None)
    return {**fields, "counts": json.dumps(fields["counts"], sort_keys=True)}


def run_record(row: Row[Any]) -> RunRecord:
    return RunRecord(
        row.run_id,
        row.connector,
        Profile(row.profile),
        Status(row.status),
        row.started,
        row.ended,
        json.loads(row.counts),
        row.message,
    )


def error_row(run_id: str, error: ObjectError) -> dict[str, Any]:
    return {"run_id": run_id, "connector": error.connector, **error_dict(error)}


def object_error(row: Row[Any]) -> ObjectError:
    return ObjectError(
        row.connector, row.dn, row.message, row.anchor, row.rule, row.attribute, ErrorKind(row.kind)
    )


_ATTRIBUTE_TEXT: dict[int, tuple[object, str, bool]] = {}
"""id(attributes mapping read from the database) -> (the mapping, its JSON text, whether
it came from the connector space): an object written back with the very mapping it was
read with is not encoded again, nor (when it came from the connector space) re-indexed.
The entry keeps the mapping alive, so its id cannot be reused meanwhile.
Bounded: cleared when it grows past a few batches."""


def _cached_text(attributes: object) -> str | None:
    cached = _ATTRIBUTE_TEXT.get(id(attributes))
    if cached is not None and cached[0] is attributes:
        return cached[1]
    return None


def indexed_already(attributes: object) -> bool:
    cached = _ATTRIBUTE_TEXT.get(id(attributes))
    return cached is not None and cached[0] is attributes and cached[2]


def _attributes_text(cs: CSObject) -> str:
    return _cached_text(cs.attributes) or dump_attributes(cs.attributes)


def _remember_text(attributes: object, text: str, *, indexed: bool) -> None:
    if len(_ATTRIBUTE_TEXT) > 4_000:
        _ATTRIBUTE_TEXT.clear()
    _ATTRIBUTE_TEXT[id(attributes)] = (attributes, text, indexed)


def loaded(text: str) -> dict[str, Values]:
    """Staged attributes, remembered with their text (not indexed yet)."""
    attributes = load_attributes(text)
    _remember_text(attributes, text, indexed=False)
    return attributes


def cs_row(cs: CSObject) -> dict[str, Any]:
    return {
        "cs_id": cs.cs_id,
        "connector": cs.connector,
        "anchor": cs.anchor,
        "dn": cs.dn,
        "object_type": cs.object_type,
        "attributes": _attributes_text(cs),
        "pending_import": cs.pending_import.value,
        "mv_id": cs.mv_id,
        "joined_by": cs.joined_by,
        "keeps_mv": cs.keeps_mv,
        "pending_export": dump_pending(cs.pending_export),
        "unconfirmed": dump_attributes(cs.unconfirmed) if cs.unconfirmed else None,
        "export_in_flight": cs.export_in_flight,
        "to_export": bool(cs.pending_export or cs.unconfirmed or cs.export_in_flight),
    }


_CS_COLUMNS = (
    "cs_id", "connector", "anchor", "dn", "object_type", "attributes", "pending_import",
    "mv_id", "joined_by", "keeps_mv", "pending_export", "unconfirmed", "export_in_flight",
)  # fmt: skip
STAGED_WITH_CURRENT = (
    "SELECT s.anchor, s.dn, s.object_type, s.attributes, c.cs_id FROM import_staging s"
    " LEFT JOIN cs_objects c ON c.connector = s.connector AND c.anchor = s.anchor"
    " WHERE s.connector = {} AND s.anchor > {} ORDER BY s.anchor LIMIT {}"
)
PUT_EXPORTED = (
    "UPDATE cs_objects SET anchor = {}, dn = {}, pending_export = {}, unconfirmed = {},"
    " export_in_flight = {}, to_export = {} WHERE cs_id = {}"
)
MARK_IN_FLIGHT = "UPDATE cs_objects SET export_in_flight = {}, to_export = {} WHERE cs_id IN ({})"
PUT_LINKS = (
    "UPDATE cs_objects SET mv_id = {}, joined_by = {}, keeps_mv = {}, pending_import = {}"
    " WHERE cs_id = {}"
)
_PENDING_IMPORT = {kind.value: kind for kind in PendingImport}
CS_BY_IDS = f"SELECT {', '.join(_CS_COLUMNS)} FROM cs_objects WHERE cs_id IN ("


def cs_values(row: Sequence[Any]) -> CSObject:
    """A CS object from the values of :data:`_CS_COLUMNS`, in that order."""
    (cs_id, connector, anchor, dn, object_type, attributes_text, pending_import, mv_id,
     joined_by, keeps_mv, pending_export, unconfirmed, export_in_flight) = row  # fmt: skip
    attributes = load_attributes(attributes_text)
    _remember_text(attributes, attributes_text, indexed=True)
    return CSObject(
        cs_id,
        connector,
        anchor,
        dn,
        object_type,
        attributes,
        _PENDING_IMPORT[pending_import],
        mv_id,
        joined_by,
        bool(keeps_mv),
        load_pending(pending_export),
        load_attributes(unconfirmed),
        bool(export_in_flight),
    )


def cs_object(row: Row[Any]) -> CSObject:
    return cs_values(tuple(row._mapping[column] for column in _CS_COLUMNS))
