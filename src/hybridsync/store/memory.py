"""MemoryStore: every role of the engine's store in dictionaries, for tests and trials.

It keeps what :class:`~hybridsync.store.sql.SqlStore` keeps, answers the same questions
in the same order, and passes the same contract tests; nothing survives the process.
A transaction keeps an undo log: a failed one restores every object it changed.
Objects are stored and handed out with their own attribute mappings, so a caller that
changes a mapping it read changes nothing stored (as with a database).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from itertools import islice
from typing import TYPE_CHECKING, TypeVar

from hybridsync.core.objects import CSObject, MVObject, ObjectError, PendingImport
from hybridsync.core.password_hash_sync.changes import PasswordSyncState
from hybridsync.core.ports import ExportKind, ImportedObject
from hybridsync.core.runs import RunRecord
from hybridsync.core.storage import MV_SPACE, ConnectorState, Store
from hybridsync.core.values import AttributeValue, Values
from hybridsync.store.transactions import NestedTransactions
from hybridsync.store.value_index import index_rows, lookup_key, lookup_keys

__all__ = ["MemoryStore"]

_V = TypeVar("_V")
_EXPORT_STATE = ("anchor", "dn", "pending_export", "unconfirmed", "export_in_flight")
"""What an export writes of an object (``put_exported``)."""
_LINK_STATE = ("mv_id", "joined_by", "keeps_mv", "pending_import")
"""What a sync's link write writes of an object (``put_links``)."""
_IndexKey = tuple[str, str, str, bool]
"""Space, attribute, value key (lower-cased when not case-sensitive), case-sensitive."""


class _Keyed:
    """Ids by a key (an anchor, a DN, an MV id, an index key), in the order they came."""

    def __init__(self) -> None:
        self._ids: dict[object, dict[str, None]] = {}

    def add(self, key: object, object_id: str) -> None:
        self._ids.setdefault(key, {})[object_id] = None

    def remove(self, key: object, object_id: str) -> None:
        ids = self._ids.get(key)
        if ids is not None:
            ids.pop(object_id, None)
            if not ids:
                del self._ids[key]

    def get(self, key: object) -> list[str]:
        return list(self._ids.get(key, ()))

    def first(self, key: object) -> str | None:
        return next(iter(self._ids.get(key, ())), None)


def _cs_copy(cs: CSObject) -> CSObject:
    return replace(cs, attributes=dict(cs.attributes))


def _mv_copy(mv: MVObject) -> MVObject:
    return MVObject(mv.mv_id, mv.object_type, dict(mv.attributes), dict(mv.lineage))


