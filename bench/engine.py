"""Sync engine benchmark: an LDIF directory of N users through a whole cycle.

Measures, in one run, beside a baseline measured in the same run (parsing the same
LDIF file alone, which is the least any import must do):

- the initial cycle: full import + full sync + export to an in-process recording target;
- a settling delta cycle (the target's import confirms the initial exports);
- a delta cycle with 1% of the users changed;
- a delta cycle with 1 user changed.

Usage: ``uv run python bench/engine.py [N]`` (default 100,000; 10% partners).
"""

from __future__ import annotations

import argparse
import base64
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from hybridsync.config import Config
from hybridsync.connectors.ldif import read_records
from hybridsync.wiring import build

DEPARTMENTS = ["Sales", "Finance", "Engineering", "Legal", "Operations", "Marketing", "Support"]
TITLES = ["Engineer", "Senior Engineer", "Account Manager", "Analyst", "Consultant", "Director"]


def user_entry(index: int, rng: random.Random, department: str | None = None) -> str:
    partner = index % 10 == 0
    sam = f"u{index:06d}"
    first, last = f"Given{index % 977}", f"Surname{index:06d}"
    domain = "partners.contoso.com" if partner else "contoso.com"
    ou = "Partners" if partner else "Staff"
    dn = f"CN={first} {last},OU={ou},DC=contoso,DC=com"
    guid = base64.b64encode(uuid.UUID(int=index + 1).bytes_le).decode()
    sid = base64.b64encode(
        b"\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00" + index.to_bytes(16, "little")
    ).decode()
    lines = [
        f"dn: {dn}", "objectClass: top", "objectClass: person", "objectClass: organizationalPerson",
        "objectClass: user", f"cn: {first} {last}", f"sn: {last}", f"givenName: {first}",
        f"displayName: {first} {last}", f"distinguishedName: {dn}", f"sAMAccountName: {sam}",
        f"userPrincipalName: {sam}@{domain}", f"mail: {first.lower()}.{last.lower()}@{domain}",
        f"mailNickname: {sam}", f"proxyAddresses: SMTP:{first.lower()}.{last.lower()}@{domain}",
        f"proxyAddresses: smtp:{sam}@contoso.mail.onmicrosoft.com",
        f"department: {department or rng.choice(DEPARTMENTS)}", f"title: {rng.choice(TITLES)}",
        "company: Contoso Ltd", "c: US", f"employeeID: E{index:07d}",
        f"description: Account of {first} {last}, created by the HR feed for {domain}",
        "userAccountControl: 512", f"objectGUID:: {guid}", f"objectSid:: {sid}",
        f"extensionAttribute1: {'Guest' if partner else 'Member'}",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_directory(path: Path, count: int, changed: dict[int, str]) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        out.write("version: 1\n\n")
        for index in range(count):
            entry = user_entry(index, rng)
            if index in changed:
                entry = entry.replace("department: ", f"department: {changed[index]}\nx-old: ", 1)
            out.write(entry + "\n")


def bench_config(store: Any, root: Path, ldif: Path, count: int) -> Config:
    """The benchmark's configuration: the LDIF source, the built-in rules with the userType
    feature, and the recording target, with a deletion threshold that never stops it."""
    return Config.model_validate({
        "store": store,
        "builtin_rules": {"source": "ad", "target": "cloud"},
        "user_type": {"source": "attribute"},
        "safety": {"deletion_threshold": count},
        "connectors": [
            {"type": "ldif", "name": "ad", "path": str(ldif)},
            {"type": "recording", "name": "cloud", "path": str(root / "cloud.db")},
        ],
    })  # fmt: skip


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action, count: int, baseline: float | None = None) -> float:  # type: ignore[no-untyped-def]
    started, cpu_started = time.perf_counter(), time.process_time()
    result = action()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    status = getattr(result, "status", "")
    runs = getattr(result, "runs", [])
    ratio = f"  {seconds / baseline:6.1f}x baseline" if baseline else ""
    print(f"{label:<28} {seconds:8.2f} s (CPU {cpu:6.2f} s)  {count / seconds:10,.0f} objects/s  "
          f"peak RSS {peak_rss_mb():7.1f} MB{ratio}  {status}")  # fmt: skip
    if runs:
        print(
            "    wall: "
            + ", ".join(f"{r.connector} {r.profile.value} {r.seconds:.2f}" for r in runs)
        )
        print(
            "    CPU:  "
            + ", ".join(f"{r.connector} {r.profile.value} {cpu_of[r.run_id]:.2f}" for r in runs)
        )
    return seconds


cpu_of: dict[str, float] = {}
"""Process CPU seconds of each run, by run id (the machine may be shared: wall time is noisy)."""


def measure_cpu(engine: Any) -> None:
    """Record each run's process CPU time (``Engine.cycle`` calls ``run`` per profile)."""
    run = engine.run

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        report = run(*args, **kwargs)
        cpu_of[report.run_id] = time.process_time() - started
        return report

    engine.run = timed_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=100_000)
    args = parser.parse_args(argv)
    count: int = args.users
    with tempfile.TemporaryDirectory(prefix="hybridsync-bench-") as tmp:
        root = Path(tmp)
        ldif = root / "ad.ldif"
        write_directory(ldif, count, {})
        print(
            f"{count:,} users, {ldif.stat().st_size / 1e6:.1f} MB of LDIF;"
            f" Python {sys.version.split()[0]}"
        )

        def parse() -> int:
            with ldif.open(encoding="utf-8") as stream:
                return sum(1 for _ in read_records(stream))

        baseline = timed("baseline: parse LDIF", parse, count)
        built = build(bench_config(str(root / "state.db"), root, ldif, count))
        engine = built.engine
        measure_cpu(engine)
        try:
            timed("initial cycle", lambda: engine.cycle("initial"), count, baseline)
            timed("settling delta cycle", lambda: engine.cycle("delta"), count, baseline)
            one_percent = {i: "Changed" for i in range(0, count, 100)}
            write_directory(ldif, count, one_percent)
            timed(
                "delta cycle, 1% changed", lambda: engine.cycle("delta"), len(one_percent), baseline
            )
            write_directory(ldif, count, {**one_percent, count // 2: "Single"})
            seconds = timed("delta cycle, 1 changed", lambda: engine.cycle("delta"), 1, baseline)
            exported = len(built.connectors["cloud"].objects())  # type: ignore[attr-defined]
            print(f"cloud users: {exported:,}; 1-change delta {seconds:.2f} s")
        finally:
            built.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
