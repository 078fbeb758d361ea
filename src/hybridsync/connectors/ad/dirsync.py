"""Delta import with the DirSync control (LDAP_SERVER_DIRSYNC_OID).

DirSync returns, per changed object, only the changed attributes. How each is recorded:

- ``isDeleted`` TRUE (a tombstone), or a DN that changed to one outside the OU filter:
  DELETE (changes to objects that stay outside the scope are skipped);
- a DN change (``name`` or ``parentGUID`` present: add, rename, move, restore) inside the scope:
  the whole object is read again and recorded as REPLACE, because the connector space
  may not hold it yet (it moved in, or was restored);
- anything else: UPDATE with just the changed attributes (cleared ones as ``()``).
"""

from __future__ import annotations

from collections.abc import Iterator

from hybridsync.connectors.ad.connection import Connection, RawEntry
from hybridsync.connectors.ad.convert import plain_dn
from hybridsync.connectors.ad.errors import UnwillingError
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import OBJECT_FILTERS
from hybridsync.connectors.ad.watermark import FULL_IMPORT_NEEDED, DirSyncWatermark
from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.errors import FatalConnectorError

__all__ = ["current_watermark", "dirsync_changes"]

NOTHING = "(objectGUID=" + "\\00" * 16 + ")"
"""Matches no object (an indexed lookup of the null GUID): a DirSync with it returns only
a cookie for 'now', without the DC walking every object."""
# DirSync reports a rename or move only when ``name`` is requested (cn alone is not enough).
_DN_CHANGE_MARKERS = ("name", "parentGUID", "isDeleted", "objectClass")
_ALWAYS_RETURNED = frozenset({"objectguid", "instancetype", "parentguid", "name"})


def current_watermark(
    conn: Connection, domain_dn: str, object_types: tuple[str, ...]
) -> DirSyncWatermark:
    """A DirSync watermark for 'now', without reading any object."""
    cookie = b""
    for _, next_cookie in conn.dirsync(domain_dn, NOTHING, ["objectGUID"], b""):
        cookie = next_cookie
    return DirSyncWatermark(dict.fromkeys(object_types, cookie))


def _attributes(reader: Reader) -> list[str]:
    return [*reader.attributes, *(m for m in _DN_CHANGE_MARKERS if m not in reader.attributes)]


def _classify(
    reader: Reader, entry: RawEntry, object_type: str
) -> tuple[ImportedObject | None, bytes | None]:
    """(record, None) for a delete or update, (None, guid) when the object must be re-read."""
    dn, raw = entry
    moved = any(raw.get(marker) for marker in _DN_CHANGE_MARKERS)
    if raw.get("isDeleted") == [b"TRUE"]:
        return reader.deletion(entry, object_type), None
    if not reader.scope.contains(plain_dn(dn)):
        # Scope depends on the DN only: an object whose DN did not change was out of
        # scope before too, and the connector space never held it; neither did it hold
        # an object created since the last delta (DirSync returns objectClass only then).
        created = bool(raw.get("objectClass"))
        return (reader.deletion(entry, object_type) if moved and not created else None), None
    if moved:
        return None, raw["objectGUID"][0]
    changed = {k: v for k, v in raw.items() if k.lower() not in _ALWAYS_RETURNED}
    if not changed:
        return None, None  # only attributes we do not import changed
    return reader.record((dn, {**changed, "objectGUID": raw["objectGUID"]}), object_type,
                         ImportKind.UPDATE), None  # fmt: skip


def _round(reader: Reader, entries: list[RawEntry], object_type: str) -> list[ImportedObject]:
    records: list[ImportedObject] = []
    reread: list[bytes] = []
    for entry in entries:
        record, guid = _classify(reader, entry, object_type)
        if record is not None:
            records.append(record)
        if guid is not None:
            reread.append(guid)
    return records + reader.reread(reread, object_type)


def dirsync_changes(
    reader: Reader, watermark: DirSyncWatermark
) -> Iterator[tuple[list[ImportedObject], DirSyncWatermark]]:
    """Each DirSync round's records, with the watermark that ends it."""
    for object_type in reader.object_types:
        cookie = watermark.cookies.get(object_type)
        if cookie is None:
            raise FatalConnectorError(f"the watermark has no DirSync cookie for {object_type}s: "
                                      f"{FULL_IMPORT_NEEDED}")  # fmt: skip
        rounds = reader.conn.dirsync(
            reader.scope.domain_dn, OBJECT_FILTERS[object_type], _attributes(reader), cookie
        )
        try:
            for entries, cookie in rounds:
                watermark = watermark.with_cookie(object_type, cookie)
                yield _round(reader, entries, object_type), watermark
        except UnwillingError as exc:
            raise FatalConnectorError(
                f"the DC refused the stored DirSync cookie ({exc}): {FULL_IMPORT_NEEDED}"
            ) from exc
