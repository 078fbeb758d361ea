"""python-ldap's exceptions, translated once into hybridsync's error tree.

Every call into python-ldap runs inside :func:`ldap_errors`; nothing else in the
connector catches an ``ldap`` exception. The most specific translation wins.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import Any

import ldap

from hybridsync.errors import (
    ConnectorError,
    FatalConnectorError,
    TransientConnectorError,
    UnreachableError,
)

__all__ = [
    "AlreadyExistsError",
    "FirstContactError",
    "InsufficientRightsError",
    "NoSuchObjectError",
    "ServerTimeoutError",
    "ServerUnreachableError",
    "TLSFailureError",
    "UnwillingError",
    "WriteRefusedError",
    "ldap_errors",
    "write_errors",
]


class ServerUnreachableError(FatalConnectorError):
    """No connection to the server, or it dropped (the connector may reconnect)."""


class ServerTimeoutError(ServerUnreachableError):
    """The server took the connection but did not answer in time (a hung DC)."""


class FirstContactError(ServerUnreachableError, UnreachableError):
    """The server could not be reached the first time it was asked: a wrong name or
    address, or nothing listening. Not worth retrying for minutes."""


class TLSFailureError(UnreachableError):
    """The TLS handshake failed: certificate not trusted, wrong name, protocol."""


class InsufficientRightsError(FatalConnectorError):
    """The bound account may not do this (for DirSync: it lacks Replicating Directory Changes)."""


class NoSuchObjectError(ConnectorError):
    """The object (or search base) does not exist."""


class UnwillingError(FatalConnectorError):
    """The server refused the request as posed (for DirSync: an invalid cookie)."""


class WriteRefusedError(ConnectorError):
    """The server refused a write as posed: a value it will not take (constraint, syntax,
    a value already there, unwilling). Only this object is affected."""

    def __init__(self, message: str, info: str, result: str = "") -> None:
        super().__init__(message)
        self.info = info
        """The server's diagnostic text (``0000XXXX: ... Att ... (name)`` on AD)."""
        self.result = result
        """The LDAP result's name, e.g. ``TYPE_OR_VALUE_EXISTS``."""


class AlreadyExistsError(WriteRefusedError):
    """An add found the DN, or a value that must be unique in the domain, taken."""


_REFUSED_WRITES = (
    ldap.CONSTRAINT_VIOLATION,
    ldap.TYPE_OR_VALUE_EXISTS,
    ldap.INVALID_SYNTAX,
    ldap.UNWILLING_TO_PERFORM,
    ldap.OBJECT_CLASS_VIOLATION,
    ldap.NAMING_VIOLATION,
    ldap.NO_SUCH_ATTRIBUTE,
    ldap.UNDEFINED_TYPE,
    ldap.INVALID_DN_SYNTAX,
    ldap.NOT_ALLOWED_ON_NONLEAF,
    ldap.NOT_ALLOWED_ON_RDN,
    ldap.OTHER,
)


def _info(exc: Any) -> str:
    if exc.args and isinstance(exc.args[0], dict):
        return str(exc.args[0].get("info", ""))
    return ""


def _detail(exc: Any) -> str:
    if exc.args and isinstance(exc.args[0], dict):
        info = exc.args[0]
        text = str(info.get("desc", ""))
        if info.get("info"):
            text = f"{text}: {info['info']}"
        return text
    return str(exc)


def _errno(exc: Any) -> int | None:
    if exc.args and isinstance(exc.args[0], dict):
        found = exc.args[0].get("errno")
        return found if isinstance(found, int) else None
    return None


def _translate(exc: ldap.LDAPError, server: str, operation: str) -> ConnectorError:
    detail = _detail(exc)
    where = f"{operation} on {server}"
    if isinstance(exc, ldap.SERVER_DOWN | ldap.CONNECT_ERROR):
        if _errno(exc) == errno.ETIMEDOUT:
            return ServerTimeoutError(f"the server did not answer in time ({where}): {detail}")
        if "certificate" in detail.lower() or "tls" in detail.lower():
            return TLSFailureError(f"TLS failure ({where}): {detail}")
        return ServerUnreachableError(f"server unreachable ({where}): {detail}")
    if isinstance(exc, ldap.INVALID_CREDENTIALS):
        return FatalConnectorError(f"bad credentials ({where}): the bind was rejected")
    if isinstance(exc, ldap.STRONG_AUTH_REQUIRED | ldap.CONFIDENTIALITY_REQUIRED):
        return FatalConnectorError(f"the server requires TLS ({where}): {detail}")
    if isinstance(exc, ldap.INSUFFICIENT_ACCESS):
        return InsufficientRightsError(f"insufficient rights ({where}): {detail}")
    if isinstance(exc, ldap.REFERRAL):
        return FatalConnectorError(
            f"referral to another domain ({where}): {detail}; point the connector at a DC "
            "of that domain or fix base_dn / include_ous"
        )
    if isinstance(exc, ldap.NO_SUCH_OBJECT):
        return NoSuchObjectError(f"no such object ({where})")
    refused = ldap.UNWILLING_TO_PERFORM | ldap.PROTOCOL_ERROR | ldap.OTHER
    if isinstance(exc, refused | ldap.UNAVAILABLE_CRITICAL_EXTENSION):
        return UnwillingError(f"the server refused {where}: {detail}")
    if isinstance(exc, ldap.TIMEOUT | ldap.TIMELIMIT_EXCEEDED | ldap.BUSY | ldap.UNAVAILABLE):
        return TransientConnectorError(f"the server did not answer in time ({where}): {detail}")
    return FatalConnectorError(f"LDAP error ({where}): {detail}")


@contextlib.contextmanager
def ldap_errors(server: str, operation: str) -> Iterator[None]:
    """Translate python-ldap exceptions raised inside the block, naming the operation."""
    try:
        yield
    except ldap.LDAPError as exc:
        raise _translate(exc, server, operation) from exc


@contextlib.contextmanager
def write_errors(server: str, operation: str) -> Iterator[None]:
    """:func:`ldap_errors` for a write: the answers that refuse only this object become
    :class:`WriteRefusedError` (they stop nothing else)."""
    try:
        yield
    except ldap.ALREADY_EXISTS as exc:
        raise AlreadyExistsError(
            f"already exists ({operation} on {server}): {_detail(exc)}", _info(exc)
        ) from exc
    except _REFUSED_WRITES as exc:
        raise WriteRefusedError(
            f"refused ({operation} on {server}): {_detail(exc)}", _info(exc), type(exc).__name__
        ) from exc
    except ldap.LDAPError as exc:
        raise _translate(exc, server, operation) from exc
