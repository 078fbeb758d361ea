"""Writing objectGUID into an empty ms-DS-ConsistencyGuid, as Entra Connect does.

The value is added with an LDAP *add* of a single-valued attribute, so the server itself
refuses it when the attribute already holds a value: an existing sourceAnchor is never
overwritten, even by a concurrent writer.
"""

from __future__ import annotations

from hybridsync.connectors.ad.connection import Connection
from hybridsync.connectors.ad.convert import guid_dn
from hybridsync.connectors.ad.errors import ServerUnreachableError
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import object_type_of
from hybridsync.core.ports import (
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportedObject,
    ImportKind,
)
from hybridsync.errors import ConnectorError

__all__ = ["CONSISTENCY_GUID", "ConsistencyGuidWriter"]

CONSISTENCY_GUID = "mS-DS-ConsistencyGuid"


class ConsistencyGuidWriter:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _refuse(self, change: ExportChange, message: str) -> ExportResult:
        return ExportResult(change.change_id, ExportOutcome.REJECTED, change.anchor,
                            f"{change.dn}: {message}")  # fmt: skip

    def apply(self, change: ExportChange) -> ExportResult:
        names = {c.name.lower() for c in change.changes}
        if change.kind is not ExportKind.UPDATE or change.anchor is None:
            return self._refuse(change, "the AD connector only writes mS-DS-ConsistencyGuid")
        if names != {CONSISTENCY_GUID.lower()}:
            return self._refuse(
                change, f"only {CONSISTENCY_GUID} may be written, not {sorted(names)}"
            )
        value = change.changes[0].values
        if len(value) != 1 or not isinstance(value[0], bytes) or len(value[0]) != 16:
            return self._refuse(change, f"{CONSISTENCY_GUID} must be one 16-byte GUID value")
        try:
            self._conn.modify_add(guid_dn(change.anchor), CONSISTENCY_GUID, value[0])
        except ServerUnreachableError as exc:
            return ExportResult(change.change_id, ExportOutcome.UNKNOWN, change.anchor, str(exc))
        except ConnectorError as exc:
            if self._holds(change.anchor, value[0]):
                # Sent again before an import confirmed it (or after a crash): done already.
                return ExportResult(change.change_id, ExportOutcome.APPLIED, change.anchor)
            return self._refuse(change, f"{CONSISTENCY_GUID} not written: {exc}")
        return ExportResult(change.change_id, ExportOutcome.APPLIED, change.anchor)

    def _holds(self, anchor: str, value: bytes) -> bool:
        """Whether the object's ConsistencyGuid is already exactly ``value``."""
        try:
            entry = self._conn.read_entry(guid_dn(anchor), [CONSISTENCY_GUID])
        except ConnectorError:
            return False
        if entry is None:
            return False
        held = {name.lower(): values for name, values in entry[1].items()}
        return held.get(CONSISTENCY_GUID.lower()) == [value]

    def read_back(self, change: ExportChange, reader: Reader) -> ImportedObject | None:
        if change.anchor is None:
            return None
        entry = self._conn.read_entry(guid_dn(change.anchor), reader.attributes)
        if entry is None:
            return None
        object_type = object_type_of(entry[1].get("objectClass", [])) or change.object_type
        return reader.record(entry, object_type, ImportKind.PRESENT)
