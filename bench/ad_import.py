"""Benchmark: hybridsync's AD full import against ldapsearch, and a small delta import.

Provisions N users (default 10,000) in a throw-away Samba AD DC, then, in one run:

- ``ldapsearch -E pr=1000/noprompt`` of the same attributes (the baseline);
- the AD connector's full import (paged search, values typed, records built);
- a DirSync delta import after changing 10 users (and the uSNChanged one, for reference).

Prints each time and the ratio to the baseline. Needs root (a loopback address) and the
samba and ldap-utils packages::

    uv run python bench/ad_import.py --users 10000
    uv run python bench/ad_import.py --users 500 --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.samba import SambaDC, running_samba_dc

from hybridsync.connectors.ad import ADConnector, ADSettings

PASSWORD_ENV = "HYBRIDSYNC_BENCH_AD_PASSWORD"


def _timed(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ldapsearch(dc: SambaDC, base: str, filterstr: str, attributes: tuple[str, ...]) -> None:
    env = {**os.environ, "LDAPTLS_CACERT": str(dc.ca_file), "LDAPTLS_REQCERT": "demand"}
    subprocess.run(
        ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", dc.ldaps_url, "-x",
         "-D", dc.admin_upn, "-w", dc.admin_password, "-b", base, "-E", "pr=1000/noprompt",
         filterstr, *attributes],
        check=True, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip


def _count_full(connector: ADConnector) -> int:
    return sum(len(page.objects) for page in connector.full_import())


def _delta(connector: ADConnector, watermark: str) -> int:
    return sum(len(page.objects) for page in connector.delta_import(watermark))


def run(users: int, repeat: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp, running_samba_dc(Path(tmp) / "dc") as dc:
        ou = dc.add_ou("Bench")
        started = time.perf_counter()
        dns = dc.add_users_bulk(users, ou_dn=ou, prefix="b",
                                attributes={"title": "Engineer", "department": "R&D"})  # fmt: skip
        provision = time.perf_counter() - started
        os.environ[PASSWORD_ENV] = dc.admin_password

        def connector(mode: str) -> ADConnector:
            settings = ADSettings(
                url=dc.ldaps_url, bind_user=dc.admin_upn, password_env=PASSWORD_ENV,
                ca_file=dc.ca_file, include_ous=(ou,), object_types=("user",), delta_mode=mode,
            )  # fmt: skip
            return ADConnector("bench", settings)

        ad = connector("dirsync")
        attributes = ad.attribute_list
        filterstr = "(&(objectClass=user)(!(objectClass=computer)))"
        assert _count_full(ad) == users
        baseline = _timed(lambda: _ldapsearch(dc, ou, filterstr, attributes), repeat)
        full = _timed(lambda: _count_full(ad), repeat)
        deltas = {}
        for mode in ("dirsync", "usn"):
            source = connector(mode)
            watermark = list(source.full_import())[-1].watermark or ""
            for dn in dns[:: max(1, users // 10)][:10]:
                dc.modify(dn, {"title": f"Changed {mode}"})
            start = time.perf_counter()
            changed = _delta(source, watermark)
            deltas[mode] = time.perf_counter() - start
            assert changed == 10, f"{mode}: {changed} records for 10 changes"
            source.close()
        ad.close()
    return {
        "users": users,
        "provision_seconds": round(provision, 2),
        "ldapsearch_seconds": round(baseline, 3),
        "hybridsync_full_import_seconds": round(full, 3),
        "ratio": round(full / baseline, 2),
        "dirsync_delta_10_changes_seconds": round(deltas["dirsync"], 3),
        "usn_delta_10_changes_seconds": round(deltas["usn"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("ldapsearch") is None:
        sys.exit("ldapsearch is needed (Debian package ldap-utils)")
    result = run(args.users, args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
