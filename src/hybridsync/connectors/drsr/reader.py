"""Reading users' NT hashes from a domain controller over MS-DRSR.

One session (TCP connection, RPC bind with packet privacy, ``DRSBind``) serves a list of
users; each user is one ``DRSGetNCChanges`` with a single-object extended operation, as
Entra Connect does. NT hashes exist only in memory and are never logged; log events name
users by anchor only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import structlog
from impacket.dcerpc.v5 import drsuapi, epm, transport
from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_PRIVACY, DCERPC_v5

from hybridsync.connectors.drsr import crypto, wire
from hybridsync.connectors.drsr.errors import (
    ACCESS_DENIED_CODES,
    USER_NOT_FOUND_CODES,
    ReplicationAccessDeniedError,
    SecretDecryptionError,
    UserNotReadableError,
    authentication_errors,
    reach_errors,
    replication_errors,
    win32_name,
)
from hybridsync.connectors.drsr.settings import DrsrSettings, ExtendedOperation
from hybridsync.core.password_hash_sync.changes import NTHashRead
from hybridsync.core.password_hash_sync.hashes import NTHash
from hybridsync.errors import FatalConnectorError

__all__ = ["DrsrHashReader"]

log = structlog.get_logger(__name__)

_EXOP_CODES = {
    ExtendedOperation.REPL_SECRETS: drsuapi.EXOP_REPL_SECRETS,
    ExtendedOperation.REPL_OBJ: drsuapi.EXOP_REPL_OBJ,
}
_RIGHTS_HINT = (
    "grant it 'Replicating Directory Changes' and 'Replicating Directory Changes All' "
    "on the domain root"
)


class DrsrHashReader:
    """An :class:`~hybridsync.core.password_hash_sync.changes.NTHashSource` over MS-DRSR.

    Use it as a context manager to keep one session for many reads::

        with DrsrHashReader(settings) as reader:
            nt_hash = reader.read_nt_hash("7660fdf4-14e1-489c-8bf6-ff5038755bda")

    ``read_nt_hashes`` opens (and closes) a session itself when none is open.
    """

    def __init__(self, settings: DrsrSettings) -> None:
        self.settings = settings
        self._dce: DCERPC_v5 | None = None
        self._session: wire.BoundSession | None = None
        self._session_key = b""
        self.extended_operation_used: ExtendedOperation | None = None
        """The operation the DC accepted last (``AUTO`` resolves to one of the two)."""

    # --- session ---------------------------------------------------------------------

    def __enter__(self) -> DrsrHashReader:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def open(self) -> None:
        """Connect, authenticate and ``DRSBind``.

        Raises:
            DomainControllerUnreachableError: no connection to the DC.
            DrsrAuthenticationError: the DC refused the account.
        """
        if self.is_open:
            return
        settings = self.settings
        with reach_errors(settings.host):
            dce = self._connect()
        try:
            with authentication_errors(settings.host, settings.account):
                dce.bind(drsuapi.MSRPC_UUID_DRSUAPI)
                self._session = wire.drs_bind(dce, settings.domain)
        except BaseException:
            dce.disconnect()
            raise
        self._dce = dce
        self._session_key = self._read_session_key(dce)
        log.debug("drsr.session.open", host=settings.host, account=settings.account)

    def _connect(self) -> DCERPC_v5:
        settings = self.settings
        mapper = transport.DCERPCTransportFactory(f"ncacn_ip_tcp:{settings.host}[135]")
        mapper.set_connect_timeout(settings.timeout)
        mapper_dce = mapper.get_dce_rpc()
        mapper_dce.connect()
        try:
            binding = epm.hept_map(
                settings.host, drsuapi.MSRPC_UUID_DRSUAPI, protocol="ncacn_ip_tcp", dce=mapper_dce
            )
        finally:
            mapper_dce.disconnect()
        rpc = transport.DCERPCTransportFactory(binding)
        rpc.set_connect_timeout(settings.timeout)
        rpc.set_credentials(
            settings.username, settings.password.get_secret_value(), settings.domain, "", ""
        )
        dce = rpc.get_dce_rpc()
        dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
        dce.connect()
        return dce

    @staticmethod
    def _read_session_key(dce: DCERPC_v5) -> bytes:
        key: Any = dce.get_session_key()
        return bytes(getattr(key, "contents", key))

    def close(self) -> None:
        dce, self._dce, self._session, self._session_key = self._dce, None, None, b""
        if dce is not None:
            dce.disconnect()
            log.debug("drsr.session.closed", host=self.settings.host)

    # --- reading ---------------------------------------------------------------------

    def read_nt_hash(self, user: str) -> NTHash:
        """The NT hash of one user, given as objectGUID, SID or DN.

        Raises:
            UserNotReadableError: this user cannot be read (not found, no password).
            ReplicationAccessDeniedError: the account lacks the replication rights.
            FatalConnectorError: any other DC or protocol failure.
        """
        self.open()
        assert self._dce is not None
        assert self._session is not None
        with replication_errors(self.settings.host):
            replicated = self._replicate(self._dce, self._session, user)
        if replicated.encrypted_unicode_pwd is None:
            raise UserNotReadableError(f"user {user}: has no password hash (unicodePwd) to sync")
        try:
            nt_hash = crypto.decrypt_nt_hash(
                self._session_key, replicated.encrypted_unicode_pwd, replicated.rid
            )
        except ValueError as exc:
            raise SecretDecryptionError(f"user {user}: unicodePwd did not decrypt: {exc}") from exc
        log.debug("drsr.nt_hash.read", user=user, operation=self.extended_operation_used)
        return nt_hash

    def read_nt_hashes(self, anchors: Sequence[str]) -> Iterator[NTHashRead]:
        """One result per user, in order; a user that cannot be read is an error result.

        Raises:
            FatalConnectorError: nothing more can be read (see :meth:`open`, and
                ``ReplicationAccessDeniedError``).
        """
        opened_here = not self.is_open
        try:
            for anchor in anchors:
                try:
                    yield NTHashRead(anchor, self.read_nt_hash(anchor))
                except UserNotReadableError as exc:
                    log.warning("drsr.nt_hash.unreadable", user=anchor, error=str(exc))
                    yield NTHashRead(anchor, error=str(exc))
        finally:
            if opened_here:
                self.close()

    def _operations(self) -> list[ExtendedOperation]:
        choice = self.settings.extended_operation
        if choice is not ExtendedOperation.AUTO:
            return [choice]
        if self.extended_operation_used is not None:
            return [self.extended_operation_used]
        return [ExtendedOperation.REPL_SECRETS, ExtendedOperation.REPL_OBJ]

    def _replicate(
        self, dce: DCERPC_v5, session: wire.BoundSession, user: str
    ) -> wire.ReplicatedUser:
        operations = self._operations()
        for index, operation in enumerate(operations):
            request = wire.get_nc_changes_request(session, user, _EXOP_CODES[operation])
            result, reply = wire.send(dce, request)
            if result in ACCESS_DENIED_CODES and index + 1 < len(operations):
                log.info("drsr.exop.fallback", refused=operation, next=operations[index + 1])
                continue
            self._check(result, user, operation)
            self.extended_operation_used = operation
            replicated = wire.parse_reply(reply)
            if replicated is None:
                raise UserNotReadableError(f"user {user}: the DC returned no object")
            return replicated
        raise AssertionError("unreachable: the last operation returns or raises")

    def _check(self, result: int, user: str, operation: ExtendedOperation) -> None:
        if result == 0:
            return
        settings = self.settings
        if result in ACCESS_DENIED_CODES:
            raise ReplicationAccessDeniedError(
                f"domain controller {settings.host} refused to replicate secrets to "
                f"{settings.account}: {win32_name(result)}; {_RIGHTS_HINT}"
            )
        if result in USER_NOT_FOUND_CODES:
            raise UserNotReadableError(f"user {user}: not found on the DC ({win32_name(result)})")
        raise FatalConnectorError(
            f"domain controller {settings.host}: DRSGetNCChanges ({operation.value}) for "
            f"{user} failed with {win32_name(result)}"
        )
