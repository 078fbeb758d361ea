"""The store as the engine sees it: Protocols, so memory, SQLite and PostgreSQL fit alike.

The store has one role per thing the engine keeps: connector spaces (and the staging of
a full import), the metaverse, the links between them with the value index that joins
use, watermarks, runs with their object errors, and password sync state. ``Store`` is
all of them; code that needs one role takes that role. Every change the engine makes
inside ``transaction()`` commits together or not at all: connector space, metaverse,
watermarks and run records of one batch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from hybridsync.core.objects import CSObject, MVObject, ObjectError
from hybridsync.core.password_hash_sync.targets import PasswordSyncStateStore
from hybridsync.core.ports import ImportedObject
from hybridsync.core.runs import RunRecord
from hybridsync.core.storage_limits import MV_SPACE as MV_SPACE
from hybridsync.core.values import AttributeValue, Values


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """What the engine remembers per connector between runs."""

    connector: str
    watermark: str | None = None
    attribute_hash: str = ""
    """Hash of the attribute list the last full import used."""
    rules_hash: str = ""
    """Hash of the rule set the last full sync used."""
    full_import_required: bool = False
    full_sync_required: bool = False


class Transactional(Protocol):
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit of work; nested calls join the outer one."""
        ...


class ConnectorSpaceStore(Protocol):
    """Connector-space objects: found by id, anchor or DN; their import and export state."""

    def get_cs(self, cs_id: str) -> CSObject | None: ...
    def get_cs_many(self, cs_ids: Sequence[str]) -> list[CSObject]:
        """The objects found, in the order of ``cs_ids``."""
        ...

    def cs_by_anchor(self, connector: str, anchor: str) -> CSObject | None: ...
    def cs_by_anchors(self, connector: str, anchors: Sequence[str]) -> dict[str, CSObject]: ...
    def cs_by_dn(self, connector: str, dn: str) -> CSObject | None: ...
    def cs_by_dns(
        self, connector: str, dns: Sequence[str], *, ignore_case: bool = False
    ) -> dict[str, CSObject]:
        """Objects by DN, keyed by DN (lower-cased with ``ignore_case``)."""
        ...

    def cs_ids(self, connector: str, *, pending_only: bool = False) -> list[str]: ...
    def cs_ids_to_sync(self, connector: str, settled_by: Collection[str]) -> list[str]:
        """Ids for a full sync, in id order, leaving out the objects with nothing to
        sync: joined by one of the rules ``settled_by`` and without a pending import."""
        ...

    def cs_ids_to_export(self, connector: str) -> list[str]: ...
    def count_cs(self, connector: str) -> int: ...
    def count_imported(self, connector: str) -> int:
        """Objects the connected directory has (with an anchor), export objects excluded."""
        ...

    def count_pending_deletes(self, connector: str) -> int: ...
    def mark_in_flight(self, cs_ids: Sequence[str]) -> None: ...
    def put_exported(self, objects: Sequence[CSObject]) -> None:
        """Store the export state of objects (anchor, DN, pending export, unconfirmed,
        in flight); their attributes and links stay as stored."""
        ...

    def put_cs(self, cs: CSObject) -> None: ...
    def put_cs_many(self, objects: Sequence[CSObject]) -> None: ...
    def delete_cs(self, cs_id: str) -> None: ...


class ImportStagingStore(Protocol):
    """Full-import staging: pages land here, the connector space changes only at the end."""

    def clear_staging(self, connector: str) -> None: ...
    def stage(self, connector: str, objects: Sequence[ImportedObject]) -> None: ...
    def staged_count(self, connector: str) -> int: ...
    def staged_with_current(
        self, connector: str, chunk: int
    ) -> Iterator[list[tuple[ImportedObject, CSObject | None]]]:
        """Staged objects in anchor order, each with the stored object of that anchor."""
        ...

    def cs_ids_not_staged(self, connector: str) -> list[str]:
        """Stored objects with an anchor that the staged import does not have."""
        ...


class MetaverseStore(Protocol):
    def get_mv(self, mv_id: str) -> MVObject | None: ...
    def get_mv_many(self, mv_ids: Sequence[str]) -> dict[str, MVObject]: ...
    def count_mv(self) -> int: ...
    def put_mv(self, mv: MVObject) -> None: ...
    def delete_mv(self, mv_id: str) -> None: ...


class LinkStore(Protocol):
    """Links between connector-space and metaverse objects, and the value index that
    joins look values up in."""

    def set_indexed_attributes(self, space: str, attributes: Iterable[str]) -> None:
        """Attributes of ``space`` (``mv`` or a connector) that joins look values up in."""
        ...

    def cs_linked_to(self, mv_id: str) -> list[CSObject]: ...
    def cs_linked_to_many(self, mv_ids: Sequence[str]) -> dict[str, list[CSObject]]: ...
    def links_of(self, mv_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the CS objects joined to each MV object (no attributes read)."""
        ...

    def count_unlinked(self, connector: str) -> int: ...
    def put_links(self, objects: Sequence[CSObject]) -> None:
        """Store the link state of objects (MV id, joining rule, keeps-MV flag, pending
        import); everything else about them is as stored."""
        ...

    def cs_ids_by_value(
        self, space: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        """Ids of the objects of ``space`` holding one of ``values`` in ``attribute``
        (an indexed attribute; any other finds nothing)."""
        ...

    def ids_by_values(
        self, space: str, attribute: str, values: Sequence[AttributeValue], case_sensitive: bool
    ) -> dict[str, set[str]]:
        """Like :meth:`cs_ids_by_value` for many values at once, by value key
        (lower-cased when not case-sensitive)."""
        ...


class WatermarkStore(Protocol):
    """Per-connector state between runs: watermark, hashes, what the next run must be."""

    def connector_state(self, connector: str) -> ConnectorState: ...
    def put_connector_state(self, state: ConnectorState) -> None: ...


class RunStore(Protocol):
    """The run history and each run's object errors."""

    def start_run(self, record: RunRecord) -> None: ...
    def finish_run(self, record: RunRecord) -> None: ...
    def record_errors(self, run_id: str, errors: Sequence[ObjectError]) -> None: ...
    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The latest runs, newest first."""
        ...

    def run_errors(self, run_id: str) -> list[ObjectError]: ...

    def runs_since(self, connector: str, profile: str, started_after: str) -> list[RunRecord]:
        """The connector's runs of ``profile`` started after the ISO time given."""
        ...


class Store(
    Transactional,
    ConnectorSpaceStore,
    ImportStagingStore,
    MetaverseStore,
    LinkStore,
    WatermarkStore,
    RunStore,
    PasswordSyncStateStore,
    Protocol,
):
    """Persistence of connector spaces, metaverse, links, watermarks, runs and password
    sync state: every role at once, over one transaction."""

    def close(self) -> None:
        """Release the store's connection; the store is not used afterwards."""
        ...
