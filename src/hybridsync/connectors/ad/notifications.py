"""AD change notifications: a DC announces each change instead of being polled.

An asynchronous subtree search carrying the LDAP change notification control
(``LDAP_SERVER_NOTIFICATION_OID``) stays open on the domain's naming context; the DC
sends one entry for every object below it that changes, for as long as the connection
lives. Windows DCs and Samba AD DCs (4.x, ``ldap_server`` notification support) both
answer it over a subtree search with the filter ``(objectClass=*)``, the only filter
the control allows. The entry names the changed object and nothing more: the delta
import (DirSync) reads what changed, with the attribute list and the OU filter, so the
notification needs neither.

A DC that refuses the control (``unavailableCriticalExtension``, ``unwillingToPerform``)
makes :meth:`wait` raise :class:`ChangeEventsUnavailable`: the service then polls with
DirSync instead. The connection is its own, bound like the connector's, and never
carries another request.
"""

from __future__ import annotations

import contextlib
from typing import Any

import ldap
import structlog
from ldap.controls import LDAPControl
from ldap.ldapobject import LDAPObject

from hybridsync.connectors.ad.connection import secured
from hybridsync.connectors.ad.errors import ServerUnreachableError, ldap_errors
from hybridsync.connectors.ad.settings import ADSettings
from hybridsync.errors import ChangeEventsUnavailable

__all__ = ["NOTIFICATION_OID", "ChangeNotifications"]

log = structlog.get_logger(__name__)
NOTIFICATION_OID = "1.2.840.113556.1.4.528"
_REFUSED = (ldap.UNAVAILABLE_CRITICAL_EXTENSION, ldap.UNWILLING_TO_PERFORM, ldap.PROTOCOL_ERROR)
_LOST = (ldap.SERVER_DOWN, ldap.CONNECT_ERROR)


class ChangeNotifications:
    """One notification search on ``base_dn``; implements ``core.ports.ChangeEvents``."""

    def __init__(self, settings: ADSettings, base_dn: str) -> None:
        self._settings = settings
        self._base_dn = base_dn
        self._conn: LDAPObject | None = None
        self._msgid = 0

    def wait(self, timeout: float) -> bool:
        """True when the DC announced a change within ``timeout`` seconds; every
        announcement already waiting is taken with it, so a burst is one answer."""
        announced = self._next(timeout)
        while announced and self._next(0.0):
            pass
        return announced

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(ldap.LDAPError):  # already gone: nothing to release
                conn.unbind_s()

    def _next(self, timeout: float) -> bool:
        conn = self._open()
        try:
            kind, _ = conn.result(self._msgid, all=0, timeout=timeout)
        except ldap.TIMEOUT:
            return False
        except _REFUSED as exc:
            self.close()
            raise ChangeEventsUnavailable(
                f"{self._settings.url} refuses change notifications on {self._base_dn}: "
                f"{_detail(exc)}"
            ) from exc
        except _LOST as exc:
            self.close()
            raise ServerUnreachableError(
                f"change notifications from {self._settings.url} stopped: {_detail(exc)}"
            ) from exc
        log.debug("ad.notification", kind=kind, server=self._settings.url)
        if kind is None:
            return False
        if kind == ldap.RES_SEARCH_RESULT:
            # The DC ended the search (a time limit, a restart of its notification
            # service): open a new one, and count it as a change, since one may have
            # come and gone in between; the delta import finds out.
            self.close()
        return True

    def _open(self) -> LDAPObject:
        if self._conn is not None:
            return self._conn
        settings = self._settings
        operation = f"change notifications on {self._base_dn}"
        conn = secured(settings, operation)
        with ldap_errors(settings.url, operation):
            conn.simple_bind_s(settings.bind_user, settings.password().get_secret_value())
            self._msgid = conn.search_ext(
                self._base_dn,
                ldap.SCOPE_SUBTREE,
                "(objectClass=*)",
                ["objectGUID"],
                serverctrls=[LDAPControl(NOTIFICATION_OID, True, None)],
            )
        self._conn = conn
        return conn


def _detail(exc: Any) -> str:
    if exc.args and isinstance(exc.args[0], dict):
        info = exc.args[0]
        return str(info.get("info") or info.get("desc") or exc)
    return str(exc)
