"""Test vectors read from the documents they come from (tests/data/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.conftest import DATA

SPEC = DATA / "reference" / "sync-engine.md"
RFC1320_SUITE = DATA / "rfc1320-md4-test-suite.txt"


@dataclass(frozen=True)
class OrgIdHashVector:
    password: str
    nt_hash: str | None
    salt: str
    iterations: int
    hash: str


_FULL = re.compile(
    r"password `(?P<pw>[^`]*)` \(NT hash `(?P<nt>[0-9A-F]{32})`\), salt `(?P<salt>[0-9a-f]+)` →\s+"
    r"`v1;PPH1_MD4,(?P=salt),(?P<it>\d+),(?P<hash>[0-9a-f]{64});`"
)
_EMPTY = re.compile(
    r"empty password \(NT hash `(?P<nt>[0-9A-F]{32})`\), salt `(?P<salt>[0-9a-f]+)` → hash\s+"
    r"`(?P<hash>[0-9a-f]{64})`"
)
_OLD = re.compile(
    r"\(same password, salt `(?P<salt>[0-9a-f]+)`, (?P<it>\d+) iterations →\s+"
    r"`(?P<hash>[0-9a-f]{64})`"
)


def spec_text() -> str:
    """The spec, whose §4.1 lists the vectors."""
    return SPEC.read_text(encoding="utf-8")


def orgid_hash_vectors(text: str) -> list[OrgIdHashVector]:
    full = _FULL.search(text)
    empty = _EMPTY.search(text)
    old = _OLD.search(text)
    if not (full and empty and old):
        raise LookupError("the DSInternals vectors are no longer where the spec had them")
    # "same password" in the pre-2016 vector is the first vector's password.
    return [
        OrgIdHashVector(full["pw"], full["nt"], full["salt"], int(full["it"]), full["hash"]),
        OrgIdHashVector("", empty["nt"], empty["salt"], 1000, empty["hash"]),
        OrgIdHashVector(full["pw"], full["nt"], old["salt"], int(old["it"]), old["hash"]),
    ]


def md4_suite() -> list[tuple[bytes, str]]:
    pattern = re.compile(r'^MD4 \("(?P<msg>.*)"\) = (?P<digest>[0-9a-f]{32})$')
    lines = RFC1320_SUITE.read_text(encoding="ascii").splitlines()
    matches = [pattern.match(line) for line in lines]
    return [(m["msg"].encode("ascii"), m["digest"]) for m in matches if m]
