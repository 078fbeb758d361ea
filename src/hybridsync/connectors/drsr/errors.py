"""DRSR failures, and their translation from impacket and socket errors (done only here).

::

    FatalConnectorError
    ├── DomainControllerUnreachableError   no TCP connection to the endpoint mapper or DRSUAPI
    ├── DrsrAuthenticationError            the DC refused the account's credentials
    ├── ReplicationAccessDeniedError       the account lacks the replication rights
    └── SecretDecryptionError              a secret attribute did not decrypt (checksum)
    ObjectRejectedError
    └── UserNotReadableError               one user could not be read (not found, no hash)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from impacket import system_errors
from impacket.dcerpc.v5.rpcrt import DCERPCException

from hybridsync.errors import FatalConnectorError, ObjectRejectedError, UnreachableError

__all__ = [
    "ERROR_DS_CANT_FIND_EXPECTED_NC",
    "ERROR_DS_DRA_ACCESS_DENIED",
    "ERROR_DS_DRA_BAD_DN",
    "ERROR_DS_DRA_SECRETS_DENIED",
    "ERROR_DS_OBJ_NOT_FOUND",
    "DomainControllerUnreachableError",
    "DrsrAuthenticationError",
    "ReplicationAccessDeniedError",
    "SecretDecryptionError",
    "UserNotReadableError",
    "authentication_errors",
    "reach_errors",
    "replication_errors",
    "win32_name",
]

ERROR_DS_OBJ_NOT_FOUND = 0x208D
ERROR_DS_CANT_FIND_EXPECTED_NC = 0x20E4
ERROR_DS_DRA_BAD_DN = 0x20F7
ERROR_DS_DRA_ACCESS_DENIED = 0x2105
ERROR_DS_DRA_SECRETS_DENIED = 0x21B6
USER_NOT_FOUND_CODES = frozenset(
    {ERROR_DS_OBJ_NOT_FOUND, ERROR_DS_DRA_BAD_DN, ERROR_DS_CANT_FIND_EXPECTED_NC}
)
_CONNECTION_LOST = ("Connection closed", "Could not connect")
ACCESS_DENIED_CODES = frozenset({ERROR_DS_DRA_ACCESS_DENIED, ERROR_DS_DRA_SECRETS_DENIED})


class DomainControllerUnreachableError(UnreachableError):
    """No connection to the DC's endpoint mapper (port 135) or its DRSUAPI endpoint."""


class DrsrAuthenticationError(FatalConnectorError):
    """The DC refused the sync account's credentials."""


class ReplicationAccessDeniedError(FatalConnectorError):
    """The sync account may not replicate secrets (missing replication rights)."""


class SecretDecryptionError(FatalConnectorError):
    """A secret attribute failed its checksum: the session key or the protocol is off."""


class UserNotReadableError(ObjectRejectedError):
    """One user's NT hash could not be read; the others are unaffected."""


def win32_name(code: int) -> str:
    """``ERROR_DS_DRA_ACCESS_DENIED (0x2105)`` for a Win32 error code."""
    known = system_errors.ERROR_MESSAGES.get(code)
    name = known[0] if known else "unknown error"
    return f"{name} (0x{code:x})"


@contextlib.contextmanager
def reach_errors(host: str) -> Iterator[None]:
    """Translate failures to open a connection to ``host``."""
    try:
        yield
    except (DCERPCException, OSError) as exc:
        raise DomainControllerUnreachableError(
            f"domain controller {host}: cannot open MS-DRSR (DRSUAPI over TCP, endpoint "
            f"mapper on port 135): {exc}"
        ) from exc


@contextlib.contextmanager
def authentication_errors(host: str, account: str) -> Iterator[None]:
    """Translate failures of the RPC bind and of ``DRSBind``."""
    try:
        yield
    except OSError as exc:
        raise DomainControllerUnreachableError(
            f"domain controller {host}: the connection failed during sign-in: {exc}"
        ) from exc
    except DCERPCException as exc:
        raise DrsrAuthenticationError(
            f"domain controller {host} refused the sign-in of {account} to DRSUAPI ({exc}); "
            "check the user name, the domain and the password"
        ) from exc


@contextlib.contextmanager
def replication_errors(host: str) -> Iterator[None]:
    """Translate transport failures of a ``DRSGetNCChanges`` call in an open session."""
    try:
        yield
    except OSError as exc:
        raise DomainControllerUnreachableError(
            f"domain controller {host}: the connection was lost: {exc}"
        ) from exc
    except DCERPCException as exc:
        # impacket reports a TCP connection closed by the DC as an RPC exception.
        if str(exc).startswith(_CONNECTION_LOST):
            raise DomainControllerUnreachableError(
                f"domain controller {host}: the connection was lost: {exc}"
            ) from exc
        raise FatalConnectorError(
            f"domain controller {host}: DRSGetNCChanges failed at the RPC level: {exc}"
        ) from exc
