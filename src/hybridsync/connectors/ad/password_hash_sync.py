"""Password changes for password hash sync: a ``uSNChanged`` delta read for ``pwdLastSet``.

Implements ``PasswordChangeFeed``. Every run reads the DC's ``highestCommittedUSN`` first,
then the in-scope users changed since the watermark with their ``pwdLastSet``; the
planner keeps those whose ``pwdLastSet`` differs from what was synced, so other changes
cost one attribute each and no hash read. The watermark names the DC database it was
read from (its invocationId): on another DC, or a restored one, the feed reads every
user again (the planner still syncs only changed passwords).
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog

from hybridsync.connectors.ad.connection import Connection
from hybridsync.connectors.ad.convert import anchor_of, plain_dn
from hybridsync.connectors.ad.discovery import DomainSession, read_usn_state
from hybridsync.connectors.ad.scope import OBJECT_FILTERS, Scope
from hybridsync.connectors.ad.settings import ADSettings
from hybridsync.connectors.ad.watermark import UsnWatermark, decode, encode
from hybridsync.core.ports import ImportedObject, ImportKind, ImportPage
from hybridsync.errors import FatalConnectorError

__all__ = ["ADPasswordChangeFeed"]

log = structlog.get_logger(__name__)
ATTRIBUTES = ("objectGUID", "pwdLastSet")


class ADPasswordChangeFeed(DomainSession):
    """Users whose ``pwdLastSet`` may have changed since a watermark, read over LDAPS."""

    def __init__(self, settings: ADSettings, *, connection: Connection | None = None) -> None:
        super().__init__(settings, connection)

    def password_changes(self, watermark: str | None) -> Iterator[ImportPage]:
        info = self._domain()
        state = read_usn_state(self._conn, info.ds_service_name)
        now = UsnWatermark(info.dns_host_name, state.invocation_id, state.highest_committed_usn)
        since = self._since(watermark, now)
        scope = Scope.build(info.domain_dn, self._settings.include_ous, self._settings.exclude_ous)
        changed = "" if since is None else f"(uSNChanged>={since + 1})"
        filterstr = f"(&{OBJECT_FILTERS['user']}{changed})"
        for page in self._conn.resuming_search(info.domain_dn, filterstr, ATTRIBUTES):
            records = [_record(entry) for entry in page if scope.contains(plain_dn(entry[0]))]
            yield ImportPage([r for r in records if r is not None])
        yield ImportPage((), encode(now))

    def _since(self, watermark: str | None, now: UsnWatermark) -> int | None:
        if watermark is None:
            return None
        try:
            previous = decode(watermark)
        except FatalConnectorError:
            log.warning("ad.phs_watermark_invalid", action="reading every user")
            return None
        if not isinstance(previous, UsnWatermark) or previous.invocation_id != now.invocation_id:
            log.info("ad.phs_watermark_other_database", action="reading every user")
            return None
        return previous.usn


def _record(entry: tuple[str, dict[str, list[bytes]]]) -> ImportedObject | None:
    dn, attributes = entry
    guid = attributes.get("objectGUID")
    if not guid:
        return None
    values = tuple(v.decode("ascii", errors="replace") for v in attributes.get("pwdLastSet", ()))
    return ImportedObject(
        anchor_of(guid[0]),
        plain_dn(dn),
        "user",
        {"pwdLastSet": values or ("0",)},
        ImportKind.UPDATE,
    )
