"""LdifSource: full import of an LDIF file, and a delta against the previous file.

The delta watermark is the map anchor -> fingerprint of the previous file, so the
connector keeps no state of its own: the engine stores the watermark with the data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import orjson

from hybridsync.connectors.ldif.blocks import raw_blocks
from hybridsync.connectors.ldif.config import LdifConfig
from hybridsync.connectors.ldif.convert import (
    MULTI_VALUED,
    REFERENCES,
    anchor_of,
    anchor_problem,
    object_type,
    to_imported,
)
from hybridsync.connectors.ldif.parser import LdifRecord, LdifSyntaxError, parse_block
from hybridsync.core.ports import (
    Capabilities,
    ImportedObject,
    ImportKind,
    ImportPage,
    UnreadableRecord,
)
from hybridsync.errors import FatalConnectorError, os_error_reason


class LdifSource:
    """A source connector over one LDIF file (full and delta import, read one object)."""

    def __init__(self, config: LdifConfig) -> None:
        self._config = config
        self._wanted = {kind.lower() for kind in config.object_types}
        self.skipped: list[str] = []
        """Entries left out, each with the reason (no anchor)."""

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            full_import=True, delta_import=True, export=False,
            object_types=self._config.object_types, multi_valued=MULTI_VALUED,
            references=REFERENCES,
        )  # fmt: skip

    @property
    def attribute_list(self) -> tuple[str, ...] | None:
        return self._config.attributes

    def parameters(self) -> Mapping[str, str]:
        fqdn = self._config.domain_fqdn or self._derived_fqdn()
        netbios = self._config.domain_netbios or (fqdn.split(".")[0].upper() if fqdn else "")
        return {"Domain.FQDN": fqdn, "Domain.Netbios": netbios, "Domain.NetBios": netbios}

    def full_import(self) -> Iterator[ImportPage]:
        blocks: dict[str, str] = {}
        page: list[ImportedObject] = []
        unreadable: list[UnreadableRecord] = []
        for block_digest, line, raw in self._blocks():
            entry = self._entry(line, raw, unreadable)
            if entry is None:
                continue
            anchor, record, kind = entry
            blocks[block_digest] = anchor
            page.append(self._imported(record, kind, anchor, ImportKind.PRESENT))
            if len(page) >= self._config.page_size:
                yield ImportPage(page, unreadable=unreadable)
                page, unreadable = [], []
        yield ImportPage(page, _encode(blocks), unreadable)

    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        """Only the records whose text changed are decoded and parsed; missing anchors
        are deletes."""
        previous = _decode(watermark)
        before = set(previous.values())
        seen: set[str] = set()
        blocks: dict[str, str] = {}
        changes: list[ImportedObject] = []
        unreadable: list[UnreadableRecord] = []
        for block_digest, line, raw in self._blocks():
            known = previous.get(block_digest)
            if known is not None:
                blocks[block_digest] = known
                seen.add(known)
                continue
            entry = self._entry(line, raw, unreadable)
            if entry is None:
                continue
            anchor, record, kind = entry
            blocks[block_digest] = anchor
            seen.add(anchor)
            change = ImportKind.REPLACE if anchor in before else ImportKind.ADD
            changes.append(self._imported(record, kind, anchor, change))
        _keep_unreadable(previous, blocks, seen, unreadable)
        changes.extend(
            ImportedObject(anchor, "", "", {}, ImportKind.DELETE)
            for anchor in sorted(before - seen)
        )
        size = self._config.page_size
        pages = [changes[start : start + size] for start in range(0, len(changes), size)] or [[]]
        for page in pages[:-1]:
            yield ImportPage(page)
        yield ImportPage(pages[-1], _encode(blocks), unreadable)

    def read_object(self, key: str) -> ImportedObject | None:
        """The record whose DN, anchor or userPrincipalName is ``key`` (any case), as a
        REPLACE record; the file is the directory, so one object is found by reading it."""
        wanted = key.strip().casefold()
        for page in self.full_import():
            for obj in page.objects:
                upns = obj.attributes.get("userPrincipalName", ())
                names = (obj.dn, obj.anchor, *(str(upn) for upn in upns))
                if any(name.casefold() == wanted for name in names):
                    return replace(obj, kind=ImportKind.REPLACE)
        return None

    def _imported(
        self, record: LdifRecord, kind: str, anchor: str, change: ImportKind
    ) -> ImportedObject:
        obj = to_imported(record, kind, anchor, change)
        wanted = self._config.attributes
        if wanted is None:
            return obj
        keep = {name.lower() for name in wanted} | {"objectclass"}
        attributes = {k: v for k, v in obj.attributes.items() if k.lower() in keep}
        return ImportedObject(obj.anchor, obj.dn, obj.object_type, attributes, change)

    def _blocks(self) -> Iterator[tuple[str, int, bytes]]:
        """(fingerprint, first line, raw text) of each record block of the file."""
        self.skipped = []
        path = Path(self._config.path)
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise FatalConnectorError(
                f"connector {self.name!r}: cannot read {path}: {os_error_reason(exc)}"
            ) from exc
        with stream:
            for line, raw in raw_blocks(stream):
                yield hashlib.blake2b(raw, digest_size=10).hexdigest(), line, raw

    def _entry(
        self, line: int, raw: bytes, unreadable: list[UnreadableRecord]
    ) -> tuple[str, LdifRecord, str] | None:
        """(anchor, record, object type) of a record to import; ``None`` for one left
        out, and a broken one is added to ``unreadable``."""
        try:
            record = self._record(line, raw)
        except LdifSyntaxError as exc:
            self.skipped.append(str(exc))
            unreadable.append(self._unreadable(line, raw, str(exc)))
            return None
        if record is None:
            return None
        kind = object_type(record)
        if kind is None or kind.lower() not in self._wanted:
            return None
        problem = anchor_problem(record, self._config.anchor_attribute)
        if problem is not None:
            unreadable.append(UnreadableRecord(f"line {line}", problem, record.dn))
            return None
        anchor = anchor_of(record, self._config.anchor_attribute)
        if anchor is None:
            self.skipped.append(f"{record.dn}: no {self._config.anchor_attribute}")
            return None
        return anchor, record, kind

    def _record(self, line: int, raw: bytes) -> LdifRecord | None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"line {line}: the record is not valid UTF-8 ({exc.reason})"
            raise LdifSyntaxError(message) from exc
        return parse_block(line, text)

    def _unreadable(self, line: int, raw: bytes, message: str) -> UnreadableRecord:
        """What can still be read of a broken record: its DN and anchor lines alone."""
        wanted = ("dn:", self._config.anchor_attribute.lower() + ":")
        kept: list[str] = []
        for text in raw.decode("utf-8", "replace").split("\n"):
            if text.lower().startswith(wanted) or (text.startswith(" ") and kept):
                kept.append(text)
            elif kept and kept[-1] != "":
                kept.append("")  # ends a folded value
        lines = [text for text in kept if text != ""]
        record = parse_block(line, "\n".join(lines), on_error=lambda _: None) if lines else None
        if record is None:
            return UnreadableRecord(f"line {line}", message)
        problem = anchor_problem(record, self._config.anchor_attribute)
        anchor = None if problem else anchor_of(record, self._config.anchor_attribute)
        return UnreadableRecord(f"line {line}", message, record.dn, anchor)

    def _records(self) -> Iterator[LdifRecord]:
        for _, line, raw in self._blocks():
            try:
                record = self._record(line, raw)
            except LdifSyntaxError as exc:
                self.skipped.append(str(exc))
                continue
            if record is not None:
                yield record

    def _derived_fqdn(self) -> str:
        for record in self._records():
            parts = [
                p.split("=", 1)[1]
                for p in record.dn.split(",")
                if p.strip().lower().startswith("dc=")
            ]
            if parts:
                return ".".join(parts)
        return ""


def _keep_unreadable(
    previous: dict[str, str],
    blocks: dict[str, str],
    seen: set[str],
    unreadable: list[UnreadableRecord],
) -> None:
    """An unreadable record whose anchor could be read keeps its object: the anchor is
    seen, and its previous fingerprint stays in the watermark until the record is fixed."""
    held = {record.anchor for record in unreadable if record.anchor is not None} - seen
    if not held:
        return
    seen.update(held)
    blocks.update({digest: anchor for digest, anchor in previous.items() if anchor in held})


def _encode(digests: dict[str, str]) -> str:
    # Plain JSON: compressing random fingerprints saved a third of the size and cost
    # more than the rest of a one-change delta.
    return "ldif3:" + orjson.dumps(digests).decode("ascii")


def _decode(watermark: str) -> dict[str, str]:
    if watermark.startswith("ldif3:"):
        loaded: dict[str, str] = orjson.loads(watermark[6:])
        return loaded
    if watermark.startswith("ldif2:"):  # written by earlier versions: same fingerprints
        older: dict[str, str] = json.loads(zlib.decompress(base64.b64decode(watermark[6:])))
        return older
    raise FatalConnectorError("the LDIF watermark is not valid: run a full import")
