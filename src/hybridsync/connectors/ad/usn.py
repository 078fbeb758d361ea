"""Delta import without DirSync: uSNChanged watermarks on one DC.

Used when the account lacks the right DirSync needs. Changed objects come back whole
(REPLACE); deletions are found in the Deleted Objects container, which the account must
be allowed to list (see docs/ad.md). The watermark is only valid on the DC database it
was read from (its invocationId); another DC or a restored one needs a full import.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog

from hybridsync.connectors.ad.convert import plain_dn
from hybridsync.connectors.ad.discovery import DomainInfo, read_usn_state
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import OBJECT_FILTERS
from hybridsync.connectors.ad.watermark import FULL_IMPORT_NEEDED, UsnWatermark
from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.errors import FatalConnectorError

__all__ = ["DELETIONS_HINT", "current_watermark", "usn_changes"]

log = structlog.get_logger(__name__)
DELETIONS_HINT = (
    "the account cannot list Deleted Objects, so delta imports miss deletions until the "
    "next full import; grant it List Contents and Read Property there (docs/ad.md)"
)


def current_watermark(reader: Reader, info: DomainInfo) -> UsnWatermark:
    state = read_usn_state(reader.conn, info.ds_service_name)
    return UsnWatermark(info.dns_host_name, state.invocation_id, state.highest_committed_usn)


def _changed(reader: Reader, object_type: str, since: int) -> Iterator[list[ImportedObject]]:
    filterstr = f"(&{OBJECT_FILTERS[object_type]}(uSNChanged>={since + 1}))"
    attributes = [*reader.attributes, "uSNCreated"]
    for page in reader.conn.resuming_search(reader.scope.domain_dn, filterstr, attributes):
        records = []
        for entry in page:
            if reader.scope.contains(plain_dn(entry[0])):
                records.append(reader.record(entry, object_type, ImportKind.REPLACE))
            elif int(entry[1].get("uSNCreated", [b"0"])[0]) <= since:
                # It may have left the scope. One created since the watermark was never
                # imported, so it is skipped rather than reported as a delete.
                records.append(reader.deletion(entry, object_type))
        yield [record for record in records if record is not None]


def _deleted(reader: Reader, since: int) -> Iterator[list[ImportedObject]]:
    base = f"CN=Deleted Objects,{reader.scope.domain_dn}"
    found = 0
    filterstr = f"(&(isDeleted=TRUE)(uSNChanged>={since + 1}))"
    for page in reader.conn.search_deleted(base, filterstr, ["objectGUID", "objectClass"]):
        records = []
        for entry in page:
            object_type = reader.typed(entry, "")
            if object_type in reader.object_types:
                records.append(reader.deletion(entry, object_type))
        found += len(page)
        yield [record for record in records if record is not None]
    if not found and not reader.conn.any_tombstone_visible(base):
        # Only a full import can notice these deletions (the engine removes what it no
        # longer reads); say so on every delta rather than pretend nothing was deleted.
        log.warning("ad.deletions_not_visible", container=base, hint=DELETIONS_HINT)


def usn_changes(
    reader: Reader, info: DomainInfo, watermark: UsnWatermark
) -> Iterator[tuple[list[ImportedObject], UsnWatermark | None]]:
    """Pages of changes since ``watermark``; only the last carries the new watermark."""
    now = current_watermark(reader, info)
    if now.invocation_id != watermark.invocation_id:
        raise FatalConnectorError(
            f"the USN watermark belongs to another DC database (invocationId "
            f"{watermark.invocation_id} on {watermark.server}, now {now.invocation_id} on "
            f"{now.server}): {FULL_IMPORT_NEEDED}"
        )
    for object_type in reader.object_types:
        for records in _changed(reader, object_type, watermark.usn):
            yield records, None
    for records in _deleted(reader, watermark.usn):
        yield records, None
    yield [], now
