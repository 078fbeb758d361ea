"""The Active Directory connector: full and delta import, optional ConsistencyGuid write-back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import structlog

from hybridsync.connectors.ad import dirsync, single, usn
from hybridsync.connectors.ad.changed import with_change_times
from hybridsync.connectors.ad.connection import Connection
from hybridsync.connectors.ad.convert import REFERENCE
from hybridsync.connectors.ad.discovery import DomainSession
from hybridsync.connectors.ad.errors import InsufficientRightsError
from hybridsync.connectors.ad.export import Exporter, generated_password
from hybridsync.connectors.ad.notifications import ChangeNotifications
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import Scope
from hybridsync.connectors.ad.settings import ADSettings, DeltaMode
from hybridsync.connectors.ad.watermark import (
    DirSyncWatermark,
    UsnWatermark,
    Watermark,
    decode,
    encode,
)
from hybridsync.connectors.ad.writeback import CONSISTENCY_GUID, ConsistencyGuidWriter
from hybridsync.core.ports import (
    Capabilities,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportedObject,
    ImportPage,
    OutOfScope,
)

__all__ = ["MULTI_VALUED", "ADConnector"]

log = structlog.get_logger(__name__)
MULTI_VALUED = frozenset(
    {"objectClass", "member", "memberOf", "proxyAddresses", "otherTelephone", "description"}
)


class ADConnector(DomainSession):
    """Imports users and groups from one AD domain over LDAPS.

    Implements ``Connector``, ``SupportsFullImport``, ``SupportsDeltaImport``,
    ``SupportsReadObject`` and ``SupportsExport``: users and groups when ``export_ou`` is
    set (``export.py``), else only the mS-DS-ConsistencyGuid write-back when
    ``write_back_consistency_guid`` is.

    ``password`` makes the initial password of each created user (random by default);
    what it returns is sent once and kept nowhere.
    """

    def __init__(
        self,
        name: str,
        settings: ADSettings,
        *,
        connection: Connection | None = None,
        password: Callable[[], str] = generated_password,
    ):
        super().__init__(settings, connection)
        self._name = name
        self._reader: Reader | None = None
        self._password = password
        self._exporter: Exporter | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            full_import=True,
            delta_import=True,
            export=self._settings.write_back_consistency_guid or self._exports_objects,
            export_batch_size=50,
            object_types=self._settings.object_types,
            multi_valued=MULTI_VALUED,
            references_by_dn=True,
            references=frozenset(name for name in self.attribute_list if name.lower() in REFERENCE),
        )

    @property
    def attribute_list(self) -> tuple[str, ...]:
        """The attribute inclusion list (the engine asks for a full import when it changes)."""
        return self._settings.all_attributes()

    def parameters(self) -> Mapping[str, str]:
        """The domain's parameters, and ``%ExportOU%`` when exporting: outbound rules
        compute DNs as ``"CN=" & [cn] & "," & %ExportOU%``."""
        found = self._domain().parameters()
        if self._settings.export_ou is not None:
            found["ExportOU"] = self._settings.export_ou
        return found

    def change_events(self) -> ChangeNotifications:
        """Announcements of changes in the domain, on a connection of their own."""
        return ChangeNotifications(self._settings, self._domain().domain_dn)

    # --- plumbing ----------------------------------------------------------------------

    def _read(self) -> Reader:
        if self._reader is None:
            settings = self._settings
            scope = Scope.build(self._domain().domain_dn, settings.include_ous,
                                settings.exclude_ous)  # fmt: skip
            self._reader = Reader(self._conn, scope, settings.all_attributes(),
                                  settings.object_types)  # fmt: skip
        return self._reader

    def _current_watermark(self) -> Watermark:
        mode = self._settings.delta_mode
        if mode is not DeltaMode.USN:
            try:
                return dirsync.current_watermark(
                    self._conn, self._domain().domain_dn, self._settings.object_types
                )
            except InsufficientRightsError:
                if mode is DeltaMode.DIRSYNC:
                    raise
                log.warning("ad.dirsync_refused", connector=self._name, fallback="usn")
        return usn.current_watermark(self._read(), self._domain())

    # --- import ------------------------------------------------------------------------

    def full_import(self) -> Iterator[ImportPage]:
        """Every in-scope object; the last (empty) page carries the delta watermark.

        The watermark is taken before reading, so a change made during the import is
        seen again by the next delta import rather than lost.
        """
        with self._conn.dropped_when_lost():
            yield from self._full_import()

    def delta_import(self, watermark: str) -> Iterator[ImportPage]:
        with self._conn.dropped_when_lost():
            yield from self._delta_import(watermark)

    def read_object(self, key: str) -> ImportedObject | OutOfScope | None:
        """One object now, by DN, UPN or anchor (sync on demand; see ``single``)."""
        with self._conn.dropped_when_lost():
            return single.read_object(self._read(), key)

    def _full_import(self) -> Iterator[ImportPage]:
        watermark = self._current_watermark()
        reader = self._read()
        reader.take_unreadable()  # none may linger from an import that was cut short
        for records in reader.full():
            yield ImportPage(records, unreadable=reader.take_unreadable())
        yield ImportPage((), encode(watermark))

    def _delta_import(self, watermark: str) -> Iterator[ImportPage]:
        state = decode(watermark)
        reader = self._read()
        reader.take_unreadable()
        if isinstance(state, DirSyncWatermark):
            for records, after in dirsync.dirsync_changes(reader, state):
                records = with_change_times(reader, records)
                yield ImportPage(records, encode(after), reader.take_unreadable())
            return
        assert isinstance(state, UsnWatermark)
        for page, end in usn.usn_changes(reader, self._domain(), state):
            end_mark = encode(end) if end is not None else None
            yield ImportPage(with_change_times(reader, page), end_mark, reader.take_unreadable())

    # --- export ------------------------------------------------------------------------

    @property
    def _exports_objects(self) -> bool:
        return self._settings.export_ou is not None

    def _export_objects(self) -> Exporter:
        if self._exporter is None:
            self._exporter = Exporter(self._conn, self._settings, self._read(), self._password)
        return self._exporter

    def _is_guid_write_back(self, change: ExportChange) -> bool:
        """A change that only fills mS-DS-ConsistencyGuid, written with an LDAP add so
        that an existing value is never overwritten (``writeback.py``)."""
        return (
            self._settings.write_back_consistency_guid
            and change.kind is ExportKind.UPDATE
            and [c.name.lower() for c in change.changes] == [CONSISTENCY_GUID.lower()]
        )

    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        if self._exports_objects:
            writer = ConsistencyGuidWriter(self._conn)
            guids = [change for change in changes if self._is_guid_write_back(change)]
            for change in guids:
                yield writer.apply(change)
            others = [change for change in changes if not self._is_guid_write_back(change)]
            yield from self._export_objects().export(others)
            return
        if not self._settings.write_back_consistency_guid:
            for change in changes:
                yield ExportResult(change.change_id, ExportOutcome.REJECTED, change.anchor,
                                   f"{change.dn}: connector {self._name!r} writes nothing to AD "
                                   "(write_back_consistency_guid is off)")  # fmt: skip
            return
        writer = ConsistencyGuidWriter(self._conn)
        for change in changes:
            yield writer.apply(change)

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        if self._exports_objects and not self._is_guid_write_back(change):
            return self._export_objects().read_back(change)
        return ConsistencyGuidWriter(self._conn).read_back(change, self._read())
