"""One bound LDAP connection to a domain controller, and the searches the connector runs.

Every python-ldap call happens here, inside :func:`ldap_errors`. Searches yield raw
entries ``(dn, {attribute: [bytes, ...]})``; conversion happens elsewhere.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import ldap
import structlog
from ldap.controls import LDAPControl
from ldap.controls.pagedresults import SimplePagedResultsControl
from ldap.ldapobject import LDAPObject
from pydantic import SecretStr

from hybridsync.connectors.ad.controls import (
    DIRSYNC_OID,
    DirSyncRequest,
    DirSyncResponse,
    ExtendedDN,
    ShowDeleted,
)
from hybridsync.connectors.ad.errors import (
    FirstContactError,
    NoSuchObjectError,
    ServerTimeoutError,
    ServerUnreachableError,
    TLSFailureError,
    ldap_errors,
    write_errors,
)
from hybridsync.connectors.ad.probe import diagnose_tls
from hybridsync.connectors.ad.settings import ADSettings

__all__ = ["PERMISSIVE_MODIFY", "Connection", "Modification", "RawEntry", "secured"]

RawEntry = tuple[str, dict[str, list[bytes]]]
log = structlog.get_logger(__name__)
Modification = tuple[int, str, list[bytes] | None]
"""One python-ldap modify item: ``(ldap.MOD_ADD | MOD_DELETE | MOD_REPLACE, name, values)``."""
DirSyncKey = tuple[str, str, tuple[str, ...], bytes, int]
"""A DirSync request: base, filter, attributes, cookie, flags."""
DirSyncRound = tuple[list[RawEntry], bytes, bool]
"""A DirSync answer: its entries, the next cookie, and whether more rounds follow."""
PERMISSIVE_MODIFY = LDAPControl("1.2.840.113556.1.4.1413", True)
"""AD's LDAP_SERVER_PERMISSIVE_MODIFY: adding a value already there, or deleting one that
is not, succeeds. A member change sent again (after an unknown outcome) is then harmless."""


def _guid(entry: RawEntry) -> bytes:
    return entry[1].get("objectGUID", [b""])[0]


def _entries(data: Sequence[Any]) -> Iterator[RawEntry]:
    # Referrals to other partitions come back as entries without a DN: skip them.
    for dn, attrs in data:
        if dn is not None and isinstance(attrs, dict):
            yield dn, attrs


class RecentRounds:
    """The last DirSync round read on a connection, for one reuse within a few seconds."""

    KEEP_SECONDS = 5.0
    KEEP_ENTRIES = 1000
    """A larger round (a full pass) is not kept: a repeat of it is not a peek's."""

    def __init__(self) -> None:
        self._kept: tuple[DirSyncKey, DirSyncRound, float] | None = None

    def keep(self, key: DirSyncKey, answer: DirSyncRound) -> None:
        small = len(answer[0]) <= self.KEEP_ENTRIES
        self._kept = (key, answer, time.monotonic()) if small else None

    def take(self, key: DirSyncKey) -> DirSyncRound | None:
        kept, self._kept = self._kept, None
        if kept is None or kept[0] != key or time.monotonic() - kept[2] > self.KEEP_SECONDS:
            return None
        return kept[1]


def secured(settings: ADSettings, operation: str, *, always_verify: bool = False) -> LDAPObject:
    """A new connection to ``settings.url``, TLS set up (StartTLS done), not yet bound.

    Every wait is bounded by ``settings.timeout_seconds``: the TCP connect, the TLS
    handshake (libldap bounds an ``ldaps://`` handshake only on an asynchronous connect)
    and each result. ``always_verify`` demands a valid certificate and TLS whatever
    ``verify_tls`` and ``start_tls`` say (a user's password never crosses anything less).
    """
    timeout = settings.timeout_seconds
    with ldap_errors(settings.url, operation):
        conn = ldap.initialize(settings.url)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        conn.set_option(ldap.OPT_REFERRALS, 0)  # a referral is an error, never followed
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
        conn.set_option(ldap.OPT_TIMEOUT, timeout)
        conn.set_option(ldap.OPT_CONNECT_ASYNC, 1)
        conn.timeout = timeout  # python-ldap's own wait for results
        if settings.ca_file is not None:
            conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(settings.ca_file))
        verify = always_verify or settings.verify_tls
        conn.set_option(
            ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND if verify else ldap.OPT_X_TLS_NEVER
        )
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # apply the options above to this connection
        if settings.url.startswith("ldap://") and (always_verify or settings.start_tls):
            conn.start_tls_s()
    return conn


