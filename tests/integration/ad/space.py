"""A minimal connector space that applies import pages the way the engine's contract says.

Each page is one transaction: its records and its watermark are applied together. A
delta UPDATE for an object the space does not hold is a broken contract and fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hybridsync.core.ports import ImportedObject, ImportKind, ImportPage
from hybridsync.core.values import Values

View = dict[str, tuple[str, str, dict[str, tuple[str, ...]]]]


def _normal(values: Values) -> tuple[str, ...]:
    return tuple(sorted(v.hex() if isinstance(v, bytes) else str(v) for v in values))


@dataclass
class ConnectorSpace:
    objects: dict[str, ImportedObject] = field(default_factory=dict)
    watermark: str | None = None
    applied: list[ImportedObject] = field(default_factory=list)

    def full(self, pages: Iterable[ImportPage]) -> None:
        """A full import: the space becomes exactly what was read, once all was read."""
        staged: dict[str, ImportedObject] = {}
        watermark = None
        for page in pages:
            for record in page.objects:
                assert record.kind is ImportKind.PRESENT
                staged[record.anchor] = record
            watermark = page.watermark or watermark
        self.objects, self.watermark = staged, watermark

    def delta(self, pages: Iterable[ImportPage]) -> list[ImportedObject]:
        """Apply a delta import; return the records it delivered."""
        assert self.watermark is not None
        delivered = []
        for page in pages:
            for record in page.objects:
                self._apply(record)
            delivered.extend(page.objects)
            if page.watermark is not None:
                self.watermark = page.watermark
        self.applied.extend(delivered)
        return delivered

    def _apply(self, record: ImportedObject) -> None:
        if record.kind is ImportKind.DELETE:
            self.objects.pop(record.anchor, None)  # out-of-scope objects we never held
        elif record.kind is ImportKind.UPDATE:
            stored = self.objects.get(record.anchor)
            assert stored is not None, f"UPDATE for an object not in the space: {record.dn}"
            merged = {**stored.attributes, **record.attributes}
            merged = {k: v for k, v in merged.items() if v}
            self.objects[record.anchor] = ImportedObject(
                record.anchor, record.dn, stored.object_type, merged, ImportKind.PRESENT
            )
        else:
            self.objects[record.anchor] = ImportedObject(
                record.anchor, record.dn, record.object_type,
                {k: v for k, v in record.attributes.items() if v}, ImportKind.PRESENT,
            )  # fmt: skip

    def view(self) -> View:
        """Comparable content: DN, type and attribute values (order-free) per anchor."""
        return {
            anchor: (o.dn.lower(), o.object_type, {k: _normal(v) for k, v in o.attributes.items()})
            for anchor, o in self.objects.items()
        }

    def by_name(self, sam: str) -> ImportedObject:
        found = [o for o in self.objects.values() if o.attributes.get("sAMAccountName") == (sam,)]
        assert len(found) == 1, f"{sam}: {len(found)} objects"
        return found[0]
