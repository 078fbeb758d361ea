"""The value index that joins look values up in: its rows and its lookup keys, for every
store alike (SQL tables or memory).

A row holds one value of one indexed attribute of one object, as its canonical key
(:func:`hybridsync.core.convert.value_key`) and that key lower-cased. A value too long
for an index row is left out, with a warning: the object keeps it, only a join on that
value cannot find it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from hybridsync.core.convert import value_key
from hybridsync.core.storage_limits import INDEXED_BYTES, indexable
from hybridsync.core.values import AttributeValue, Values

__all__ = ["SURE_FIT", "index_rows", "lookup_key", "lookup_keys"]

SURE_FIT = INDEXED_BYTES // 4
"""A key of at most this many characters fits the value index whatever its characters."""


def lookup_key(value: AttributeValue, case_sensitive: bool) -> str:
    """The key a value is looked up by: exact, or lower-cased."""
    key = value_key(value)
    return key if case_sensitive else key.lower()


def lookup_keys(keys: Iterable[str]) -> list[str]:
    """The keys worth looking up: one the value index cannot hold is never in it."""
    return [key for key in keys if len(key) <= SURE_FIT or indexable(key)]


def index_rows(
    space: str, items: Sequence[tuple[str, Mapping[str, Values]]], wanted: Collection[str]
) -> list[dict[str, Any]]:
    """The index rows of objects ``(id, attributes)`` of ``space`` for the ``wanted``
    attributes, leaving out (with a warning) the values too long to index."""
    rows = [
        {
            "space": space,
            "attribute": name,
            "value_key": key,
            "value_key_ci": key.lower(),
            "object_id": object_id,
        }
        for object_id, attributes in items
        for name in wanted
        for key in map(value_key, attributes.get(name, ()))
    ]
    if any(len(row["value_key"]) > SURE_FIT for row in rows):
        return _indexable_rows(rows)
    return rows


def _indexable_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows PostgreSQL's btree can hold; the others are left out with a warning."""
    import structlog  # here: rarely needed, and the store's import stays light

    log = structlog.get_logger(__name__)
    kept: list[dict[str, Any]] = []
    for row in rows:
        if indexable(row["value_key"]) and indexable(row["value_key_ci"]):
            kept.append(row)
            continue
        log.warning(
            "store.value_not_indexed",
            space=row["space"],
            object_id=row["object_id"],
            attribute=row["attribute"],
            bytes=len(row["value_key"].encode("utf-8")),
            limit=INDEXED_BYTES,
            note="the value is kept on the object; a join on it cannot find it",
        )
    return kept
