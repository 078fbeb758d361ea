from __future__ import annotations

import uuid

import pytest

pytest.importorskip("impacket")

from impacket.dcerpc.v5 import drsuapi

from hybridsync.connectors.drsr import wire

SESSION = wire.BoundSession(handle=b"\x00" * 20, dsa_guid=uuid.uuid4().bytes_le)


def request_for(user: str, operation: int = drsuapi.EXOP_REPL_SECRETS) -> object:
    return wire.get_nc_changes_request(SESSION, user, operation)


def test_the_prefix_table_ends_with_the_schema_info_entry() -> None:
    message = request_for(str(uuid.uuid4()))["pmsgIn"]["V8"]  # type: ignore[index]
    table = message["PrefixTableDest"]["pPrefixEntry"]
    assert message["PrefixTableDest"]["PrefixCount"] == len(table) == 2
    last = table[-1]
    assert last["ndx"] == 0
    assert last["prefix"]["length"] == 21
    assert bytes(last["prefix"]["elements"])[0] == 0xFF


def test_the_partial_attribute_set_asks_for_unicode_pwd_only() -> None:
    message = request_for(str(uuid.uuid4()))["pmsgIn"]["V8"]  # type: ignore[index]
    [prefix, _] = message["PrefixTableDest"]["pPrefixEntry"]
    # 1.2.840.113556.1.4.90: prefix 1.2.840.113556.1.4 (BER) at index 0, last arc 90.
    assert prefix["ndx"] == 0
    assert bytes(prefix["prefix"]["elements"]) == bytes.fromhex("2a864886f7140104")
    attributes = message["pPartialAttrSet"]["rgPartialAttr"]
    assert [a["Data"] for a in attributes] == [90]


@pytest.mark.parametrize("operation", [drsuapi.EXOP_REPL_SECRETS, drsuapi.EXOP_REPL_OBJ])
def test_one_object_with_the_requested_extended_operation(operation: int) -> None:
    request = request_for(str(uuid.uuid4()), operation)
    message = request["pmsgIn"]["V8"]  # type: ignore[index]
    assert message["ulExtendedOp"] == operation
    assert message["cMaxObjects"] == 1
    assert message["uuidDsaObjDest"] == SESSION.dsa_guid
    assert len(request.getData()) > 0  # type: ignore[attr-defined]  # it serializes


def test_a_guid_is_sent_in_windows_byte_order() -> None:
    guid = uuid.UUID("7660fdf4-14e1-489c-8bf6-ff5038755bda")
    name = wire.user_dsname(str(guid))
    assert name["Guid"] == guid.bytes_le
    assert name["SidLen"] == 0
    assert name["NameLen"] == 0


def test_a_sid_is_packed_as_ms_dtyp_says() -> None:
    name = wire.user_dsname("S-1-5-21-7983943-3989262952-3237375058-1102")
    expected = (
        bytes([1, 5, 0, 0, 0, 0, 0, 5])
        + (21).to_bytes(4, "little")
        + (7983943).to_bytes(4, "little")
        + (3989262952).to_bytes(4, "little")
        + (3237375058).to_bytes(4, "little")
        + (1102).to_bytes(4, "little")
    )
    assert name["SidLen"] == len(expected)
    assert bytes(name["Sid"]) == expected


def test_anything_else_is_a_dn() -> None:
    dn = "CN=Ana Lima,OU=Partners,DC=corp,DC=contoso,DC=com"
    name = wire.user_dsname(dn)
    assert name["NameLen"] == len(dn)
    assert name["StringName"] == dn + "\x00"


def test_a_malformed_sid_is_refused() -> None:
    with pytest.raises(ValueError, match="not a SID: 'S-1-x'"):
        wire.user_dsname("S-1-x")
