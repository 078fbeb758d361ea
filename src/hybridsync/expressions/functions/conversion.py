"""Conversion functions: CBool, CDate, CGuid, CNum, CRef, CStr, CBin, base64, GUID, SID."""

from __future__ import annotations

import base64
import binascii
import re
import struct
import uuid
from datetime import datetime

from hybridsync.expressions.coerce import (
    fail,
    is_multi,
    multi,
    per_value,
    to_bool,
    to_bytes,
    to_datetime,
    to_enum,
    to_number,
    to_text,
    values_of,
)
from hybridsync.expressions.signatures import FunctionSpec, function
from hybridsync.expressions.values import Reference

_ENCODINGS = {"Unicode": "utf-16-le", "ASCII": "ascii", "UTF8": "utf-8"}
GUID_FORMS = re.compile(
    r"\{[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}"
    r"|[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}"
)


def _each(function: object, value: object) -> object:
    """Apply ``function`` to every value of a multi-valued input; Null stays Null."""
    assert callable(function)
    if value is None:
        return None
    if is_multi(value):
        return multi(function(item) for item in values_of(value))
    return function(value)


def cbool(value: object) -> object:
    if value is True or value is False:
        return value
    if is_multi(value):
        return _each(cbool, value)
    return to_bool(value, "CBool's argument")


def cdate(value: object) -> object:
    return _each(lambda item: to_datetime(item, "CDate's argument"), value)


def _guid_bytes(text: str) -> bytes:
    if not GUID_FORMS.fullmatch(text.strip()):
        fail(f"not a GUID: {text!r}")
    # .NET Guid.ToByteArray order: the first three groups little-endian.
    return uuid.UUID(text.strip().strip("{}")).bytes_le


def cguid(value: object) -> object:
    return per_value(_guid_bytes, value)


def _from_base64(text: str, encoding: str) -> str:
    try:
        return base64.b64decode(text.strip(), validate=True).decode(encoding)
    except (binascii.Error, ValueError) as error:
        fail(f"not base64 text in {encoding}: {error}")


def convert_from_base64(value: object, encoding: object = None) -> object:
    name = "Unicode" if encoding is None else to_enum(encoding, _ENCODINGS, "encoding")
    return per_value(_from_base64, value, _ENCODINGS[name])


def _to_base64(item: object) -> str:
    data = item if isinstance(item, bytes) else to_text(item).encode("utf-16-le")
    return base64.b64encode(data).decode("ascii")


def convert_to_base64(value: object) -> object:
    return _each(_to_base64, value)


def _from_utf8_hex(text: str) -> str:
    try:
        return bytes.fromhex(text).decode("utf-8")
    except ValueError as error:
        fail(f"not hexadecimal UTF-8: {error}")


def convert_from_utf8_hex(value: object) -> object:
    return per_value(_from_utf8_hex, value)


def convert_to_utf8_hex(value: object) -> object:
    return per_value(lambda text: text.encode("utf-8").hex().upper(), value)


def cnum(value: object) -> object:
    return _each(lambda item: to_number(item, "CNum's argument"), value)


def cref(value: object) -> object:
    return _each(lambda item: item if isinstance(item, Reference) else Reference(
        to_text(item, "CRef's argument")), value)  # fmt: skip


def cstr(value: object) -> object:
    return _each(lambda item: to_text(item, "CStr's argument"), value)


MAX_CBIN_LENGTH = 8
"""The widest two-argument CBin: a 64-bit number fills eight bytes."""


def _number_bytes(number: int, length: int) -> bytes:
    # Little-endian, as Connect's device and NGC rules need: they build the 2-byte length
    # field of a KEYCREDENTIALLINK entry with CBin(length, 2) (MS-ADTS 2.2.20.6).
    largest = (1 << (8 * length)) - 1
    if not 0 <= number <= largest:
        fail(f"CBin's number {number} does not fit in {length} byte(s) (0 to {largest})")
    return number.to_bytes(length, "little")


def _byte_count(length: object) -> int:
    count = to_number(length, "CBin's length")
    if not 1 <= count <= MAX_CBIN_LENGTH:
        fail(f"CBin's length must be 1 to {MAX_CBIN_LENGTH} bytes, not {count}")
    return count


def cbin(value: object, length: object = None) -> object:
    """``CBin(value)``: base64 text or binary as binary. ``CBin(number, length)``: the
    number as ``length`` bytes, least significant first."""
    if length is None:
        return _each(lambda item: to_bytes(item, "CBin's argument"), value)
    count = _byte_count(length)
    return _each(lambda item: _number_bytes(to_number(item, "CBin's number"), count), value)


def _guid_string(item: object) -> str:
    data = to_bytes(item, "StringFromGuid's argument")
    if len(data) != 16:
        fail(f"a GUID is 16 bytes, not {len(data)}")
    return str(uuid.UUID(bytes_le=data))


def string_from_guid(value: object) -> object:
    return _each(_guid_string, value)


def _sid_string(item: object) -> str:
    data = to_bytes(item, "StringFromSid's argument")
    if len(data) < 8 or len(data) != 8 + 4 * data[1]:
        fail(f"not a binary SID ({len(data)} bytes)")
    authority = int.from_bytes(data[2:8], "big")
    subs = struct.unpack(f"<{data[1]}I", data[8:])
    return "-".join(["S", str(data[0]), str(authority), *map(str, subs)])


def string_from_sid(value: object) -> object:
    return _each(_sid_string, value)


def date_or_text(value: object) -> bool:
    return isinstance(value, datetime | str)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    function("CBool", "Conversion", "bool", ("exp",), implementation=cbool, maps=True),
    function("CDate", "Conversion", "dt", ("str",), implementation=cdate, maps=True),
    function("CGuid", "Conversion", "bin", ("str",), implementation=cguid, maps=True),
    function(
        "ConvertFromBase64", "Conversion", "str", ("str",), ("str", "enum"),
        implementation=convert_from_base64, maps=True,
    ),
    function(
        "ConvertToBase64", "Conversion", "str", ("strbin",),
        implementation=convert_to_base64, maps=True,
    ),
    function(
        "ConvertFromUTF8Hex", "Conversion", "str", ("str",),
        implementation=convert_from_utf8_hex, maps=True,
    ),
    function(
        "ConvertToUTF8Hex", "Conversion", "str", ("str",),
        implementation=convert_to_utf8_hex, maps=True,
    ),
    function("CNum", "Conversion", "num", ("str",), implementation=cnum, maps=True),
    function("CRef", "Conversion", "ref", ("str",), implementation=cref, maps=True),
    function("CStr", "Conversion", "str", ("var",), implementation=cstr, maps=True),
    function(
        "CBin", "Conversion", "bin", ("strbin",), ("num", "num"),
        implementation=cbin, maps=True,
    ),
    function(
        "StringFromGuid", "Conversion", "str", ("bin",),
        implementation=string_from_guid, maps=True,
    ),
    function(
        "StringFromSid", "Conversion", "str", ("bin",),
        implementation=string_from_sid, maps=True,
    ),
)  # fmt: skip