class Connection:
    """A bound connection that reconnects when the server drops it."""

    def __init__(self, settings: ADSettings, password: SecretStr | None = None) -> None:
        self._settings = settings
        self._password = password
        """``None``: read from the configured variable or file when first binding, so that
        commands that never connect (status, history) need no secret."""
        self._conn: LDAPObject | None = None
        self.server = settings.url
        self._reached = False
        """Whether a bind ever succeeded: reconnecting after that is worth retrying."""
        self._recent_rounds = RecentRounds()

    # --- connecting --------------------------------------------------------------------

    def open(self) -> LDAPObject:
        """Connect, secure and bind (once); return the python-ldap object."""
        if self._conn is not None:
            return self._conn
        settings = self._settings
        try:
            conn = self._bind()
        except ServerTimeoutError:
            raise  # a server that does not answer at all has no TLS problem to name
        except ServerUnreachableError as exc:
            problem = diagnose_tls(settings.url, settings.ca_file, settings.timeout_seconds)
            if problem is not None:
                raise TLSFailureError(
                    f"TLS failure (bind as {settings.bind_user} on {self.server}): {problem}"
                ) from exc
            if not self._reached:
                raise FirstContactError(str(exc)) from exc
            raise
        self._conn = conn
        self._reached = True
        return conn

    def _bind(self) -> LDAPObject:
        settings = self._settings
        operation = f"bind as {settings.bind_user}"
        password = self._bind_password()
        conn = secured(settings, operation)
        with ldap_errors(self.server, operation):
            conn.simple_bind_s(settings.bind_user, password.get_secret_value())
        return conn

    def _bind_password(self) -> SecretStr:
        if self._password is None:
            self._password = self._settings.password()
        return self._password

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                with ldap_errors(self.server, "unbind"):
                    conn.unbind_s()
            except ServerUnreachableError:
                pass  # already gone: nothing to release

    @contextlib.contextmanager
    def dropped_when_lost(self) -> Iterator[None]:
        """Forget the connection when the block finds it lost, so that the next request
        binds again (a long-running service keeps this object across DC restarts)."""
        try:
            yield
        except ServerUnreachableError:
            self._conn = None
            raise

    def reconnect(self) -> None:
        """Drop the connection and bind again, retrying a few times."""
        self._conn = None
        attempts = self._settings.reconnect_attempts
        for attempt in range(attempts + 1):
            try:
                self.open()
                return
            except ServerUnreachableError:
                if attempt == attempts:
                    raise
                log.warning("ad.reconnect", server=self.server, attempt=attempt + 1)
                time.sleep(min(2.0**attempt * 0.5, 5.0))

    # --- reading -----------------------------------------------------------------------

    def read_entry(self, dn: str, attributes: Sequence[str]) -> RawEntry | None:
        """One entry by DN (``<GUID=...>`` works too), or None if it does not exist."""
        conn = self.open()
        try:
            with ldap_errors(self.server, f"read {dn}"):
                data = conn.search_ext_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", list(attributes))
        except NoSuchObjectError:
            return None
        return next(_entries(data), None)

    def search_at_most(
        self, base: str, filterstr: str, attributes: Sequence[str], limit: int
    ) -> list[RawEntry]:
        """A subtree search for at most ``limit`` entries: a filter that matches more
        returns ``limit`` of them, never the rest. The size limit is asked of the server
        and kept here too (Samba answers every entry whatever the limit)."""
        conn = self.open()
        found: list[RawEntry] = []
        with ldap_errors(self.server, f"search {base} {filterstr}"):
            msgid = conn.search_ext(base, ldap.SCOPE_SUBTREE, filterstr, list(attributes),
                                    sizelimit=limit)  # fmt: skip
            try:
                while len(found) < limit:
                    kind, data = conn.result(msgid, all=0)
                    if kind == ldap.RES_SEARCH_RESULT:
                        return found
                    found.extend(_entries(data))
            except ldap.SIZELIMIT_EXCEEDED:
                return found[:limit]  # the entries up to the limit were received
        self._abandon(conn, msgid)
        return found[:limit]

    def any_tombstone_visible(self, container: str) -> bool:
        """Whether this account sees at least one deleted object in ``container``."""
        conn = self.open()
        with ldap_errors(self.server, f"look into {container}"):
            msgid = conn.search_ext(container, ldap.SCOPE_ONELEVEL, "(isDeleted=TRUE)", ["1.1"],
                                    serverctrls=[ShowDeleted()], sizelimit=1)  # fmt: skip
            try:
                kind, data = conn.result(msgid, all=0)
            finally:
                conn.abandon(msgid)
        return kind == ldap.RES_SEARCH_ENTRY and bool(data)

    def resuming_search(
        self, base: str, filterstr: str, attributes: Sequence[str]
    ) -> Iterator[list[RawEntry]]:
        """:meth:`paged_search` that survives a dropped connection.

        A paged-results cookie dies with its connection, so after reconnecting the
        search starts again and skips the objects (by objectGUID) already yielded.
        """
        seen: set[bytes] = set()
        while True:
            try:
                for page in self.paged_search(base, filterstr, attributes):
                    fresh = [entry for entry in page if _guid(entry) not in seen]
                    seen.update(_guid(entry) for entry in fresh)
                    yield fresh
                return
            except ServerUnreachableError:
                log.warning("ad.connection_lost", server=self.server, read=len(seen))
                self.reconnect()

    def paged_search(
        self,
        base: str,
        filterstr: str,
        attributes: Sequence[str],
        *,
        extra_controls: Sequence[LDAPControl] = (),
    ) -> Iterator[list[RawEntry]]:
        """A subtree search, one list of entries per page of ``page_size``.

        The next page is requested before the current one is handed over, so the DC
        prepares it while the caller converts this one.
        """
        conn = self.open()
        operation = f"search {base} {filterstr}"
        page = SimplePagedResultsControl(True, size=self._settings.page_size, cookie="")

        def request() -> int:
            with ldap_errors(self.server, operation):
                msgid: int = conn.search_ext(
                    base, ldap.SCOPE_SUBTREE, filterstr, list(attributes),
                    serverctrls=[page, *extra_controls],
                )  # fmt: skip
            return msgid

        pending: int | None = request()
        try:
            while pending is not None:
                with ldap_errors(self.server, operation):
                    _, data, _, controls = conn.result3(pending)
                page.cookie = next(
                    (c.cookie for c in controls if c.controlType == page.controlType), b""
                )
                pending = request() if page.cookie else None
                yield list(_entries(data))
        finally:
            if pending is not None:  # the caller stopped early
                self._abandon(conn, pending)

    def _abandon(self, conn: LDAPObject, msgid: int) -> None:
        try:
            with ldap_errors(self.server, "abandon"):
                conn.abandon(msgid)
        except ServerUnreachableError:
            pass  # the connection is gone, and the request with it

    def dirsync(
        self,
        base: str,
        filterstr: str,
        attributes: Sequence[str],
        cookie: bytes,
        *,
        flags: int = 0,
    ) -> Iterator[tuple[list[RawEntry], bytes]]:
        """DirSync rounds from ``cookie``: each yields its entries and the next cookie.

        A round asked for again with the same cookie soon after is answered from memory
        (once): the service peeks at a delta, then imports it. Reusing the round is exact,
        since its cookie covers just its entries; a change made since comes in the next
        round. A DirSync request costs the DC a search of the whole partition.
        """
        while True:
            key = (base, filterstr, tuple(attributes), cookie, flags)
            answer = self._recent_rounds.take(key)
            if answer is None:
                answer = self._dirsync_round(key)
                self._recent_rounds.keep(key, answer)
            entries, cookie, more = answer
            yield entries, cookie
            if not more:
                return

    def _dirsync_round(self, key: DirSyncKey) -> DirSyncRound:
        base, filterstr, attributes, cookie, flags = key
        conn = self.open()
        request = DirSyncRequest(cookie, flags=flags)
        with ldap_errors(self.server, f"DirSync {base} {filterstr}"):
            msgid = conn.search_ext(
                base, ldap.SCOPE_SUBTREE, filterstr, list(attributes),
                serverctrls=[request, ExtendedDN()],
            )  # fmt: skip
            _, data, _, controls = conn.result3(
                msgid, resp_ctrl_classes={DIRSYNC_OID: DirSyncResponse}
            )
        response = next((c for c in controls if isinstance(c, DirSyncResponse)), None)
        if response is None:
            raise ServerUnreachableError(f"{self.server} answered DirSync without a cookie")
        return list(_entries(data)), response.cookie, bool(response.more)

    def search_deleted(
        self, base: str, filterstr: str, attributes: Sequence[str]
    ) -> Iterator[list[RawEntry]]:
        """Paged search that includes tombstones (Deleted Objects)."""
        return self.paged_search(base, filterstr, attributes, extra_controls=[ShowDeleted()])

    def modify_add(self, dn: str, attribute: str, value: bytes) -> None:
        """Add a value; fails (translated) if a single-valued attribute already has one."""
        conn = self.open()
        with ldap_errors(self.server, f"write {attribute} of {dn}"):
            conn.modify_s(dn, [(ldap.MOD_ADD, attribute, [value])])

    # --- writing -----------------------------------------------------------------------
    # Each write is one synchronous request; a lost connection surfaces as
    # ServerUnreachableError, whose outcome the caller treats as unknown.

    def add(self, dn: str, attributes: Sequence[tuple[str, list[bytes]]]) -> None:
        conn = self.open()
        with write_errors(self.server, f"add {dn}"):
            conn.add_s(dn, list(attributes))

    def modify(self, dn: str, changes: Sequence[Modification], *, permissive: bool = False) -> None:
        conn = self.open()
        controls = [PERMISSIVE_MODIFY] if permissive else None
        names = sorted({name for _, name, _ in changes})
        with write_errors(self.server, f"modify {', '.join(names)} of {dn}"):
            conn.modify_ext_s(dn, list(changes), serverctrls=controls)

    def rename(self, dn: str, new_rdn: str, new_parent: str | None) -> None:
        conn = self.open()
        with write_errors(self.server, f"rename {dn} to {new_rdn},{new_parent or '(same OU)'}"):
            conn.rename_s(dn, new_rdn, new_parent, delold=1)

    def delete(self, dn: str) -> None:
        conn = self.open()
        with write_errors(self.server, f"delete {dn}"):
            conn.delete_s(dn)

    def forget(self) -> None:
        """Drop the connection without a word to the server (it is lost already)."""
        self._conn = None
