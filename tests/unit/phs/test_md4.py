from __future__ import annotations

import pytest
from tests.unit.phs.vectors import md4_suite

from hybridsync.md4 import md4


def test_the_rfc_suite_is_loaded() -> None:
    assert len(md4_suite()) == 7


@pytest.mark.parametrize(("message", "digest"), md4_suite())
def test_rfc1320_test_suite(message: bytes, digest: str) -> None:
    assert md4(message).hex() == digest


@pytest.mark.parametrize("length", [55, 56, 57, 63, 64, 65, 119, 120, 128])
def test_padding_boundaries_match_a_second_implementation(length: int) -> None:
    pytest.importorskip("Cryptodome")  # installed with the phs extra (impacket needs it)
    from Cryptodome.Hash import MD4

    message = bytes(range(256))[:length]
    assert md4(message) == MD4.new(message).digest()
