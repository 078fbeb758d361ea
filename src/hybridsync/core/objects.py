"""Connector-space and metaverse objects, and the state flags they carry."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from hybridsync.core.ports import ExportKind
from hybridsync.core.runs import ErrorKind
from hybridsync.core.values import Values


class PendingImport(enum.Enum):
    """New connected-directory data not yet synchronized."""

    NONE = "none"
    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class PendingExport:
    """A metaverse-derived change not yet written to the connected directory.

    ``changes`` holds every attribute for an add, only the changed ones for an update.
    """

    kind: ExportKind
    changes: Mapping[str, Values] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CSObject:
    """A staging object in one connector space.

    Attributes:
        cs_id: the engine's id for the object.
        anchor: the connected directory's immutable id; ``None`` for an export object
            the directory has not created yet.
        attributes: the values last imported (confirmed state).
        mv_id: the metaverse object this one is joined to, if any.
        joined_by: the rule that joined or projected it (inbound) or provisioned it
            (outbound); leaving that rule's scope disconnects it.
        keeps_mv: whether an in-scope Provision/StickyJoin rule keeps its MV object alive.
        unconfirmed: exported values no import has returned yet (export status memory).
        export_in_flight: an export was sent and its result not stored (crash recovery).
    """

    cs_id: str
    connector: str
    anchor: str | None
    dn: str
    object_type: str
    attributes: Mapping[str, Values] = field(default_factory=dict)
    pending_import: PendingImport = PendingImport.NONE
    mv_id: str | None = None
    joined_by: str | None = None
    keeps_mv: bool = False
    pending_export: PendingExport | None = None
    unconfirmed: Mapping[str, Values] = field(default_factory=dict)
    export_in_flight: bool = False

    # The two copies below are made for every object of a run: built directly, they
    # cost half of what dataclasses.replace() does.

    def with_link(
        self,
        mv_id: str | None,
        joined_by: str | None,
        keeps_mv: bool,
        pending_import: PendingImport = PendingImport.NONE,
    ) -> CSObject:
        """This object with the link state a sync decided (a synced import by default)."""
        return CSObject(
            self.cs_id, self.connector, self.anchor, self.dn, self.object_type, self.attributes,
            pending_import, mv_id, joined_by, keeps_mv, self.pending_export, self.unconfirmed,
            self.export_in_flight,
        )  # fmt: skip

    def with_export_state(
        self,
        anchor: str | None,
        dn: str,
        pending_export: PendingExport | None,
        unconfirmed: Mapping[str, Values],
        export_in_flight: bool,
    ) -> CSObject:
        """This object with the export state an export left."""
        return CSObject(
            self.cs_id, self.connector, anchor, dn, self.object_type, self.attributes,
            self.pending_import, self.mv_id, self.joined_by, self.keeps_mv, pending_export,
            unconfirmed, export_in_flight,
        )  # fmt: skip

    def effective_attributes(self) -> dict[str, Values]:
        """What the directory holds once every sent value is confirmed."""
        merged = dict(self.attributes)
        merged.update(self.unconfirmed)
        return merged


@dataclass(frozen=True, slots=True)
class MVObject:
    """A metaverse object; ``lineage`` names the rule that set each attribute."""

    mv_id: str
    object_type: str
    attributes: Mapping[str, Values] = field(default_factory=dict)
    lineage: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ObjectError:
    """A per-object failure: recorded with its object, rule and attribute; the run goes on."""

    connector: str
    dn: str
    message: str
    anchor: str | None = None
    rule: str | None = None
    attribute: str | None = None
    kind: ErrorKind = ErrorKind.SYNC

    def __str__(self) -> str:
        where = [self.dn]
        if self.rule:
            where.append(f"rule {self.rule!r}")
        if self.attribute:
            where.append(f"attribute {self.attribute!r}")
        return f"{', '.join(where)}: {self.message}"
