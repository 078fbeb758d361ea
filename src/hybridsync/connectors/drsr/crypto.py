"""Decrypting a replicated secret attribute (MS-DRSR 4.1.10.6.9 and 4.1.10.6.10).

The DC encrypts ``unicodePwd`` with RC4 under MD5(session key + salt) and prefixes a
CRC32; below that, the 16-byte NT hash is DES-encrypted with keys derived from the
user's RID. MD5, RC4 and DES serve only this DC-protocol compatibility, as in Entra
Connect; the result stays in memory.
"""

from __future__ import annotations

import hashlib
import zlib
from struct import unpack

from Cryptodome.Cipher import ARC4
from impacket.dcerpc.v5 import drsuapi

from hybridsync.core.password_hash_sync.hashes import NT_HASH_BYTES, NTHash

__all__ = ["decrypt_nt_hash", "decrypt_secret"]

_SALT_BYTES = 16
_CHECKSUM_BYTES = 4


def decrypt_secret(session_key: bytes, blob: bytes) -> bytes:
    """The plaintext of an encrypted secret attribute value.

    Raises:
        ValueError: the value is too short, or its checksum does not match (a wrong
            session key, or a damaged reply).
    """
    if len(blob) < _SALT_BYTES + _CHECKSUM_BYTES:
        raise ValueError(f"an encrypted secret has at least 20 bytes, this one {len(blob)}")
    salt, encrypted = blob[:_SALT_BYTES], blob[_SALT_BYTES:]
    key = hashlib.md5(session_key + salt, usedforsecurity=False).digest()
    plain = ARC4.new(key).decrypt(encrypted)
    checksum, data = unpack("<L", plain[:_CHECKSUM_BYTES])[0], plain[_CHECKSUM_BYTES:]
    if checksum != zlib.crc32(data):
        raise ValueError("the decrypted secret fails its CRC32 checksum")
    return data


def decrypt_nt_hash(session_key: bytes, blob: bytes, rid: int) -> NTHash:
    """The NT hash in an encrypted ``unicodePwd`` value of the user with ``rid``."""
    data = decrypt_secret(session_key, blob)
    if len(data) != NT_HASH_BYTES:
        raise ValueError(f"a decrypted unicodePwd has 16 bytes, this one {len(data)}")
    return NTHash(bytes(drsuapi.removeDESLayer(data, rid)))
