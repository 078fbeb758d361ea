"""The store's column and index limits: what it can hold, on every backend.

PostgreSQL refuses a ``VARCHAR(n)`` value longer than ``n`` characters and any btree
index row over about 2,700 bytes; SQLite refuses neither. The engine checks objects
against these limits before it writes them, on both backends alike, so an object the
store cannot hold becomes an object error naming it and the attribute while the rest of
its batch lands (a failed ``executemany`` would have stopped the whole run).

It sits beside the store's protocol (``core/storage.py``) rather than in ``store/``: the
engine and the configuration check against it, and the engine may not import the store.
"""

from __future__ import annotations

__all__ = [
    "ANCHOR_CHARS",
    "INDEXED_BYTES",
    "MV_SPACE",
    "NAME_CHARS",
    "RESERVED_SPACE_NAMES",
    "RULE_NAME_CHARS",
    "indexable",
    "reserved_space_name",
    "storable_problem",
]

MV_SPACE = "mv"
"""The metaverse's name where the store names spaces (the value index): a connector's
space is its own name, so no connector may be named so. Here, not in ``core/storage.py``
(which re-exports it): the configuration checks names against it without loading the
store's protocol and the objects it names."""
ANCHOR_CHARS = 400
"""The longest anchor (``cs_objects.anchor``, ``import_staging.anchor``)."""
NAME_CHARS = 100
"""The longest connector name and object type."""
RULE_NAME_CHARS = 400
"""The longest rule name (``cs_objects.joined_by``)."""
INDEXED_BYTES = 2_000
"""The longest DN, and value kept in the value index, in UTF-8 bytes: with the connector
or attribute name beside it, an index row stays under PostgreSQL's btree limit."""

RESERVED_SPACE_NAMES = frozenset({MV_SPACE})
"""Names no connector may take: its connector space would share the metaverse's rows.
Compared without case, so that no two spaces differ only by case."""


def reserved_space_name(name: str) -> bool:
    """Whether ``name`` is one the store uses for itself (any case)."""
    return name.casefold() in RESERVED_SPACE_NAMES


def indexable(text: str) -> bool:
    """Whether ``text`` fits an index row (cheap first: 500 characters fit in any case)."""
    return len(text) <= INDEXED_BYTES // 4 or len(text.encode("utf-8")) <= INDEXED_BYTES


def storable_problem(anchor: str | None, dn: str, object_type: str) -> tuple[str, str] | None:
    """``(attribute, message)`` when the store cannot hold an object with these keys."""
    if anchor is not None and len(anchor) > ANCHOR_CHARS:
        return "anchor", f"the anchor is {len(anchor)} characters long (at most {ANCHOR_CHARS})"
    if not indexable(dn):
        size = len(dn.encode("utf-8"))
        return "dn", f"the DN is {size} bytes long in UTF-8 (at most {INDEXED_BYTES})"
    if len(object_type) > NAME_CHARS:
        return (
            "objectType",
            f"the object type is {len(object_type)} characters long (at most {NAME_CHARS})",
        )
    return None