class MemoryStore(NestedTransactions):
    """Implements :class:`hybridsync.core.storage.Store` in memory."""

    def __init__(self) -> None:
        self._cs: dict[str, CSObject] = {}
        self._mv: dict[str, MVObject] = {}
        self._by_anchor = _Keyed()
        self._by_dn = _Keyed()
        self._by_mv = _Keyed()
        self._indexed: dict[str, frozenset[str]] = {}
        self._index = _Keyed()
        """Index key -> the ids of the objects holding that value."""
        self._index_of: dict[str, list[_IndexKey]] = {}
        """Object id -> its index keys, to take them out again."""
        self._staged: dict[str, list[ImportedObject]] = {}
        self._states: dict[str, ConnectorState] = {}
        self._runs: dict[str, RunRecord] = {}
        self._errors: dict[str, list[ObjectError]] = {}
        self._password_states: dict[str, PasswordSyncState] = {}
        self._depth = 0
        self._undo: list[Callable[[], None]] = []

    def close(self) -> None:
        """Nothing to release: the objects stay until the store is dropped."""

    # transactions ---------------------------------------------------------------------

    def _undo_work(self) -> None:
        try:
            for step in reversed(self._undo):
                step()
        finally:
            self._undo.clear()

    def _commit_work(self) -> None:
        self._undo.clear()

    def _remember(self, step: Callable[[], None]) -> None:
        """Keep how to undo a write, when inside a transaction (outside, it is final)."""
        if self._depth:
            self._undo.append(step)

    def _keep(self, table: dict[str, _V], key: str) -> None:
        """Remember ``table[key]`` as it is now (missing included) to restore it."""
        if not self._depth:
            return
        if key in table:
            old = table[key]
            self._undo.append(lambda: table.__setitem__(key, old))
        else:
            self._undo.append(lambda: _forget(table, key))

    # connector space ------------------------------------------------------------------

    def _set_cs(self, cs_id: str, cs: CSObject | None) -> None:
        """Store (or with ``None`` delete) one object, keeping lookups and index right."""
        old = self._cs.get(cs_id)
        self._remember(lambda: self._set_cs(cs_id, old))
        if old is not None:
            self._by_anchor.remove((old.connector, old.anchor), cs_id)
            self._by_dn.remove((old.connector, old.dn), cs_id)
            self._by_mv.remove(old.mv_id, cs_id)
        if cs is None:
            self._cs.pop(cs_id, None)
            self._set_index(cs_id, None)
            return
        self._cs[cs_id] = cs
        self._by_anchor.add((cs.connector, cs.anchor), cs_id)
        self._by_dn.add((cs.connector, cs.dn), cs_id)
        if cs.mv_id is not None:
            self._by_mv.add(cs.mv_id, cs_id)

    def _found(self, cs_id: str | None) -> CSObject | None:
        cs = self._cs.get(cs_id) if cs_id is not None else None
        return _cs_copy(cs) if cs is not None else None

    def get_cs(self, cs_id: str) -> CSObject | None:
        return self._found(cs_id)

    def get_cs_many(self, cs_ids: Sequence[str]) -> list[CSObject]:
        return [_cs_copy(self._cs[i]) for i in dict.fromkeys(cs_ids) if i in self._cs]

    def cs_by_anchor(self, connector: str, anchor: str) -> CSObject | None:
        return self._found(self._by_anchor.first((connector, anchor)))

    def cs_by_anchors(self, connector: str, anchors: Sequence[str]) -> dict[str, CSObject]:
        found: dict[str, CSObject] = {}
        for anchor in anchors:
            cs = self.cs_by_anchor(connector, anchor)
            if cs is not None:
                found[anchor] = cs
        return found

    def cs_by_dn(self, connector: str, dn: str) -> CSObject | None:
        return self._found(self._by_dn.first((connector, dn)))

    def cs_by_dns(
        self, connector: str, dns: Sequence[str], *, ignore_case: bool = False
    ) -> dict[str, CSObject]:
        if not ignore_case:
            return {dn: cs for dn in dict.fromkeys(dns) if (cs := self.cs_by_dn(connector, dn))}
        wanted = {dn.lower() for dn in dns}
        return {
            cs.dn.lower(): _cs_copy(cs)
            for cs in self._cs.values()
            if cs.connector == connector and cs.dn.lower() in wanted
        }

    def _ids(self, connector: str, keep: Callable[[CSObject], bool]) -> list[str]:
        return sorted(i for i, cs in self._cs.items() if cs.connector == connector and keep(cs))

    def cs_ids(self, connector: str, *, pending_only: bool = False) -> list[str]:
        if pending_only:
            return self._ids(connector, lambda cs: cs.pending_import is not PendingImport.NONE)
        return self._ids(connector, lambda cs: True)

    def cs_ids_to_sync(self, connector: str, settled_by: Collection[str]) -> list[str]:
        def settled(cs: CSObject) -> bool:
            return (
                cs.mv_id is not None
                and cs.joined_by in settled_by
                and cs.pending_import is PendingImport.NONE
            )

        return self._ids(connector, lambda cs: not settled(cs))

    def cs_ids_to_export(self, connector: str) -> list[str]:
        return self._ids(connector, _to_export)

    def count_cs(self, connector: str) -> int:
        return len(self._ids(connector, lambda cs: True))

    def count_imported(self, connector: str) -> int:
        return len(self._ids(connector, lambda cs: cs.anchor is not None))

    def count_pending_deletes(self, connector: str) -> int:
        def deleting(cs: CSObject) -> bool:
            return cs.pending_export is not None and cs.pending_export.kind is ExportKind.DELETE

        return len(self._ids(connector, deleting))

    def mark_in_flight(self, cs_ids: Sequence[str]) -> None:
        for cs_id in cs_ids:
            if (cs := self._cs.get(cs_id)) is not None:
                self._set_cs(cs_id, replace(cs, export_in_flight=True))

    def put_exported(self, objects: Sequence[CSObject]) -> None:
        self._take(objects, _EXPORT_STATE)

    def _take(self, objects: Sequence[CSObject], fields: tuple[str, ...]) -> None:
        """Store these ``fields`` of objects already stored; the rest stays as stored."""
        for new in objects:
            if (cs := self._cs.get(new.cs_id)) is not None:
                self._set_cs(cs.cs_id, replace(cs, **{f: getattr(new, f) for f in fields}))

    def put_cs(self, cs: CSObject) -> None:
        self.put_cs_many([cs])

    def put_cs_many(self, objects: Sequence[CSObject]) -> None:
        for cs in objects:
            self._set_cs(cs.cs_id, _cs_copy(cs))
            if self._indexed.get(cs.connector):
                self._reindex(cs.connector, cs.cs_id, cs.attributes)

    def delete_cs(self, cs_id: str) -> None:
        self._set_cs(cs_id, None)

    # full-import staging --------------------------------------------------------------

    def clear_staging(self, connector: str) -> None:
        self._keep(self._staged, connector)
        self._staged.pop(connector, None)

    def stage(self, connector: str, objects: Sequence[ImportedObject]) -> None:
        if not objects:
            return
        self._keep(self._staged, connector)
        staged = list(self._staged.get(connector, ()))
        staged.extend(
            ImportedObject(o.anchor, o.dn, o.object_type, dict(o.attributes)) for o in objects
        )
        self._staged[connector] = staged

    def staged_count(self, connector: str) -> int:
        return len(self._staged.get(connector, ()))

    def staged_with_current(
        self, connector: str, chunk: int
    ) -> Iterator[list[tuple[ImportedObject, CSObject | None]]]:
        staged = iter(sorted(self._staged.get(connector, ()), key=lambda o: o.anchor))
        while part := list(islice(staged, chunk)):
            yield [(obj, self.cs_by_anchor(connector, obj.anchor)) for obj in part]

    def cs_ids_not_staged(self, connector: str) -> list[str]:
        staged = {obj.anchor for obj in self._staged.get(connector, ())}
        return self._ids(connector, lambda cs: cs.anchor is not None and cs.anchor not in staged)

    # metaverse ------------------------------------------------------------------------

    def get_mv(self, mv_id: str) -> MVObject | None:
        mv = self._mv.get(mv_id)
        return _mv_copy(mv) if mv is not None else None

    def get_mv_many(self, mv_ids: Sequence[str]) -> dict[str, MVObject]:
        return {i: _mv_copy(self._mv[i]) for i in mv_ids if i in self._mv}

    def count_mv(self) -> int:
        return len(self._mv)

    def put_mv(self, mv: MVObject) -> None:
        self._keep(self._mv, mv.mv_id)
        self._mv[mv.mv_id] = _mv_copy(mv)
        if self._indexed.get(MV_SPACE):
            self._reindex(MV_SPACE, mv.mv_id, mv.attributes)

    def delete_mv(self, mv_id: str) -> None:
        self._keep(self._mv, mv_id)
        self._mv.pop(mv_id, None)
        self._set_index(mv_id, None)

    # links and value index ------------------------------------------------------------

    def set_indexed_attributes(self, space: str, attributes: Iterable[str]) -> None:
        self._indexed[space] = frozenset(attributes)

    def cs_linked_to(self, mv_id: str) -> list[CSObject]:
        return [_cs_copy(self._cs[i]) for i in self._by_mv.get(mv_id)]

    def cs_linked_to_many(self, mv_ids: Sequence[str]) -> dict[str, list[CSObject]]:
        return {mv_id: self.cs_linked_to(mv_id) for mv_id in mv_ids}

    def links_of(self, mv_ids: Sequence[str]) -> dict[str, list[str]]:
        return {mv_id: self._by_mv.get(mv_id) for mv_id in mv_ids}

    def count_unlinked(self, connector: str) -> int:
        return len(self._ids(connector, lambda cs: cs.mv_id is None))

    def put_links(self, objects: Sequence[CSObject]) -> None:
        self._take(objects, _LINK_STATE)

    def cs_ids_by_value(
        self, space: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        keys = lookup_keys(lookup_key(v, case_sensitive) for v in values)
        return {
            object_id
            for key in keys
            for object_id in self._index.get(_index_key(space, attribute, key, case_sensitive))
        }

    def ids_by_values(
        self, space: str, attribute: str, values: Sequence[AttributeValue], case_sensitive: bool
    ) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for key in lookup_keys(sorted({lookup_key(v, case_sensitive) for v in values})):
            ids = self._index.get(_index_key(space, attribute, key, case_sensitive))
            if ids:
                found[key] = set(ids)
        return found

    def _reindex(self, space: str, object_id: str, attributes: Mapping[str, Values]) -> None:
        keys: list[_IndexKey] = []
        for row in index_rows(space, [(object_id, attributes)], self._indexed[space]):
            keys.append(_index_key(space, row["attribute"], row["value_key"], True))
            keys.append(_index_key(space, row["attribute"], row["value_key_ci"], False))
        self._set_index(object_id, keys)

    def _set_index(self, object_id: str, keys: list[_IndexKey] | None) -> None:
        """Index an object under ``keys`` instead of its keys so far (``None``: none)."""
        old = self._index_of.pop(object_id, None)
        self._remember(lambda: self._set_index(object_id, old))
        for key in old or ():
            self._index.remove(key, object_id)
        if keys is not None:
            for key in keys:
                self._index.add(key, object_id)
            self._index_of[object_id] = keys

    # watermarks -----------------------------------------------------------------------

    def connector_state(self, connector: str) -> ConnectorState:
        return self._states.get(connector) or ConnectorState(connector)

    def put_connector_state(self, state: ConnectorState) -> None:
        self._keep(self._states, state.connector)
        self._states[state.connector] = state

    # runs -----------------------------------------------------------------------------

    def start_run(self, record: RunRecord) -> None:
        self._keep(self._runs, record.run_id)
        self._runs[record.run_id] = replace(record, counts=dict(record.counts))

    def finish_run(self, record: RunRecord) -> None:
        if record.run_id in self._runs:
            self._keep(self._runs, record.run_id)
            self._runs[record.run_id] = replace(record, counts=dict(record.counts))

    def record_errors(self, run_id: str, errors: Sequence[ObjectError]) -> None:
        if not errors:
            return
        self._keep(self._errors, run_id)
        self._errors[run_id] = [*self._errors.get(run_id, ()), *errors]

    def runs_since(self, connector: str, profile: str, started_after: str) -> list[RunRecord]:
        return [
            run
            for run in self._runs.values()
            if run.connector == connector and run.profile == profile
            and run.started > started_after
        ]  # fmt: skip

    def runs(self, limit: int = 20) -> list[RunRecord]:
        return list(islice(reversed(self._runs.values()), limit))

    def run_errors(self, run_id: str) -> list[ObjectError]:
        return list(self._errors.get(run_id, ()))

    # password sync state --------------------------------------------------------------

    def load_password_sync_state(self, connector: str) -> PasswordSyncState:
        state = self._password_states.get(connector)
        return _state_copy(state) if state is not None else PasswordSyncState()

    def save_password_sync_state(self, connector: str, state: PasswordSyncState) -> None:
        self._keep(self._password_states, connector)
        self._password_states[connector] = _state_copy(state)


def _forget(table: dict[str, _V], key: str) -> None:
    table.pop(key, None)


def _to_export(cs: CSObject) -> bool:
    return bool(cs.pending_export or cs.unconfirmed or cs.export_in_flight)


def _index_key(space: str, attribute: str, key: str, case_sensitive: bool) -> _IndexKey:
    return (space, attribute, key, case_sensitive)


def _state_copy(state: PasswordSyncState) -> PasswordSyncState:
    return PasswordSyncState(dict(state.synced), dict(state.pending), state.watermark)


if TYPE_CHECKING:  # mypy checks here that MemoryStore has every role of the Store
    _A_STORE: Store = MemoryStore()
