"""Reference attributes through the store: what a reference names, and who names an object.

``StoreReferences`` answers :class:`~hybridsync.core.references.ReferenceView` for one
sync batch (or one export pass, or one preview), reading each referenced object once.
``referrers`` finds the objects whose references name objects whose link changed, so a
sync recomputes them: a manager imported after her reports, or deleted, or leaving
scope, changes their metaverse values although their own attributes did not change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace

from hybridsync.core.objects import CSObject, PendingImport
from hybridsync.core.outbound import is_target_object
from hybridsync.core.references import has_references
from hybridsync.core.storage import Store
from hybridsync.core.values import AttributeValue, Reference, Values


class StoreReferences:
    """The resolution of references, through the store, remembered for its lifetime.

    Make a new one whenever links may have changed since (a sync makes one per batch,
    after the batch's link decisions).
    """

    def __init__(
        self, store: Store, outbound_names: frozenset[str], by_dn: frozenset[str] = frozenset()
    ) -> None:
        self._store = store
        self._outbound_names = outbound_names
        self._by_dn = by_dn
        """Connectors whose target id of an object is its DN (see ``references_by_dn``)."""
        self._sources: dict[tuple[str, str], str | None] = {}
        self._anchors: dict[tuple[str, str], str | None] = {}

    def prefetch(self, objects: Iterable[CSObject], names: Callable[[str], frozenset[str]]) -> None:
        """Read the objects the references of ``objects`` name, a few queries in all
        (``names``: a connector's reference attributes its rules read)."""
        wanted: dict[str, set[str]] = {}
        for cs in objects:
            for name in names(cs.connector):
                values = cs.attributes.get(name, ())
                if has_references(values):
                    wanted.setdefault(cs.connector, set()).update(str(v) for v in values)
        for connector, dns in wanted.items():
            self._read_sources(connector, dns)
        # A reference flows on to a target as the target's id of the object it names:
        # read those in a few queries too, not one query a member as the flows ask.
        self.prefetch_targets(
            mv_id
            for connector, dns in wanted.items()
            for dn in dns
            if (mv_id := self._sources[(connector, dn.lower())]) is not None
        )

    def _read_sources(self, connector: str, dns: Collection[str]) -> None:
        todo = [dn for dn in dns if (connector, dn.lower()) not in self._sources]
        if not todo:
            return
        found = {dn.lower(): cs for dn, cs in self._store.cs_by_dns(connector, todo).items()}
        missing = [dn for dn in todo if dn.lower() not in found]
        if missing:  # the referrer may spell the DN in another case than the directory
            found.update(self._store.cs_by_dns(connector, missing, ignore_case=True))
        for dn in todo:
            self._sources[(connector, dn.lower())] = self._joined(found.get(dn.lower()))

    def _joined(self, cs: CSObject | None) -> str | None:
        if cs is None or cs.mv_id is None or cs.pending_import is PendingImport.DELETE:
            return None
        if is_target_object(cs, self._outbound_names):
            return None  # a target object stands for no source object
        return cs.mv_id

    def source_mv(self, connector: str, dn: str) -> str | None:
        key = (connector, dn.lower())
        if key not in self._sources:
            self._read_sources(connector, [dn])
        return self._sources[key]

    def target_anchor(self, connector: str, mv_id: str) -> str | None:
        if not self._known_target(mv_id):
            self._read_targets([mv_id])
        return self._anchors.get((connector, mv_id))

    def _read_targets(self, mv_ids: list[str]) -> None:
        linked = self._store.cs_linked_to_many(mv_ids)
        for mv_id in mv_ids:
            self._anchors[("", mv_id)] = None  # read: its connectors' anchors are below
            for cs in linked.get(mv_id, []):
                if cs.anchor is not None:  # created: it can be named
                    named = cs.dn if cs.connector in self._by_dn else cs.anchor
                    self._anchors[(cs.connector, mv_id)] = named

    def prefetch_targets(self, mv_ids: Iterable[str]) -> None:
        """Read the target objects of the metaverse objects ``mv_ids`` in one query."""
        todo = sorted({mv_id for mv_id in mv_ids if not self._known_target(mv_id)})
        if todo:
            self._read_targets(todo)

    def _known_target(self, mv_id: str) -> bool:
        return ("", mv_id) in self._anchors


def referrers(
    store: Store, connector: str, attributes: Collection[str], dns: Collection[str]
) -> list[CSObject]:
    """The objects of ``connector`` whose reference ``attributes`` name one of ``dns``
    (ignoring case), through the value index."""
    if not attributes or not dns:
        return []
    values = tuple(Reference(dn) for dn in dns)
    ids: set[str] = set()
    for attribute in attributes:
        ids |= store.cs_ids_by_value(connector, attribute, values, case_sensitive=False)
    return store.get_cs_many(sorted(ids))


def follow_renames(
    store: Store, connector: str, attributes: Collection[str], renames: dict[str, str]
) -> int:
    """Point the references to renamed or moved objects at their new DNs (``renames``:
    lower-cased old DN -> new DN); returns how many objects were rewritten.

    A directory keeps its references in step with renames without reporting the objects
    that hold them (AD's linked attributes): the connector space does the same, so a
    reference keeps naming its object. Nothing is synced again for it: the metaverse
    value names the same metaverse object as before.
    """
    rewritten = [
        replace(cs, attributes=_renamed(cs.attributes, renames))
        for cs in referrers(store, connector, attributes, list(renames))
    ]
    store.put_cs_many(rewritten)
    return len(rewritten)


def _renamed(attributes: Mapping[str, Values], renames: dict[str, str]) -> dict[str, Values]:
    def renamed(value: AttributeValue) -> AttributeValue:
        if type(value) is Reference:
            return Reference(renames.get(value.dn.lower(), value.dn))
        return value

    return {
        name: tuple(map(renamed, values)) if has_references(values) else values
        for name, values in attributes.items()
    }
