"""MD4 (RFC 1320), only to compute NT hashes.

OpenSSL 3 no longer offers MD4 to ``hashlib`` by default, yet the NT hash of a password
is MD4 of its UTF-16LE encoding: the sync engine derives password hashes from it and the
cloud directory recomputes it at sign-in. This small implementation keeps that independent
of the OpenSSL build. It sits in the bottom layer, beside ``errors``, so that both may use
it while the cloud directory still imports nothing of the sync engine. It is not used for
anything else and must not be.
"""

from __future__ import annotations

import struct

__all__ = ["md4"]

_MASK = 0xFFFFFFFF
_ROUND1_SHIFTS = (3, 7, 11, 19)
_ROUND2_SHIFTS = (3, 5, 9, 13)
_ROUND3_SHIFTS = (3, 9, 11, 15)
_ROUND2_ORDER = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_ROUND3_ORDER = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)


def _rotl(value: int, shift: int) -> int:
    value &= _MASK
    return ((value << shift) | (value >> (32 - shift))) & _MASK


def _pad(message: bytes) -> bytes:
    bit_length = (len(message) * 8) & 0xFFFFFFFFFFFFFFFF
    padding = b"\x80" + b"\x00" * ((55 - len(message)) % 64)
    return message + padding + struct.pack("<Q", bit_length)


def _compress(state: list[int], block: bytes) -> None:
    x = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(16):
        f = (b & c) | (~b & d)
        a, b, c, d = d, _rotl(a + f + x[i], _ROUND1_SHIFTS[i % 4]), b, c
    for i, k in enumerate(_ROUND2_ORDER):
        g = (b & c) | (b & d) | (c & d)
        a, b, c, d = d, _rotl(a + g + x[k] + 0x5A827999, _ROUND2_SHIFTS[i % 4]), b, c
    for i, k in enumerate(_ROUND3_ORDER):
        h = b ^ c ^ d
        a, b, c, d = d, _rotl(a + h + x[k] + 0x6ED9EBA1, _ROUND3_SHIFTS[i % 4]), b, c
    for i, value in enumerate((a, b, c, d)):
        state[i] = (state[i] + value) & _MASK


def md4(message: bytes) -> bytes:
    """The 16-byte MD4 digest of ``message``."""
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    padded = _pad(message)
    for offset in range(0, len(padded), 64):
        _compress(state, padded[offset : offset + 64])
    return struct.pack("<4I", *state)
