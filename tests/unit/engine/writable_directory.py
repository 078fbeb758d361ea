"""An in-process AD stand-in that imports users and accepts the ConsistencyGuid write-back.

Like the AD connector, it writes ``mS-DS-ConsistencyGuid`` only into an empty value (an
LDAP add of a single-valued attribute) and refuses everything else; a delta import
returns the objects changed since the watermark, whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from hybridsync.core.ports import (
    Capabilities,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportedObject,
    ImportKind,
    ImportPage,
)
from hybridsync.core.values import AttributeValue

CONSISTENCY_GUID = "mS-DS-ConsistencyGuid"


@dataclass
class Entry:
    dn: str
    attributes: dict[str, tuple[AttributeValue, ...]]
    seq: int = 0


@dataclass
class WritableDirectory:
    name: str = "ad"
    write_back: bool = True
    entries: dict[str, Entry] = field(default_factory=dict)
    writes: list[ExportChange] = field(default_factory=list)
    seq: int = 0

    def add_user(self, sam: str, **attributes: AttributeValue) -> tuple[str, bytes]:
        """A user in OU=Staff; returns its anchor and objectGUID bytes."""
        guid = uuid.uuid5(uuid.NAMESPACE_DNS, sam)
        values: dict[str, tuple[AttributeValue, ...]] = {
            "objectClass": ("top", "person", "user"),
            "objectGUID": (guid.bytes_le,),
            "sAMAccountName": (sam,),
            "cn": (sam,),
            "userPrincipalName": (f"{sam}@contoso.com",),
            "userAccountControl": (512,),
        }
        values.update({k: (v,) for k, v in attributes.items()})
        self.seq += 1
        self.entries[str(guid)] = Entry(f"CN={sam},OU=Staff,DC=contoso,DC=com", values, self.seq)
        return str(guid), guid.bytes_le

    def value(self, anchor: str, attribute: str) -> tuple[AttributeValue, ...]:
        return self.entries[anchor].attributes.get(attribute, ())

    # the connector protocols -------------------------------------------------------------

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(delta_import=True, export=self.write_back, object_types=("user",),
                            multi_valued=frozenset({"objectClass"}))  # fmt: skip

    def parameters(self) -> Mapping[str, str]:
        return {"Domain.FQDN": "contoso.com", "Domain.Netbios": "CONTOSO"}

    def full_import(self) -> Iterator[ImportPage]:
        yield ImportPage(
            [self._imported(a, e, ImportKind.PRESENT) for a, e in self.entries.items()],
            str(self.seq),
        )

    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        since = int(watermark)
        changed = [
            self._imported(a, e, ImportKind.REPLACE)
            for a, e in self.entries.items()
            if e.seq > since
        ]
        yield ImportPage(changed, str(self.seq))

    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        for change in changes:
            self.writes.append(change)
            yield self._write(change)

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        entry = self.entries.get(change.anchor or "")
        return None if entry is None else self._imported(change.anchor or "", entry,
                                                         ImportKind.PRESENT)  # fmt: skip

    def _write(self, change: ExportChange) -> ExportResult:
        names = [c.name for c in change.changes]
        entry = self.entries.get(change.anchor or "")
        if change.kind is not ExportKind.UPDATE or entry is None or names != [CONSISTENCY_GUID]:
            message = f"only {CONSISTENCY_GUID} may be written, not {names}"
            return ExportResult(change.change_id, ExportOutcome.REJECTED, message=message)
        if entry.attributes.get(CONSISTENCY_GUID):
            return ExportResult(change.change_id, ExportOutcome.REJECTED,
                                message="attributeOrValueExists")  # fmt: skip
        entry.attributes[CONSISTENCY_GUID] = change.changes[0].values
        self.seq += 1
        entry.seq = self.seq
        return ExportResult(change.change_id, ExportOutcome.APPLIED, change.anchor)

    @staticmethod
    def _imported(anchor: str, entry: Entry, kind: ImportKind) -> ImportedObject:
        return ImportedObject(anchor, entry.dn, "user", dict(entry.attributes), kind)
