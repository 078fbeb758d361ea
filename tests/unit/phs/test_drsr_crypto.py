from __future__ import annotations

import hashlib
import struct
import zlib

import pytest

pytest.importorskip("impacket")

from Cryptodome.Cipher import ARC4, DES
from impacket.dcerpc.v5 import drsuapi

from hybridsync.connectors.drsr import crypto
from hybridsync.core.password_hash_sync.hashes import nt_hash_of_password

SESSION_KEY = bytes(range(16))
SALT = bytes(range(100, 116))
RID = 1107


def encrypted_unicode_pwd(nt_hash: bytes, rid: int, *, checksum_delta: int = 0) -> bytes:
    """What a DC sends (MS-DRSR 4.1.10.6.9/10), built from the spec's description."""
    key1, key2 = drsuapi.deriveKey(rid)
    des_layer = DES.new(key1, DES.MODE_ECB).encrypt(nt_hash[:8])
    des_layer += DES.new(key2, DES.MODE_ECB).encrypt(nt_hash[8:])
    checksum = (zlib.crc32(des_layer) + checksum_delta) & 0xFFFFFFFF
    key = hashlib.md5(SESSION_KEY + SALT, usedforsecurity=False).digest()
    return SALT + ARC4.new(key).encrypt(struct.pack("<L", checksum) + des_layer)


def test_an_encrypted_unicode_pwd_decrypts_to_the_nt_hash() -> None:
    expected = nt_hash_of_password("Partner-Pw!2026a")
    blob = encrypted_unicode_pwd(expected.value, RID)
    assert crypto.decrypt_nt_hash(SESSION_KEY, blob, RID) == expected


def test_the_rid_layer_matters() -> None:
    expected = nt_hash_of_password("Partner-Pw!2026a")
    blob = encrypted_unicode_pwd(expected.value, RID)
    assert crypto.decrypt_nt_hash(SESSION_KEY, blob, RID + 1) != expected


def test_a_wrong_session_key_fails_the_checksum() -> None:
    blob = encrypted_unicode_pwd(nt_hash_of_password("x").value, RID)
    with pytest.raises(ValueError, match="CRC32"):
        crypto.decrypt_nt_hash(bytes(16), blob, RID)


def test_a_damaged_checksum_is_detected() -> None:
    blob = encrypted_unicode_pwd(nt_hash_of_password("x").value, RID, checksum_delta=1)
    with pytest.raises(ValueError, match="CRC32"):
        crypto.decrypt_secret(SESSION_KEY, blob)


def test_a_short_value_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 20 bytes, this one 19"):
        crypto.decrypt_secret(SESSION_KEY, bytes(19))
