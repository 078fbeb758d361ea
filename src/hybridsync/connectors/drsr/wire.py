"""MS-DRSR messages for single-object secret replication, built with impacket's NDR types.

Only the pieces hash reading needs: ``DRSBind``, ``DRSDomainControllerInfo`` and a
``DRSGetNCChanges`` (V8 request) for one object, and reading the reply.

The request's prefix table ends with a schemaInfo entry (index 0, 21 bytes: 0xFF, a
4-byte schema revision and the 16-byte invocation id, zeros here). MS-DRSR expects it and
Samba refuses a prefix table without it ("Failed to decode remote prefixMap").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from struct import pack, unpack
from typing import Any

from impacket.dcerpc.v5 import drsuapi
from impacket.dcerpc.v5.dtypes import NULL
from impacket.dcerpc.v5.rpcrt import DCERPC_v5

__all__ = [
    "UNICODE_PWD_OID",
    "BoundSession",
    "ReplicatedUser",
    "drs_bind",
    "get_nc_changes_request",
    "parse_reply",
    "send",
    "user_dsname",
]

UNICODE_PWD_OID = "1.2.840.113556.1.4.90"
SCHEMA_INFO = bytes([0xFF]) + bytes(20)
_BIND_FLAGS = (
    drsuapi.DRS_EXT_GETCHGREQ_V6
    | drsuapi.DRS_EXT_GETCHGREPLY_V6
    | drsuapi.DRS_EXT_GETCHGREQ_V8
    | drsuapi.DRS_EXT_STRONG_ENCRYPTION
)


@dataclass(frozen=True, slots=True)
class BoundSession:
    """A ``DRSBind`` handle and the DC's NTDS settings object GUID (the DSA)."""

    handle: Any
    dsa_guid: bytes


@dataclass(frozen=True, slots=True)
class ReplicatedUser:
    """What a reply says about the user: its RID and the still encrypted ``unicodePwd``."""

    rid: int
    encrypted_unicode_pwd: bytes | None


def _bind_request(epoch: int) -> Any:
    extensions = drsuapi.DRS_EXTENSIONS_INT()
    extensions["cb"] = len(extensions)
    extensions["dwFlags"] = _BIND_FLAGS
    extensions["SiteObjGuid"] = drsuapi.NULLGUID
    extensions["Pid"] = 0
    extensions["dwReplEpoch"] = epoch
    extensions["dwFlagsExt"] = 0
    extensions["ConfigObjGUID"] = drsuapi.NULLGUID
    extensions["dwExtCaps"] = 0xFFFFFFFF
    request = drsuapi.DRSBind()
    request["puuidClientDsa"] = drsuapi.NTDSAPI_CLIENT_GUID
    request["pextClient"]["cb"] = len(extensions)
    request["pextClient"]["rgb"] = list(extensions.getData())
    return request


def _server_epoch(reply: Any) -> int:
    server = drsuapi.DRS_EXTENSIONS_INT()
    raw = b"".join(reply["ppextServer"]["rgb"])
    # A DC may send fewer bytes than the full structure: pad before unpacking.
    server.fromString(raw + bytes(max(0, len(server) - reply["ppextServer"]["cb"])))
    return int(server["dwReplEpoch"])


def drs_bind(dce: DCERPC_v5, domain: str) -> BoundSession:
    """``DRSBind`` (again with the DC's replication epoch if it has one) and find the DSA."""
    reply = dce.request(_bind_request(0))
    epoch = _server_epoch(reply)
    if epoch != 0:
        reply = dce.request(_bind_request(epoch))
    handle = reply["phDrs"]
    info = drsuapi.hDRSDomainControllerInfo(dce, handle, domain, 2)
    items = info["pmsgOut"]["V2"]["rItems"]
    if info["pmsgOut"]["V2"]["cItems"] < 1:
        raise LookupError(f"the DC lists no domain controller for {domain}")
    return BoundSession(handle, bytes(items[0]["NtdsDsaObjectGuid"]))


def _packed_sid(text: str) -> bytes:
    """A SID in its binary form (MS-DTYP 2.4.2.2) from ``S-1-5-21-...``."""
    parts = text.split("-")
    try:
        revision, authority = int(parts[1]), int(parts[2])
        subauthorities = [int(part) for part in parts[3:]]
    except (IndexError, ValueError):
        raise ValueError(f"not a SID: {text!r}") from None
    packed = pack("<BB", revision, len(subauthorities)) + authority.to_bytes(6, "big")
    return packed + b"".join(pack("<L", sub) for sub in subauthorities)


