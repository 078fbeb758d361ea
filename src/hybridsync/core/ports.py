"""The small Protocols every connector implements, and the records they exchange.

A connector is an adapter to one connected directory. It declares what it can do as
data (:class:`Capabilities`) and implements one Protocol per capability. The engine
persists watermarks and connector-space changes together, so a connector never stores
state of its own between runs.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

from hybridsync.core.convert import value_key
from hybridsync.core.values import Attributes, Values


class ImportKind(enum.Enum):
    """What an imported record says about its object."""

    PRESENT = "present"
    """Full import: the object exists with exactly these attributes."""
    ADD = "add"
    """Delta import: a new object, with all its attributes."""
    REPLACE = "replace"
    """Delta import: the object changed; these are all its attributes now."""
    UPDATE = "update"
    """Delta import: only these attributes changed; others keep their stored values."""
    DELETE = "delete"
    """Delta import: the object is gone (or left the connector's scope)."""


@dataclass(frozen=True, slots=True)
class ImportedObject:
    """One object as a connector read it.

    Attributes:
        anchor: the connected directory's immutable id (AD: objectGUID as a string).
        dn: the distinguished name now; a changed DN with the same anchor is a rename.
        object_type: the connector's object type, for example ``user``.
        attributes: values by attribute name; for UPDATE only the changed attributes,
            where an empty tuple means the attribute was cleared.
        kind: how to apply the record to the connector space.
        changed_at: of a delta record, when the source says the object changed (Unix
            time; AD's whenChanged, to the second), if it says: where the service's
            change-to-export latency starts.
    """

    anchor: str
    dn: str
    object_type: str
    attributes: Attributes
    kind: ImportKind = ImportKind.PRESENT
    changed_at: float | None = None
    value_changes: Mapping[str, ValueChanges] = field(default_factory=dict)
    """Of an UPDATE: multi-valued attributes given as the values added and removed
    (Graph's ``members@delta``) rather than whole; applied to the stored values."""

    def updated(self, stored: Mapping[str, Values]) -> dict[str, Values]:
        """The attributes after this UPDATE: the ``stored`` ones, those this record
        carries replacing theirs, then :attr:`value_changes` applied. An object the
        connector space does not hold (``stored`` empty) takes the added values as its
        values: a group created since the last delta lists all its members as added."""
        merged = {**stored, **self.attributes}
        for name, changes in self.value_changes.items():
            merged[name] = changes.applied_to(merged.get(name, ()))
        return merged


@dataclass(frozen=True, slots=True)
class ValueChanges:
    """Values added to and removed from a multi-valued attribute since the last delta.

    Applying them is idempotent (a value is added once, removing an absent one does
    nothing), so a delta read again after a crash lands on the same values.
    """

    added: Values = ()
    removed: Values = ()

    def applied_to(self, values: Values) -> Values:
        gone = {value_key(value) for value in self.removed}
        kept = [value for value in values if value_key(value) not in gone]
        present = {value_key(value) for value in kept}
        for value in self.added:
            key = value_key(value)
            if key not in present:
                kept.append(value)
                present.add(key)
        return tuple(kept)


@dataclass(frozen=True, slots=True)
class ImportPage:
    """A page of imported objects, and the watermark valid once the page is stored.

    The engine stores the page and its watermark in one transaction, so a crash
    between pages resumes from the last stored page. ``watermark`` is ``None`` on
    pages after which resuming is not possible (the run must start again).
    """

    objects: Sequence[ImportedObject]
    watermark: str | None = None
    unreadable: Sequence[UnreadableRecord] = ()
    """Records read but not understood: object errors, never deletes of their objects."""


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A record the connector could not read (a syntax error, bad encoding).

    The engine reports it as an object error and keeps the stored object it stands for
    unchanged: found by ``anchor``, else by ``dn``. When neither could be read, no object
    is deleted by that import at all, since any of them might be this record.
    """

    where: str
    """Where the record is in the source, for example ``line 120``."""
    message: str
    dn: str = ""
    anchor: str | None = None


class ExportKind(enum.Enum):
    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


class AttributeChange(NamedTuple):
    """The new values of one attribute; an empty tuple clears it.

    A named tuple rather than a frozen dataclass: an export builds one per attribute
    of every object it sends, and a tuple is made four times faster.
    """

    name: str
    values: Values


@dataclass(frozen=True, slots=True)
class ExportChange:
    """One pending export, prepared by the engine.

    Attributes:
        change_id: the engine's id for this change; results refer to it.
        kind: add, update or delete.
        anchor: the object's anchor in the target (``None`` for an add).
        dn: the target DN computed by the outbound rules.
        object_type: the target object type.
        changes: only the attributes to write.
        previous: of an update, for each reference attribute among ``changes``, the
            values the target holds (as last exported, else as last imported): a
            connector writing a multi-valued reference (a group's members) sends the
            additions and removals against them, never the whole list.
    """

    change_id: str
    kind: ExportKind
    anchor: str | None
    dn: str
    object_type: str
    changes: tuple[AttributeChange, ...] = ()
    previous: Mapping[str, Values] = field(default_factory=dict)


class ExportOutcome(enum.Enum):
    APPLIED = "applied"
    """The target accepted the change."""
    REJECTED = "rejected"
    """The target refused this object; nothing was written. Recorded, run goes on."""
    UNKNOWN = "unknown"
    """The request was sent but no answer came: the engine reads the object back
    before it retries, so that a create is never duplicated."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    change_id: str
    outcome: ExportOutcome
    anchor: str | None = None
    """For an applied add: the anchor the target assigned."""
    message: str = ""
    """For a rejected or unknown change: what the target said, naming the attribute."""
    written: Mapping[str, Values] = field(default_factory=dict)
    """For an applied add: values the target now holds beyond the change's own (defaults
    the connector filled in, values the target sets itself). Like the change's values
    they are expected back from the next import, so that import confirms the add
    instead of bringing the object back to sync."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector can do, declared as data."""

    full_import: bool = True
    delta_import: bool = False
    export: bool = False
    export_batch_size: int = 1
    object_types: tuple[str, ...] = ("user",)
    multi_valued: frozenset[str] = field(default_factory=frozenset)
    """Attribute names that are multi-valued in this connector's schema."""
    references: frozenset[str] = field(default_factory=frozenset)
    """Attribute names whose values name other objects (``Reference`` values), as the
    connector spells them: the engine indexes them to find who names an object."""
    references_by_dn: bool = False
    """Whether the directory names referenced objects by DN (AD): outbound references
    are then the target object's DN, as the import reads them back, rather than its
    anchor, so that an import confirms the references an export wrote."""


@runtime_checkable
class Connector(Protocol):
    """What every connector has."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def parameters(self) -> Mapping[str, str]:
        """Expression parameters this connector provides, e.g. ``Domain.FQDN``."""
        ...


@runtime_checkable
class SupportsFullImport(Protocol):
    def full_import(self) -> Iterator[ImportPage]:
        """Every in-scope object, page by page; the last page's watermark starts deltas.

        Raises:
            FatalConnectorError: the source cannot be read; nothing must be concluded
                about the objects it holds.
        """
        ...


@runtime_checkable
class SupportsDeltaImport(Protocol):
    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        """Changes since ``watermark``.

        Raises:
            FatalConnectorError: the watermark is expired or invalid (the message asks
                for a full import) or the source cannot be read.
        """
        ...


@runtime_checkable
class SupportsExport(Protocol):
    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        """Write the changes; one result per change, in any order.

        A change raises nothing when its outcome is known; an outcome that is not
        known (a timeout after sending) is reported as ``UNKNOWN``, never guessed.

        Raises:
            FatalConnectorError: nothing more can be written in this run.
        """
        ...

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        """Read the object a change with an unknown outcome was about, if it exists."""
        ...


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """An object the connector found but does not sync (outside its OUs, another type)."""

    dn: str
    reason: str


@runtime_checkable
class SupportsReadObject(Protocol):
    def read_object(self, key: str) -> ImportedObject | OutOfScope | None:
        """One object as it is now, by DN, UPN or anchor (sync on demand).

        Reads that object only: a key that is not a DN, UPN or anchor, or one that
        would match several objects, never widens the read. Returns a ``REPLACE`` record
        (every attribute), :class:`OutOfScope` for an object the connector does not
        sync, or ``None`` when no object has that key.
        """
        ...


@dataclass(frozen=True, slots=True, eq=False)
class RetryWait:
    """A connector waiting out a failure before it retries a request.

    Compared by identity: two waits announced with the same words are still two waits.
    """

    failure: str
    """What failed, e.g. ``POST /v1.0/$batch: cannot connect to graph.contoso.com``."""
    retry: int
    """The retry that follows the wait (1 for the first)."""
    retries: int
    """The most retries the request gets."""
    seconds: float
    """How long the wait lasts."""


class WaitListener(Protocol):
    """Told when a connector starts and ends a wait; called from any of its threads."""

    def waiting(self, wait: RetryWait, /) -> None: ...

    def waited(self, wait: RetryWait, /) -> None: ...


@runtime_checkable
class AnnouncesWaits(Protocol):
    def announce_waits(self, listener: WaitListener | None) -> None:
        """Tell ``listener`` of every retry wait from now on (``None``: tell no one)."""
        ...


class ChangeEvents(Protocol):
    """A source's announcements that something changed, without saying what.

    The delta import reads what changed; an announcement only says that one is worth
    running now. A watcher thread owns the object: ``wait`` and ``close`` are called
    from it alone.
    """

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when a change was announced.

        Raises:
            ChangeEventsUnavailable: the source cannot announce changes (poll instead).
            UnreachableError: the connection was lost; the next call reconnects, and a
                delta import then closes any gap.
        """
        ...

    def close(self) -> None: ...


@runtime_checkable
class AnnouncesChanges(Protocol):
    def change_events(self) -> ChangeEvents:
        """A new, unopened feed of change announcements with its own connection."""
        ...


def attribute_hash(connector: object) -> str:
    """A short hash of the connector's attribute inclusion list (``"all"`` without one):
    the engine asks for a full import when it differs from the one recorded."""
    attributes: Iterable[str] | None = getattr(connector, "attribute_list", None)
    if attributes is None:
        return "all"
    text = "\n".join(sorted(a.lower() for a in attributes))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
