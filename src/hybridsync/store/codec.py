"""The store's columns as JSON text: attribute maps, lineage and pending exports.

Attribute maps use core's tagged form (``hybridsync.core.attribute_json``); lineage and
pending exports are written the same way, so one parser reads every column.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from hybridsync.core.attribute_json import (
    dump_attributes,
    dumps,
    load_attributes,
    tagged_attributes,
)
from hybridsync.core.objects import PendingExport
from hybridsync.core.ports import ExportKind
from hybridsync.core.values import Reference

__all__ = [
    "Reference",
    "dump_attributes",
    "dump_lineage",
    "dump_pending",
    "load_attributes",
    "load_lineage",
    "load_pending",
]


def dump_lineage(lineage: Mapping[str, str]) -> str:
    return dumps(dict(lineage), sort_keys=True)


def load_lineage(text: str) -> dict[str, str]:
    loaded: dict[str, str] = orjson.loads(text)
    return loaded


def dump_pending(pending: PendingExport | None) -> str | None:
    if pending is None:
        return None
    return dumps({"kind": pending.kind.value, "changes": dict(pending.changes)})


def load_pending(text: str | None) -> PendingExport | None:
    if not text:
        return None
    loaded = orjson.loads(text)
    tagged = '{"x":' in text or '{"r":' in text  # as written: JSON without spaces
    changes = tagged_attributes(loaded["changes"], tagged)
    return PendingExport(_EXPORT_KINDS[loaded["kind"]], changes)


_EXPORT_KINDS = {kind.value: kind for kind in ExportKind}
