"""Validate a user's password against AD: find the user by its anchor, then bind as the user.

Used by the pass-through agent. The service account only reads the user's DN; the password is
checked by a simple bind as that DN over TLS (LDAPS or StartTLS, certificates verified) on a
connection of its own, closed right after. AD explains a refused bind with a "data" code in
the error text (``... AcceptSecurityContext error, data 52e, v...``); those codes become the
outcomes below. The password is handed to python-ldap and nowhere else: never logged, never
part of an exception.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import uuid
from enum import StrEnum
from typing import Any

import ldap
from pydantic import SecretStr

from hybridsync.connectors.ad.connection import Connection
from hybridsync.connectors.ad.errors import ServerUnreachableError, ldap_errors
from hybridsync.connectors.ad.settings import ADSettings

__all__ = ["PasswordCheck", "PasswordOutcome", "outcome_of_bind_error"]


class PasswordOutcome(StrEnum):
    SUCCESS = "success"
    INVALID_CREDENTIALS = "invalid_credentials"
    DISABLED = "disabled"
    LOCKED_OUT = "locked_out"
    PASSWORD_EXPIRED = "password_expired"
    MUST_CHANGE = "must_change"


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
    """One service-account connection for lookups; a fresh connection per password bind."""

    def __init__(self, settings: ADSettings, service_password: SecretStr) -> None:
        self._settings = settings
        self._lookup = Connection(settings, service_password)
        # One lookup connection for every worker thread: python-ldap objects are not shared
        # safely, so lookups take turns (they are short; the binds run in parallel).
        self._lookup_lock = threading.Lock()

    def check(self, anchor: str, password: str) -> PasswordOutcome:
        dn = self.find_user(anchor)
        if dn is None or not password:
            return PasswordOutcome.INVALID_CREDENTIALS
        return self._bind_as(dn, password)

    def find_user(self, anchor: str) -> str | None:
        guid = guid_of_anchor(anchor)
        if guid is None:
            return None
        with self._lookup_lock:
            try:
                entry = self._lookup.read_entry(f"<GUID={guid}>", ["distinguishedName"])
            except ServerUnreachableError:
                self._lookup.reconnect()
                entry = self._lookup.read_entry(f"<GUID={guid}>", ["distinguishedName"])
        if entry is None:
            return None
        return entry[0]

    def close(self) -> None:
        self._lookup.close()

    def _bind_as(self, dn: str, password: str) -> PasswordOutcome:
        settings = self._settings
        conn = self._connect()
        try:
            conn.simple_bind_s(dn, password)
        except ldap.INVALID_CREDENTIALS as exc:
            return outcome_of_bind_error(_info(exc))
        except ldap.LDAPError as exc:
            with ldap_errors(settings.url, "password bind"):
                raise exc from None
        finally:
            conn.unbind_s()
        return PasswordOutcome.SUCCESS

    def _connect(self) -> Any:
        settings = self._settings
        with ldap_errors(settings.url, "connect for a password bind"):
            conn = ldap.initialize(settings.url)
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.timeout_seconds)
            conn.set_option(ldap.OPT_TIMEOUT, settings.timeout_seconds)
            if settings.ca_file is not None:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(settings.ca_file))
            # A password never crosses an unverified channel, whatever verify_tls says.
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
            if settings.url.startswith("ldap://"):
                conn.start_tls_s()
        return conn


def _info(exc: ldap.LDAPError) -> str:
    if exc.args and isinstance(exc.args[0], dict):
        return str(exc.args[0].get("info", ""))
    return ""
