"""Accounts and helpers for the PHS tests against the Samba fixture."""

from __future__ import annotations

import struct
import subprocess
import uuid
from dataclasses import dataclass

from pydantic import SecretStr
from tests.support.samba import SambaDC

from hybridsync.connectors.drsr import DrsrSettings, ExtendedOperation

# The two extended rights Entra Connect's AD DS connector account holds on the domain root.
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"


@dataclass(frozen=True)
class Account:
    sam: str
    dn: str
    password: str


def sid_text(binary: bytes) -> str:
    revision, count = binary[0], binary[1]
    authority = int.from_bytes(binary[2:8], "big")
    subs = struct.unpack(f"<{count}L", binary[8 : 8 + 4 * count])
    return "-".join(["S", str(revision), str(authority), *map(str, subs)])


def object_sid(dc: SambaDC, dn: str) -> str:
    return sid_text(dc.search(dn, attributes=["objectSid"])[0][1]["objectSid"][0])


def guid_text(dc: SambaDC, dn: str) -> str:
    return str(uuid.UUID(bytes_le=dc.object_guid(dn)))


def grant_replication_rights(dc: SambaDC, dn: str) -> None:
    """Give an account exactly the two replication rights, on the domain root."""
    sid = object_sid(dc, dn)
    sddl = f"(OA;;CR;{GET_CHANGES};;{sid})(OA;;CR;{GET_CHANGES_ALL};;{sid})"
    subprocess.run(
        ["samba-tool", "dsacl", "set", "-s", str(dc.smb_conf), f"--objectdn={dc.base_dn}",
         f"--sddl={sddl}"],
        check=True, capture_output=True,
    )  # fmt: skip


def samba_tool_setpassword(dc: SambaDC, sam: str, password: str) -> None:
    subprocess.run(
        ["samba-tool", "user", "setpassword", sam, f"--newpassword={password}",
         "-s", str(dc.smb_conf)],
        check=True, capture_output=True,
    )  # fmt: skip


def settings_for(
    dc: SambaDC,
    account: Account,
    *,
    password: str | None = None,
    operation: ExtendedOperation = ExtendedOperation.AUTO,
) -> DrsrSettings:
    return DrsrSettings(
        host=dc.address,
        domain=dc.fqdn,
        username=account.sam,
        password=SecretStr(password or account.password),
        timeout=15,
        extended_operation=operation,
    )
