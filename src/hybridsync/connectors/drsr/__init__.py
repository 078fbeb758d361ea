"""Reading NT hashes over MS-DRSR (the only package that imports impacket).

Needs the ``phs`` extra (``impacket``).
"""

from __future__ import annotations

from hybridsync.connectors.drsr.errors import (
    DomainControllerUnreachableError,
    DrsrAuthenticationError,
    ReplicationAccessDeniedError,
    SecretDecryptionError,
    UserNotReadableError,
)
from hybridsync.connectors.drsr.reader import DrsrHashReader
from hybridsync.connectors.drsr.settings import DrsrSettings, ExtendedOperation, password_from

__all__ = [
    "DomainControllerUnreachableError",
    "DrsrAuthenticationError",
    "DrsrHashReader",
    "DrsrSettings",
    "ExtendedOperation",
    "ReplicationAccessDeniedError",
    "SecretDecryptionError",
    "UserNotReadableError",
    "password_from",
]
