"""When each object of a delta changed: AD's whenChanged, read for the changed objects.

DirSync returns changed attributes only, and whenChanged is not replicated, so it never
comes with them: one search by objectGUID per page of changes reads it (the attribute
is not in the inclusion list, so it never reaches the connector space). It has a
resolution of one second, and it is the DC's clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from hybridsync.connectors.ad.convert import anchor_of
from hybridsync.connectors.ad.reader import GUID_BATCH, Reader, guid_filter
from hybridsync.core.ports import ImportedObject, ImportKind

__all__ = ["with_change_times"]

_WHEN_CHANGED = "whenChanged"


def with_change_times(reader: Reader, records: Sequence[ImportedObject]) -> list[ImportedObject]:
    """The records, each added or changed one with its ``changed_at``."""
    wanted = [r.anchor for r in records if r.kind is not ImportKind.DELETE]
    if not wanted:
        return list(records)
    times = _when_changed(reader, wanted)
    return [
        replace(record, changed_at=times[record.anchor]) if record.anchor in times else record
        for record in records
    ]


def _when_changed(reader: Reader, anchors: list[str]) -> dict[str, float]:
    times: dict[str, float] = {}
    guids = [uuid.UUID(anchor).bytes_le for anchor in anchors]
    for start in range(0, len(guids), GUID_BATCH):
        filterstr = guid_filter(guids[start : start + GUID_BATCH])
        found = reader.conn.search_at_most(
            reader.scope.domain_dn, filterstr, ["objectGUID", _WHEN_CHANGED], GUID_BATCH
        )
        for _, raw in found:
            guid, stamp = raw.get("objectGUID"), raw.get(_WHEN_CHANGED)
            at = _generalized_time(stamp[0]) if stamp else None
            if guid and at is not None:
                times[anchor_of(guid[0])] = at
    return times


def _generalized_time(raw: bytes) -> float | None:
    """``20261207223455.0Z`` as Unix time; ``None`` for anything else."""
    try:
        text = raw.decode("ascii").split(".")[0].rstrip("Z")
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    except (UnicodeDecodeError, ValueError):
        return None
