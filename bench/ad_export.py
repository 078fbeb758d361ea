"""Benchmark: creating N users through the AD connector's export against raw LDAP adds.

In one run, on one throw-away Samba AD DC (or the one given), each path creates N users
(default 2,000) with the same attributes and an initial password, in an OU of its own:

- the baseline: a python-ldap ``add_s`` loop on one LDAPS connection (what ``ldapadd``
  does, without its process start or LDIF parsing);
- the connector: ``ADConnector.export`` of N add changes in batches of 50, as the engine
  sends them; each add is classified and read back for its objectGUID.

Prints both times and their ratio (target: within 1.5x). Needs root (a loopback
address) and the samba package::

    uv run python bench/ad_export.py --users 2000
    uv run python bench/ad_export.py --users 200 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

import ldap
from tests.support.samba import SambaDC, running_samba_dc

from hybridsync.connectors.ad import ADConnector, ADSettings
from hybridsync.core.ports import AttributeChange, ExportChange, ExportKind, ExportOutcome

PASSWORD_ENV = "HYBRIDSYNC_BENCH_AD_PASSWORD"
INITIAL_PASSWORD = "Bench-Initial-Pa55!"
BATCH = 50


def _attributes(prefix: str, index: int, domain: str) -> dict[str, str]:
    sam = f"{prefix}{index:06d}"
    return {
        "sAMAccountName": sam,
        "userPrincipalName": f"{sam}@{domain}",
        "givenName": f"Given{index}",
        "sn": f"Surname{index}",
        "displayName": f"Given{index} Surname{index}",
        "title": "Partner",
        "department": "Guests",
    }


def _raw_adds(dc: SambaDC, ou: str, users: int, prefix: str) -> float:
    conn = dc.connect()
    password = f'"{INITIAL_PASSWORD}"'.encode("utf-16-le")
    try:
        start = time.perf_counter()
        for index in range(users):
            attributes = _attributes(prefix, index, dc.fqdn)
            entry = [("objectClass", [b"top", b"person", b"organizationalPerson", b"user"])]
            entry += [(name, [value.encode()]) for name, value in attributes.items()]
            entry += [("userAccountControl", [b"512"]), ("unicodePwd", [password])]
            conn.add_s(f"CN={attributes['sAMAccountName']},{ou}", entry)
        return time.perf_counter() - start
    finally:
        conn.unbind_s()


def _connector_adds(dc: SambaDC, ou: str, users: int, prefix: str) -> float:
    os.environ[PASSWORD_ENV] = dc.admin_password
    settings = ADSettings(url=dc.ldaps_url, bind_user=dc.admin_upn, password_env=PASSWORD_ENV,
                          ca_file=dc.ca_file, export_ou=ou)  # fmt: skip
    connector = ADConnector("bench", settings, password=lambda: INITIAL_PASSWORD)
    changes = []
    for index in range(users):
        attributes = _attributes(prefix, index, dc.fqdn)
        values = tuple(AttributeChange(k, (v,)) for k, v in sorted(attributes.items()))
        dn = f"CN={attributes['sAMAccountName']},{ou}"
        changes.append(ExportChange(str(index), ExportKind.ADD, None, dn, "user", values))
    try:
        connector.parameters()  # discovery (the engine does it before exporting)
        start = time.perf_counter()
        applied = 0
        for first in range(0, users, BATCH):
            for result in connector.export(changes[first : first + BATCH]):
                assert result.outcome is ExportOutcome.APPLIED, result.message
                applied += 1
        elapsed = time.perf_counter() - start
    finally:
        connector.close()
    assert applied == users
    return elapsed


def _count(dc: SambaDC, ou: str) -> int:
    found = dc.search(ou, "(objectClass=user)", scope=ldap.SCOPE_ONELEVEL, attributes=["1.1"])
    return len(found)


def run_on(dc: SambaDC, parent: str, users: int) -> dict[str, Any]:
    """Both paths on ``dc``, in two new OUs under ``parent``."""
    raw_ou = dc.add_ou("Raw adds", parent)
    export_ou = dc.add_ou("Connector export", parent)
    raw = _raw_adds(dc, raw_ou, users, "r")
    exported = _connector_adds(dc, export_ou, users, "x")
    assert _count(dc, raw_ou) == users
    assert _count(dc, export_ou) == users
    return {
        "users": users,
        "raw_add_seconds": round(raw, 3),
        "connector_export_seconds": round(exported, 3),
        "ratio": round(exported / raw, 2),
        "connector_users_per_second": round(users / exported, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, running_samba_dc(Path(tmp) / "dc") as dc:
        result = run_on(dc, dc.base_dn, args.users)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return result


if __name__ == "__main__":
    main()
