"""BER of the AD controls, checked against hand-encoded bytes."""

from __future__ import annotations

import pytest

from hybridsync.connectors.ad.controls import (
    DirSyncRequest,
    DirSyncResponse,
    decode_sequence,
    encode_sequence,
)


def test_dirsync_request_encoding() -> None:
    value = DirSyncRequest(b"\x01\x02", flags=0x80000001, max_bytes=1000).encodeControlValue()
    assert value == bytes.fromhex("300e" "020480000001" "020203e8" "04020102")  # fmt: skip


def test_long_octet_strings_use_long_form_lengths() -> None:
    cookie = bytes(300)
    encoded = encode_sequence(0, cookie)
    assert encoded[:4] == bytes.fromhex("30820133")  # 3 + 4 + 300 bytes inside
    assert decode_sequence(encoded) == [0, cookie]


@pytest.mark.parametrize("number", [0, 1, 127, 128, 255, 256, -1, 2**31, 2**40])
def test_integers_round_trip(number: int) -> None:
    assert decode_sequence(encode_sequence(number)) == [number]


def test_dirsync_response_decoding() -> None:
    response = DirSyncResponse()
    response.decodeControlValue(encode_sequence(1, 0, b"cookie"))
    assert response.more
    assert response.cookie == b"cookie"


@pytest.mark.parametrize(
    "data",
    [b"\x04\x01a", encode_sequence(1, 2), bytes.fromhex("3005020101"), b"\x30\x03\x01\x01\x00"],
)
def test_malformed_responses_raise(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (several distinct messages)
        DirSyncResponse().decodeControlValue(data)
