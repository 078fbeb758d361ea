"""RecordingTarget: an in-process directory that keeps what it is exported.

It assigns anchors on add, answers full and delta imports with what it holds (so
export status memory gets confirmed), and can keep its contents in a SQLite file so
that it outlives a process (the crash tests kill the engine between export and commit).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hybridsync.core.attribute_json import dump_attributes, load_attributes
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  anchor TEXT PRIMARY KEY, dn TEXT NOT NULL, object_type TEXT NOT NULL,
  attributes TEXT NOT NULL, seq INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS objects_dn ON objects(dn);
CREATE INDEX IF NOT EXISTS objects_seq ON objects(seq);
"""


class RecordingConfig(BaseModel):
    """``[[connectors]] type = "recording"``: a target that records exports."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["recording"] = "recording"
    name: str
    path: Path | None = None
    """Keep the recorded directory in this SQLite file (in memory when unset)."""
    ignored_attributes: tuple[str, ...] = ()
    """Accept but never store these (to exercise export status memory)."""
    object_types: tuple[str, ...] = ("user",)
    multi_valued: tuple[str, ...] = ("proxyAddresses", "otherMails")
    batch_size: int = 500
    keep_sent: int = 10_000
    """How many of the latest changes ``sent`` keeps in memory (tests look at them)."""


class RecordingTarget:
    def __init__(self, config: RecordingConfig) -> None:
        self._config = config
        path = str(config.path) if config.path else ":memory:"
        # One thread at a time uses a connector, but not always the one that built it: the
        # sync service builds it in its main thread and may run cycles from another.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # As the store: WAL, a 64 MiB page cache (its anchor index takes random inserts),
        # and a checkpoint per 64 MiB of WAL rather than per 4 MiB.
        for pragma in (
            "journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536",
            "wal_autocheckpoint=16384",
        ):  # fmt: skip
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)
        self.sent: deque[ExportChange] = deque(maxlen=config.keep_sent)
        """The latest changes received by this instance, in order (at most ``keep_sent``)."""
        self.reject: set[str] = set()
        """DNs whose changes are refused (tests)."""
        self._seq = 0
        self._adds: list[tuple[str, str, str, str, int]] = []
        """Rows of the adds of the export in progress, inserted together."""

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            full_import=True,
            delta_import=True,
            export=True,
            export_batch_size=self._config.batch_size,
            object_types=self._config.object_types,
            multi_valued=frozenset(self._config.multi_valued),
        )

    def parameters(self) -> Mapping[str, str]:
        return {}

    def close(self) -> None:
        self._db.close()

    # import ----------------------------------------------------------------------

    def full_import(self) -> Iterator[ImportPage]:
        watermark = str(self._last_seq())
        query = "SELECT anchor, dn, object_type, attributes, 0 FROM objects WHERE deleted = 0"
        yield from self._pages(query, (), watermark, ImportKind.PRESENT)

    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        last = str(self._last_seq())
        query = (
            "SELECT anchor, dn, object_type, attributes, deleted FROM objects"
            " WHERE seq > ? AND seq <= ? ORDER BY seq"
        )
        yield from self._pages(query, (int(watermark), int(last)), last, ImportKind.REPLACE)

    def _pages(
        self, query: str, arguments: tuple[int, ...], watermark: str, kind: ImportKind
    ) -> Iterator[ImportPage]:
        cursor = self._db.execute(query, arguments)
        while True:
            rows = cursor.fetchmany(self._config.batch_size * 2)
            objects = [
                ImportedObject(a, d, t, {}, ImportKind.DELETE)
                if gone
                else ImportedObject(a, d, t, load_attributes(x), kind)
                for a, d, t, x, gone in rows
            ]
            if len(rows) < self._config.batch_size * 2:
                yield ImportPage(objects, watermark)
                return
            yield ImportPage(objects)

    # export ----------------------------------------------------------------------

    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        # One transaction per call, like one $batch request: all of it lands or none.
        self._db.execute("BEGIN IMMEDIATE")
        self._seq = self._last_seq()
        try:
            results = [self._apply(change) for change in changes]
            self._insert_adds()
        except Exception:
            self._adds.clear()
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return iter(results)

    def _insert_adds(self) -> None:
        if self._adds:
            self._db.executemany("INSERT INTO objects VALUES (?, ?, ?, ?, ?, 0)", self._adds)
            self._adds.clear()

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        query = "SELECT anchor, dn, object_type, attributes FROM objects WHERE deleted = 0 AND "
        row = (
            self._db.execute(query + "anchor = ?", (change.anchor,)).fetchone()
            if change.anchor
            else self._db.execute(query + "dn = ?", (change.dn,)).fetchone()
        )
        if row is None:
            return None
        return ImportedObject(row[0], row[1], row[2], load_attributes(row[3]))

    def objects(self) -> dict[str, ImportedObject]:
        """The recorded directory by DN (tests and demos)."""
        rows = self._db.execute(
            "SELECT anchor, dn, object_type, attributes FROM objects WHERE deleted = 0"
        ).fetchall()
        return {d: ImportedObject(a, d, t, load_attributes(x)) for a, d, t, x in rows}

    def _apply(self, change: ExportChange) -> ExportResult:
        self.sent.append(change)
        if change.dn in self.reject:
            return ExportResult(change.change_id, ExportOutcome.REJECTED, message="refused by test")
        ignored = self._config.ignored_attributes
        kept = (
            {c.name: c.values for c in change.changes if c.name not in ignored}
            if ignored
            else dict(change.changes)  # (name, values) pairs
        )
        self._seq += 1
        anchor = self._write(change, kept, self._seq)
        if anchor is None:
            return ExportResult(change.change_id, ExportOutcome.REJECTED, message="no such object")
        return ExportResult(change.change_id, ExportOutcome.APPLIED, anchor=anchor)

    def _write(self, change: ExportChange, kept: dict[str, Any], seq: int) -> str | None:
        if change.kind is ExportKind.ADD:
            anchor = str(uuid.uuid4())
            self._adds.append((anchor, change.dn, change.object_type, dump_attributes(kept), seq))
            return anchor
        self._insert_adds()  # this change may be about an object added just before
        row = self._db.execute(
            "SELECT attributes FROM objects WHERE anchor = ? AND deleted = 0", (change.anchor,)
        ).fetchone()
        if row is None:
            return None
        if change.kind is ExportKind.DELETE:
            self._db.execute(
                "UPDATE objects SET deleted = 1, seq = ? WHERE anchor = ?", (seq, change.anchor)
            )
            return change.anchor
        attributes = load_attributes(row[0])
        attributes.update(kept)
        self._db.execute(
            "UPDATE objects SET attributes = ?, dn = ?, seq = ? WHERE anchor = ?",
            (dump_attributes(attributes), change.dn, seq, change.anchor),
        )
        return change.anchor

    def _last_seq(self) -> int:
        value = self._db.execute("SELECT MAX(seq) FROM objects").fetchone()[0]
        return int(value or 0)