def user_dsname(user: str) -> Any:
    """A DSNAME for a user given as objectGUID, SID (``S-1-5-...``) or DN."""
    name = drsuapi.DSNAME()
    name["SidLen"] = 0
    name["Guid"] = drsuapi.NULLGUID
    name["Sid"] = b""
    name["NameLen"] = 0
    name["StringName"] = "\x00"
    try:
        name["Guid"] = uuid.UUID(user).bytes_le
    except ValueError:
        if user.upper().startswith("S-1-"):
            packed = _packed_sid(user)
            name["SidLen"] = len(packed)
            name["Sid"] = packed
        else:
            name["NameLen"] = len(user)
            name["StringName"] = user + "\x00"
    name["structLen"] = len(name.getData())
    return name


def _prefix_table_and_attributes() -> tuple[list[Any], Any]:
    table: list[Any] = []
    attributes = drsuapi.PARTIAL_ATTR_VECTOR_V1_EXT()
    attributes["dwVersion"] = 1
    attributes["cAttrs"] = 1
    attributes["rgPartialAttr"].append(drsuapi.MakeAttid(table, UNICODE_PWD_OID))
    schema_info = drsuapi.PrefixTableEntry()
    schema_info["ndx"] = 0
    schema_info["prefix"]["length"] = len(SCHEMA_INFO)
    schema_info["prefix"]["elements"] = list(SCHEMA_INFO)
    table.append(schema_info)
    return table, attributes


def get_nc_changes_request(session: BoundSession, user: str, extended_operation: int) -> Any:
    """A V8 ``DRSGetNCChanges`` for one user with a single-object extended operation."""
    request = drsuapi.DRSGetNCChanges()
    request["hDrs"] = session.handle
    request["dwInVersion"] = 8
    request["pmsgIn"]["tag"] = 8
    message = request["pmsgIn"]["V8"]
    message["uuidDsaObjDest"] = session.dsa_guid
    message["uuidInvocIdSrc"] = session.dsa_guid
    message["pNC"] = user_dsname(user)
    message["usnvecFrom"]["usnHighObjUpdate"] = 0
    message["usnvecFrom"]["usnHighPropUpdate"] = 0
    message["pUpToDateVecDest"] = NULL
    message["ulFlags"] = drsuapi.DRS_INIT_SYNC | drsuapi.DRS_WRIT_REP
    message["cMaxObjects"] = 1
    message["cMaxBytes"] = 0
    message["ulExtendedOp"] = extended_operation
    table, attributes = _prefix_table_and_attributes()
    message["pPartialAttrSet"] = attributes
    message["PrefixTableDest"]["PrefixCount"] = len(table)
    message["PrefixTableDest"]["pPrefixEntry"] = table
    message["pPartialAttrSetEx1"] = NULL
    return request


def send(dce: DCERPC_v5, request: Any) -> tuple[int, Any]:
    """Send ``request``; return the call's Win32 result and the parsed reply.

    impacket's ``request`` reads the result from a reply that failed to parse and reports
    0, so the result is taken from the last four bytes of the raw reply instead.
    """
    dce.call(request.opnum, request)
    answer = dce.recv()
    result = unpack("<L", answer[-4:])[0]
    if result != 0:
        return result, None
    return 0, drsuapi.DRSGetNCChangesResponse(answer)


def parse_reply(reply: Any) -> ReplicatedUser | None:
    """The user in a ``DRSGetNCChanges`` reply; ``None`` when it holds no object."""
    version = reply["pdwOutVersion"]
    if version not in (1, 6):
        raise ValueError(f"unexpected DRSGetNCChanges reply version {version}")
    message = reply["pmsgOut"][f"V{version}"]
    if message["cNumObjects"] < 1 or message["pObjects"] in (NULL, None, b""):
        return None
    entry = message["pObjects"]["Entinf"]
    rid = unpack("<L", bytes(entry["pName"]["Sid"])[-4:])[0]
    prefix_table = message["PrefixTableSrc"]["pPrefixEntry"]
    for attribute in entry["AttrBlock"]["pAttr"]:
        if drsuapi.OidFromAttid(prefix_table, attribute["attrTyp"]) != UNICODE_PWD_OID:
            continue
        if attribute["AttrVal"]["valCount"] < 1:
            return ReplicatedUser(rid, None)
        return ReplicatedUser(rid, b"".join(attribute["AttrVal"]["pAVal"][0]["pVal"]))
    return ReplicatedUser(rid, None)
