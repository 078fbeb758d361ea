"""What every kind of import shares: the attribute list, scoping, ranged values, records."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import structlog

from hybridsync.connectors.ad.connection import Connection, RawEntry
from hybridsync.connectors.ad.convert import Converter, MalformedAnchor, checked_anchor, plain_dn
from hybridsync.connectors.ad.scope import OBJECT_FILTERS, Scope, object_type_of
from hybridsync.core.ports import ImportedObject, ImportKind, UnreadableRecord

__all__ = ["Reader", "guid_filter"]

log = structlog.get_logger(__name__)
_RANGE = re.compile(r"^(?P<name>[^;]+);range=(?P<low>\d+)-(?P<high>\d+|\*)$", re.IGNORECASE)
GUID_BATCH = 100


def guid_filter(guids: Iterable[bytes]) -> str:
    """``(|(objectGUID=\\xx...)...)`` for an exact-match search by GUID."""
    terms = ["(objectGUID=" + "".join(f"\\{b:02x}" for b in guid) + ")" for guid in guids]
    return f"(|{''.join(terms)})"


@dataclass
class Reader:
    """Reads objects of the configured types in scope, as ``ImportedObject`` records."""

    conn: Connection
    scope: Scope
    attributes: tuple[str, ...]
    object_types: tuple[str, ...]
    _converter: Converter = field(init=False)
    _unreadable: list[UnreadableRecord] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._converter = Converter(self.attributes)

    # --- records -----------------------------------------------------------------------

    def record(self, entry: RawEntry, object_type: str, kind: ImportKind) -> ImportedObject | None:
        """The entry's record; ``None`` (and an unreadable record) when its anchor is bad."""
        try:
            return self._converter.record(entry[0], self._complete_ranges(entry), object_type, kind)
        except MalformedAnchor as bad:
            self._unreadable_entry(bad)
            return None

    def deletion(self, entry: RawEntry, object_type: str) -> ImportedObject | None:
        dn = plain_dn(entry[0])
        try:
            anchor = checked_anchor(dn, entry[1])
        except MalformedAnchor as bad:
            self._unreadable_entry(bad)
            return None
        return ImportedObject(anchor, dn, object_type, {}, ImportKind.DELETE)

    def take_unreadable(self) -> list[UnreadableRecord]:
        """The entries read since the last call that could not become records."""
        taken, self._unreadable = self._unreadable, []
        return taken

    def _unreadable_entry(self, bad: MalformedAnchor) -> None:
        log.warning("ad.malformed_anchor", dn=bad.dn, problem=bad.message)
        self._unreadable.append(UnreadableRecord("the directory's answer", bad.message, bad.dn))

    def _complete_ranges(self, entry: RawEntry) -> dict[str, list[bytes]]:
        """Fetch the rest of attributes AD returned in ranges (``member;range=0-1499``)."""
        dn, raw = entry
        ranged = [key for key in raw if ";" in key]
        if not ranged:
            return raw
        complete = dict(raw)
        for key in ranged:
            match = _RANGE.match(key)
            if match is None:
                continue
            name, values = match["name"], list(complete.pop(key))
            high = match["high"]
            while high != "*":
                following = self._next_range(dn, name, int(high) + 1)
                if following is None:
                    break
                high, more = following
                values.extend(more)
            complete[name] = values
        return complete

    def _next_range(self, dn: str, name: str, low: int) -> tuple[str, list[bytes]] | None:
        entry = self.conn.read_entry(plain_dn(dn), [f"{name};range={low}-*"])
        if entry is None:
            return None
        for key, values in entry[1].items():
            match = _RANGE.match(key)
            if match and match["name"].lower() == name.lower():
                return match["high"], values
        return None

    # --- searches ----------------------------------------------------------------------

    def full(self) -> Iterator[list[ImportedObject]]:
        """Every in-scope object of every type, one list per server page."""
        for object_type in self.object_types:
            for base in self.scope.bases():
                pages = self.conn.resuming_search(
                    base, OBJECT_FILTERS[object_type], self.attributes
                )
                # The search base already is an included OU: only exclusions need a look.
                check = self.scope.contains if self.scope.exclude else None
                for page in pages:
                    records = (
                        self.record(entry, object_type, ImportKind.PRESENT)
                        for entry in page
                        if check is None or check(plain_dn(entry[0]))
                    )
                    yield [record for record in records if record is not None]

    def reread(self, guids: list[bytes], object_type: str) -> list[ImportedObject]:
        """Whole objects by GUID, as REPLACE records (those gone meanwhile are skipped)."""
        records: list[ImportedObject] = []
        type_filter = OBJECT_FILTERS[object_type]
        for start in range(0, len(guids), GUID_BATCH):
            filterstr = f"(&{type_filter}{guid_filter(guids[start : start + GUID_BATCH])})"
            for page in self.conn.resuming_search(self.scope.domain_dn, filterstr, self.attributes):
                found = (self._in_scope_or_deleted(entry, object_type) for entry in page)
                records.extend(record for record in found if record is not None)
        return records

    def _in_scope_or_deleted(self, entry: RawEntry, object_type: str) -> ImportedObject | None:
        if self.scope.contains(plain_dn(entry[0])):
            return self.record(entry, object_type, ImportKind.REPLACE)
        return self.deletion(entry, object_type)

    def typed(self, entry: RawEntry, default: str) -> str:
        """The entry's type from its objectClass when present, else ``default``."""
        classes = entry[1].get("objectClass")
        return (object_type_of(classes) if classes else None) or default
