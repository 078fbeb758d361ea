"""The Active Directory LDAP controls the connector sends, as python-ldap control classes.

AD's controls carry tiny BER structures (a sequence of integers and one octet string),
so they are encoded here by hand instead of pulling in an ASN.1 library.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldap.controls import LDAPControl, RequestControl, ResponseControl

__all__ = [
    "DIRSYNC_OID",
    "DirSyncRequest",
    "DirSyncResponse",
    "ExtendedDN",
    "ShowDeleted",
    "decode_sequence",
]

DIRSYNC_OID = "1.2.840.113556.1.4.841"
EXTENDED_DN_OID = "1.2.840.113556.1.4.529"
SHOW_DELETED_OID = "1.2.840.113556.1.4.417"

_INTEGER, _OCTET_STRING, _SEQUENCE = 0x02, 0x04, 0x30


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    return _tlv(_INTEGER, value.to_bytes(size, "big", signed=True))


def encode_sequence(*items: int | bytes) -> bytes:
    """BER for ``SEQUENCE { INTEGER | OCTET STRING ... }``."""
    body = b"".join(
        _integer(item) if isinstance(item, int) else _tlv(_OCTET_STRING, item) for item in items
    )
    return _tlv(_SEQUENCE, body)


def _read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    tag, first = data[offset], data[offset + 1]
    offset += 2
    size = first
    if first & 0x80:
        count = first & 0x7F
        size = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    end = offset + size
    if end > len(data):
        raise ValueError("truncated BER value")
    return tag, data[offset:end], end


def decode_sequence(data: bytes) -> list[int | bytes]:
    """Decode ``SEQUENCE { INTEGER | OCTET STRING ... }``; raise ValueError otherwise."""
    tag, body, _ = _read_tlv(data, 0)
    if tag != _SEQUENCE:
        raise ValueError(f"expected a BER sequence, got tag {tag:#x}")
    items: list[int | bytes] = []
    offset = 0
    while offset < len(body):
        tag, value, offset = _read_tlv(body, offset)
        if tag == _INTEGER:
            items.append(int.from_bytes(value, "big", signed=True))
        elif tag == _OCTET_STRING:
            items.append(value)
        else:
            raise ValueError(f"unexpected BER tag {tag:#x}")
    return items


class DirSyncRequest(RequestControl):  # type: ignore[misc]
    """LDAP_SERVER_DIRSYNC_OID request: changes since ``cookie`` (empty: everything).

    ``flags``: 0x1 LDAP_DIRSYNC_OBJECT_SECURITY lets an account without the replicating
    right read the objects it may read; ``max_bytes`` caps one response's size.
    """

    def __init__(self, cookie: bytes = b"", *, flags: int = 0, max_bytes: int = 1 << 20) -> None:
        super().__init__(DIRSYNC_OID, True)
        self.cookie = cookie
        self.flags = flags
        self.max_bytes = max_bytes

    def encodeControlValue(self) -> bytes:
        # AD reads flags as a signed 32-bit integer (0x80000000 is negative on the wire).
        flags = self.flags - (1 << 32) if self.flags >= 1 << 31 else self.flags
        return encode_sequence(flags, self.max_bytes, self.cookie)


@dataclass(slots=True)
class DirSyncResponse(ResponseControl):  # type: ignore[misc]
    """The DirSync response: ``more`` is true while the server holds further changes."""

    controlType: str = DIRSYNC_OID
    criticality: bool = False
    more: bool = False
    cookie: bytes = b""

    def decodeControlValue(self, encoded: bytes) -> None:
        items = decode_sequence(encoded)
        if len(items) != 3 or not isinstance(items[0], int) or not isinstance(items[2], bytes):
            raise ValueError("malformed DirSync response control")
        self.more = items[0] != 0
        self.cookie = items[2]


def ExtendedDN() -> LDAPControl:
    """Return DNs as ``<GUID=...>;<SID=...>;CN=...`` (flag 1: string GUIDs)."""
    return LDAPControl(EXTENDED_DN_OID, False, encode_sequence(1))


def ShowDeleted() -> LDAPControl:
    """Include tombstones (objects with ``isDeleted``) in search results."""
    return LDAPControl(SHOW_DELETED_OID, True, None)
