"""Password hash sync throughput, each figure against a baseline measured in the same run.

Usage: uv run python bench/phs.py [USERS] [--dc] [--json]

- derivation: ``derive_password_hash`` (PBKDF2-HMAC-SHA256, 1,000 iterations) against a bare
  ``hashlib.pbkdf2_hmac`` with the same parameters: the ratio is our overhead.
- NT hash: the pure-Python MD4 against pycryptodomex's C MD4, and against one derivation:
  a sign-in pays both, so MD4 must stay small next to PBKDF2.
- ``--dc`` (root, Debian package samba): a Samba AD DC on its own loopback address with USERS
  users; NT hash reads over MS-DRSR in one session against LDAP base reads of the same users
  over the same DC, one request per user on both sides.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import structlog

from hybridsync.core.password_hash_sync.hashes import derive_password_hash, nt_hash_of_password
from hybridsync.md4 import md4


def _rate(work: Callable[[Any], object], items: Iterable[Any], repeats: int = 3) -> float:
    items = list(items)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def derivation(count: int) -> dict[str, float]:
    nt_hashes = [nt_hash_of_password(f"Passw0rd-{i}") for i in range(count)]
    salt = bytes(10)

    def bare(nt: Any) -> bytes:
        secret = nt.value.hex().upper().encode("utf-16-le")
        return hashlib.pbkdf2_hmac("sha256", secret, salt, 1000, 32)

    ours = _rate(lambda nt: derive_password_hash(nt, salt=salt), nt_hashes)
    baseline = _rate(bare, nt_hashes)
    return {"derive_per_second": ours, "pbkdf2_per_second": baseline, "ratio": baseline / ours}


def nt_hash(count: int) -> dict[str, float]:
    from Cryptodome.Hash import MD4

    messages = [f"Passw0rd-{i}".encode("utf-16-le") for i in range(count)]
    ours = _rate(md4, messages)
    c_md4 = _rate(lambda m: MD4.new(m).digest(), messages)
    per_derivation = derivation(max(1, count // 20))["derive_per_second"]
    return {
        "md4_per_second": ours,
        "c_md4_per_second": c_md4,
        "ratio_c": c_md4 / ours,
        "md4_share_of_sign_in": per_derivation / (ours + per_derivation),
    }


def drsr(count: int) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import ldap
    from pydantic import SecretStr
    from tests.integration.phs.accounts import grant_replication_rights, guid_text
    from tests.support.samba import running_samba_dc

    from hybridsync.connectors.drsr import DrsrHashReader, DrsrSettings

    with tempfile.TemporaryDirectory() as tmp, running_samba_dc(Path(tmp) / "dc") as dc:
        ou = dc.add_ou("Bench")
        account = dc.add_user("svc-bench", ou_dn=ou, password="Bench-Svc!Pw2026")
        grant_replication_rights(dc, account)
        dns = [dc.add_user(f"b{i:05d}", ou_dn=ou, password=f"Bench-{i}!Pw") for i in range(count)]
        guids = [guid_text(dc, dn) for dn in dns]
        settings = DrsrSettings(host=dc.address, domain=dc.fqdn, username="svc-bench",
                                password=SecretStr("Bench-Svc!Pw2026"))  # fmt: skip
        with DrsrHashReader(settings) as reader:
            reader.read_nt_hash(guids[0])  # settle the extended operation first
            reads = _rate(reader.read_nt_hash, guids, repeats=2)
        conn = dc.connect()
        ldap_reads = _rate(lambda dn: conn.search_s(dn, ldap.SCOPE_BASE, attrlist=["pwdLastSet"]),
                           dns, repeats=2)  # fmt: skip
        conn.unbind_s()
    return {"drsr_per_second": reads, "ldap_per_second": ldap_reads, "ratio": ldap_reads / reads}


def main(argv: list[str]) -> dict[str, Any]:
    # Per-read debug events would be measured too: keep them out, as production does.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    count = int(next((arg for arg in argv if arg.isdigit()), "2000"))
    result: dict[str, Any] = {"users": count, "derivation": derivation(count),
                              "nt_hash": nt_hash(count * 10)}  # fmt: skip
    if "--dc" in argv:
        result["drsr"] = drsr(count)
    if "--json" in argv:
        print(json.dumps(result))
        return result
    d, n = result["derivation"], result["nt_hash"]
    print(
        f"derive (PBKDF2 x1000)   : {d['derive_per_second']:>10,.0f}/s  "
        f"bare pbkdf2 {d['pbkdf2_per_second']:,.0f}/s  ratio {d['ratio']:.2f}"
    )
    print(
        f"NT hash (pure MD4)      : {n['md4_per_second']:>10,.0f}/s  "
        f"C MD4 {n['c_md4_per_second']:,.0f}/s  ratio {n['ratio_c']:.1f}  "
        f"share of a sign-in {n['md4_share_of_sign_in']:.1%}"
    )
    if "drsr" in result:
        r = result["drsr"]
        print(
            f"DRSR NT hash reads      : {r['drsr_per_second']:>10,.0f}/s  "
            f"LDAP base reads {r['ldap_per_second']:,.0f}/s  ratio {r['ratio']:.2f}"
        )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
