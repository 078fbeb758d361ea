"""Validate a user's password against AD: find the user by its anchor, then bind as the user.

Used by the pass-through agent. The service account only reads the user's DN; the password is
checked by a simple bind as that DN over TLS (LDAPS or StartTLS, certificates verified) on a
connection of its own, closed right after. Both connections are set up by
:func:`~hybridsync.connectors.ad.connection.secured`, every wait bounded. AD explains a
refused bind with a "data" code in the error text (``... AcceptSecurityContext error, data
52e, v...``); those codes become the outcomes below. The password is handed to python-ldap
and nowhere else: never logged, never part of an exception.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import threading
import uuid
from enum import StrEnum

import ldap
import structlog
from pydantic import SecretStr

from hybridsync.connectors.ad.connection import Connection, RawEntry, secured
from hybridsync.connectors.ad.errors import ServerTimeoutError, ServerUnreachableError, ldap_errors
from hybridsync.connectors.ad.settings import ADSettings
from hybridsync.errors import ConnectorError

__all__ = ["PasswordCheck", "PasswordOutcome", "outcome_of_bind_error"]


class PasswordOutcome(StrEnum):
    SUCCESS = "success"
    INVALID_CREDENTIALS = "invalid_credentials"
    DISABLED = "disabled"
    LOCKED_OUT = "locked_out"
    PASSWORD_EXPIRED = "password_expired"
    MUST_CHANGE = "must_change"
    AD_UNAVAILABLE = "ad_unavailable"
    """AD did not answer in time or could not be reached: try again later."""


# Win32 error codes AD reports in a refused bind's diagnostic message.
_DATA_CODES = {
    "525": PasswordOutcome.INVALID_CREDENTIALS,  # no such user
    "52e": PasswordOutcome.INVALID_CREDENTIALS,  # wrong password
    "530": PasswordOutcome.DISABLED,  # not permitted to log on at this time
    "531": PasswordOutcome.DISABLED,  # not permitted to log on at this workstation
    "532": PasswordOutcome.PASSWORD_EXPIRED,
    "533": PasswordOutcome.DISABLED,  # account disabled
    "701": PasswordOutcome.DISABLED,  # account expired
    "773": PasswordOutcome.MUST_CHANGE,  # must reset password (pwdLastSet = 0)
    "775": PasswordOutcome.LOCKED_OUT,
}
log = structlog.get_logger(__name__)
_DATA = re.compile(r"\bdata ([0-9a-f]{3,8})\b", re.IGNORECASE)


def outcome_of_bind_error(message: str) -> PasswordOutcome:
    """The outcome a refused bind's diagnostic message means (unknown codes: invalid)."""
    found = _DATA.search(message)
    code = found.group(1).lower() if found else ""
    return _DATA_CODES.get(code, PasswordOutcome.INVALID_CREDENTIALS)


def guid_of_anchor(anchor: str) -> uuid.UUID | None:
    """The objectGUID an ``onPremisesImmutableId`` (base64 of the 16 GUID bytes) names."""
    try:
        raw = base64.b64decode(anchor, validate=True)
    except (binascii.Error, ValueError):
        return None
    return uuid.UUID(bytes_le=raw) if len(raw) == 16 else None


class PasswordCheck:
    """One service-account connection for lookups; a fresh connection per password bind.

    Every wait (TCP connect, TLS handshake, each LDAP result) is bounded by the settings'
    ``password_check_timeout_seconds``. When AD cannot say (no answer in time, unreachable,
    any LDAP failure) the outcome is ``AD_UNAVAILABLE``: never a success, and the user is
    told to try again later. The reason is logged; the password never is.
    """

    def __init__(self, settings: ADSettings, service_password: SecretStr) -> None:
        # A sign-in waits for this check: the sync's long timeout does not apply here.
        self._settings = settings.model_copy(
            update={"timeout_seconds": settings.password_check_timeout_seconds}
        )
        self._lookup = Connection(self._settings, service_password)
        # One lookup connection for every worker thread: python-ldap objects are not shared
        # safely, so lookups take turns (they are short; the binds run in parallel).
        self._lookup_lock = threading.Lock()

    def check(self, anchor: str, password: str) -> PasswordOutcome:
        try:
            dn = self.find_user(anchor)
            if dn is None or not password:
                return PasswordOutcome.INVALID_CREDENTIALS
            return self._bind_as(dn, password)
        except ConnectorError as exc:
            log.warning("agent.ad_unavailable", server=self._settings.url, anchor=anchor,
                        error=type(exc).__name__, detail=str(exc))  # fmt: skip
            return PasswordOutcome.AD_UNAVAILABLE

    def find_user(self, anchor: str) -> str | None:
        """The user's DN, None if no user has this anchor; raises when AD cannot say."""
        guid = guid_of_anchor(anchor)
        if guid is None:
            return None
        with self._lookup_lock:
            entry = self._read_dn(f"<GUID={guid}>")
        if entry is None:
            return None
        return entry[0]

    def close(self) -> None:
        self._lookup.close()

    def _read_dn(self, dn: str) -> RawEntry | None:
        try:
            return self._read_dn_once(dn)
        except ServerTimeoutError:
            raise  # a hung DC: no second wait (a sign-in is waiting)
        except ServerUnreachableError:
            # The DC may have dropped an idle connection: one fresh try, no more.
            return self._read_dn_once(dn)

    def _read_dn_once(self, dn: str) -> RawEntry | None:
        try:
            return self._lookup.read_entry(dn, ["distinguishedName"])
        except ConnectorError:
            # The connection is dead or has a request in flight (a result that timed out):
            # the next read opens a fresh one.
            self._drop_lookup()
            raise

    def _drop_lookup(self) -> None:
        with contextlib.suppress(ConnectorError):
            self._lookup.close()

    def _bind_as(self, dn: str, password: str) -> PasswordOutcome:
        url = self._settings.url
        conn = secured(self._settings, "connect for a password bind", always_verify=True)
        try:
            conn.simple_bind_s(dn, password)
        except ldap.INVALID_CREDENTIALS as exc:
            return outcome_of_bind_error(_info(exc))
        except ldap.LDAPError as exc:
            with ldap_errors(url, "password bind"):
                raise exc from None
        finally:
            with contextlib.suppress(ldap.LDAPError):
                conn.unbind_s()
        return PasswordOutcome.SUCCESS


def _info(exc: ldap.LDAPError) -> str:
    if exc.args and isinstance(exc.args[0], dict):
        return str(exc.args[0].get("info", ""))
    return ""
