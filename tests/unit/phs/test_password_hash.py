from __future__ import annotations

import pytest
from tests.unit.phs.vectors import OrgIdHashVector, orgid_hash_vectors, spec_text

from hybridsync.core.password_hash_sync.hashes import (
    ITERATIONS,
    SALT_BYTES,
    NTHash,
    PasswordHash,
    derive_password_hash,
    nt_hash_of_password,
    verify_nt_hash,
    verify_password,
)
from hybridsync.errors import PasswordHashFormatError

VECTORS = orgid_hash_vectors(spec_text())


def test_three_vectors_are_read_from_the_spec() -> None:
    assert [(v.password, v.iterations) for v in VECTORS] == [
        ("Pa$$w0rd", 1000),
        ("", 1000),
        ("Pa$$w0rd", 100),
    ]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v.password or 'empty'}-{v.iterations}")
def test_nt_hash_of_the_vector_password(vector: OrgIdHashVector) -> None:
    assert nt_hash_of_password(vector.password).value.hex().upper() == vector.nt_hash


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v.password or 'empty'}-{v.iterations}")
def test_dsinternals_vectors(vector: OrgIdHashVector) -> None:
    nt_hash = nt_hash_of_password(vector.password)
    derived = derive_password_hash(
        nt_hash, salt=bytes.fromhex(vector.salt), iterations=vector.iterations
    )
    assert derived.digest.hex() == vector.hash
    assert derived.to_wire() == f"v1;PPH1_MD4,{vector.salt},{vector.iterations},{vector.hash};"


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v.password or 'empty'}-{v.iterations}")
def test_vector_wire_text_parses_and_verifies(vector: OrgIdHashVector) -> None:
    stored = PasswordHash.from_wire(f"v1;PPH1_MD4,{vector.salt},{vector.iterations},{vector.hash};")
    assert verify_password(vector.password, stored)
    assert not verify_password(vector.password + "x", stored)


def test_a_fresh_salt_per_derivation() -> None:
    nt_hash = nt_hash_of_password("Correct-Horse-1")
    first, second = derive_password_hash(nt_hash), derive_password_hash(nt_hash)
    assert len(first.salt) == SALT_BYTES
    assert first.iterations == ITERATIONS
    assert first.salt != second.salt
    assert first.digest != second.digest
    assert verify_nt_hash(nt_hash, first)
    assert verify_nt_hash(nt_hash, second)


def test_round_trip_through_the_wire_format() -> None:
    derived = derive_password_hash(nt_hash_of_password("Sommer2026!"))
    assert PasswordHash.from_wire(derived.to_wire()) == derived


def test_uppercase_hex_is_accepted_on_input() -> None:
    vector = VECTORS[0]
    text = f"v1;PPH1_MD4,{vector.salt.upper()},1000,{vector.hash.upper()};"
    assert PasswordHash.from_wire(text).to_wire() == text.replace(
        vector.salt.upper(), vector.salt
    ).replace(vector.hash.upper(), vector.hash)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected 'v1;PPH1_MD4"),
        ("v2;PPH1_MD4,00,1000," + "ab" * 32 + ";", "expected 'v1;PPH1_MD4"),
        ("v1;PPH1_MD4,00,1000," + "ab" * 32, "expected 'v1;PPH1_MD4"),
        ("v1;PPH1_MD4,000,1000," + "ab" * 32 + ";", "odd number of hex digits"),
        ("v1;PPH1_MD4,00,1000," + "ab" * 31 + ";", "62 hex digits, not 64"),
        ("v1;PPH1_MD4,00,0," + "ab" * 32 + ";", "iterations must be positive"),
        ("v1;PPH1_MD4,,1000," + "ab" * 32 + ";", "expected 'v1;PPH1_MD4"),
    ],
)
def test_malformed_wire_text_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(PasswordHashFormatError, match=message):
        PasswordHash.from_wire(text)


def test_a_format_error_never_repeats_the_hash() -> None:
    secret_hex = "cd" * 33
    with pytest.raises(PasswordHashFormatError) as caught:
        PasswordHash.from_wire(f"v1;PPH1_MD4,00,1000,{secret_hex};")
    assert "cd" * 8 not in str(caught.value)
    with pytest.raises(PasswordHashFormatError) as caught:
        PasswordHash.from_wire(f"garbage {secret_hex}")
    assert "cd" * 8 not in str(caught.value)


def test_an_nt_hash_hides_its_value() -> None:
    nt_hash = nt_hash_of_password("Pa$$w0rd")
    shown = f"{nt_hash} {nt_hash!r} {[nt_hash]} {dict(h=nt_hash)}"
    assert nt_hash.value.hex() not in shown.lower()
    assert "92937945" not in shown.upper()


@pytest.mark.parametrize("length", [0, 15, 17, 32])
def test_an_nt_hash_has_sixteen_bytes(length: int) -> None:
    with pytest.raises(ValueError, match=f"16 bytes, not {length}"):
        NTHash(b"\x01" * length)


def test_a_wrong_nt_hash_does_not_verify() -> None:
    stored = derive_password_hash(nt_hash_of_password("one"))
    assert not verify_nt_hash(nt_hash_of_password("two"), stored)
