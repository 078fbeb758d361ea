"""The sync service's latency: from a change in AD to the change visible through Graph.

    uv run python bench/realtime.py [--users 1000 10000] [--changes 50] [--json]

For each directory size, against a throw-away Samba AD DC and the cloud directory served
over HTTPS, after ``hybridsync run initial``:

- the baseline: ``--baseline-changes`` single-attribute changes, each followed by
  ``hybridsync run --delta`` started right after it (what a user runs today);
- ``hybridsync serve`` as a real process: ``--changes`` single-attribute changes made one
  at a time, each read back through Graph until visible; p50, p95 and p99 of both;
- the service's CPU use while idle for ``--idle-seconds`` (its own process, user + system,
  as a percentage of one core), with its default poll and complete-cycle intervals;
- the DC's own times for a DirSync round that finds nothing and for a change
  notification: the part of each change's latency that is Samba searching its
  partition, which grows with the directory.

A change's latency counts from just before the LDAP modify to the first Graph read of the
user (by id) that returns the new value (read every 20 ms). The load average is printed
beside the figures: the machine may be shared. Needs root (a loopback address for the DC) and samba.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ldap
import psutil
from ldap.controls import LDAPControl

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the other benches
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from e2e import (
    HYBRIDSYNC,
    PASSWORD_ENV,
    compile_bytecode,
    hybridsync_run,
    load_average,
    provision,
    write_config,
)
from tests.support.cloud_server import CloudTenant, serve_cloud
from tests.support.daemon import Events
from tests.support.samba import SambaDC, running_samba_dc

from hybridsync.connectors.ad.controls import DIRSYNC_OID, DirSyncRequest, DirSyncResponse
from hybridsync.connectors.ad.notifications import NOTIFICATION_OID

READ_EVERY = 0.02
GIVE_UP = 60.0


def cloud_id(tenant: CloudTenant, dn: str) -> str:
    """The cloud object id of the user synced from ``dn`` (looked up once, untimed)."""
    sam = dn.split(",")[0].removeprefix("CN=")
    query = {"$filter": f"onPremisesSamAccountName eq '{sam}'", "$select": "id"}
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.get("/v1.0/users", params=query)
    answer.raise_for_status()
    found: str = answer.json()["value"][0]["id"]
    return found


def visible_after(dc: SambaDC, tenant: CloudTenant, dn: str, value: str, then: Any) -> float:
    """Seconds from the modify of ``dn``'s title to ``value`` visible through Graph;
    ``then()`` runs right after the modify (the baseline's ``run --delta``). The user is
    read by id, so that a read costs the same at any directory size."""
    path = f"/v1.0/users/{cloud_id(tenant, dn)}"
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        started = time.perf_counter()
        dc.modify(dn, {"title": value})
        then()
        while time.perf_counter() - started < GIVE_UP:
            answer = http.get(path, params={"$select": "jobTitle"})
            answer.raise_for_status()
            if answer.json().get("jobTitle") == value:
                return time.perf_counter() - started
            time.sleep(READ_EVERY)
    raise SystemExit(f"{dn}: the change never reached the cloud")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(cuts[94], 3),
        "p99_s": round(cuts[98], 3),
        "max_s": round(ordered[-1], 3),
    }


def baseline(dc: SambaDC, tenant: CloudTenant, config: Path, dns: list[str], n: int) -> list[float]:
    return [
        visible_after(dc, tenant, dn, f"Baseline {i}", lambda: hybridsync_run(config, "--delta"))
        for i, dn in enumerate(dns[:n])
    ]


def start_service(config: Path) -> tuple[subprocess.Popen[str], Events]:
    process = subprocess.Popen(
        [HYBRIDSYNC, "--log-format", "json", "serve", "-c", str(config), "--admin", "127.0.0.1:0"],
        cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    events = Events(process.stdout)
    events.until("service.listening", timeout=300, connector="ad")
    return process, events


def idle_cpu_percent(process: subprocess.Popen[str], seconds: float) -> float:
    watched = psutil.Process(process.pid)
    before = watched.cpu_times()
    time.sleep(seconds)  # the measurement itself: CPU used over this wall time
    after = watched.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return round(100 * used / seconds, 2)


USERS_FILTER = "(&(objectClass=user)(!(objectClass=computer)))"


def dc_dirsync_ms(dc: SambaDC, repeats: int = 10) -> float:
    """The DC's own time for one DirSync round that finds nothing (median, ms).

    A small cycle asks two of these (users, then groups); Samba answers each by searching
    the whole partition (its index cannot serve ``uSNChanged >=``), so this share of a
    change's latency grows with the directory whatever the service does.
    """
    conn = dc.connect()
    domain = _domain(dc)
    cookie, more = b"", True
    while more:  # to now
        cookie, more = _dirsync_round(conn, domain, cookie)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        _dirsync_round(conn, domain, cookie)
        samples.append(time.perf_counter() - started)
    conn.unbind_s()
    return round(1000 * statistics.median(samples), 1)


def dc_notification_ms(dc: SambaDC, dn: str, repeats: int = 5) -> float:
    """The DC's own delay from a modify to its change notification (median, ms).

    The service waits for this announcement before anything else; Samba finds the
    changed object for each open notification request by a search of its own.
    """
    listener = dc.connect()
    domain = _domain(dc)
    control = LDAPControl(NOTIFICATION_OID, True)
    msgid = listener.search_ext(domain, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["objectGUID"],
                                serverctrls=[control])  # fmt: skip

    def announced(value: str, timeout: float) -> float | None:
        started = time.perf_counter()
        dc.modify(dn, {"description": value})
        try:
            listener.result(msgid, all=0, timeout=timeout)
        except ldap.TIMEOUT:
            return None
        took = time.perf_counter() - started
        with contextlib.suppress(ldap.TIMEOUT):  # one change may be announced twice
            while listener.result(msgid, all=0, timeout=0.2)[0] is not None:
                pass
        return took

    # The DC registers the request in its own time: changes until one is announced.
    if not any(announced(f"registered {i}", 1.0) is not None for i in range(20)):
        raise RuntimeError(f"{dc.ldaps_url} announced no change in 20 s")
    samples = [announced(f"notified {i}", GIVE_UP) for i in range(repeats)]
    listener.abandon(msgid)
    listener.unbind_s()
    return round(1000 * statistics.median(x for x in samples if x is not None), 1)


def _domain(dc: SambaDC) -> str:
    base = dc.admin.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["defaultNamingContext"])
    return str(base[0][1]["defaultNamingContext"][0].decode())


def _dirsync_round(conn: Any, domain: str, cookie: bytes) -> tuple[bytes, bool]:
    msgid = conn.search_ext(domain, ldap.SCOPE_SUBTREE, USERS_FILTER, ["objectGUID"],
                            serverctrls=[DirSyncRequest(cookie)])  # fmt: skip
    _, _, _, controls = conn.result3(msgid, resp_ctrl_classes={DIRSYNC_OID: DirSyncResponse})
    response = next(c for c in controls if isinstance(c, DirSyncResponse))
    return response.cookie, bool(response.more)


def measure(users: int, changes: int, baseline_changes: int, idle_seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, running_samba_dc(Path(tmp) / "dc") as dc:
        root = Path(tmp)
        ou, dns = provision(dc, users)
        os.environ[PASSWORD_ENV] = dc.admin_password
        try:
            with serve_cloud(root / "cloud") as server:
                tenant = server.new_tenant("contoso.com")
                config = write_config(root, dc, server, tenant, ou)
                initial_s, _ = hybridsync_run(config, "initial")
                hybridsync_run(config, "--delta")  # confirms the initial exports
                run_delta = baseline(dc, tenant, config, dns, baseline_changes)
                process, _ = start_service(config)
                try:
                    served = [
                        visible_after(dc, tenant, dn, f"Served {i}", lambda: None)
                        for i, dn in enumerate(dns[-changes:])
                    ]
                    idle = idle_cpu_percent(process, idle_seconds)
                    dirsync_ms = dc_dirsync_ms(dc)
                    notification_ms = dc_notification_ms(dc, dns[0])
                finally:
                    process.send_signal(signal.SIGTERM)
                    process.wait(120)
                    assert process.stdout is not None
                    process.stdout.close()
        finally:
            os.environ.pop(PASSWORD_ENV, None)
    return {
        "users": users,
        "initial_cycle_s": round(initial_s, 2),
        "serve": {"changes": changes, **percentiles(served)},
        "run_delta": {"changes": baseline_changes, **percentiles(run_delta)},
        "idle_cpu_percent_of_one_core": idle,
        "idle_seconds": idle_seconds,
        "dc_dirsync_round_ms": dirsync_ms,
        "dc_notification_ms": notification_ms,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--baseline-changes", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    compile_bytecode()
    results = []
    for users in args.users:
        load_before = load_average()
        result = measure(users, args.changes, args.baseline_changes, args.idle_seconds)
        result["load_average"] = f"{load_before} -> {load_average()}"
        results.append(result)
        if not args.json:
            print_result(result)
    if args.json:
        print(json.dumps(results, indent=2))
    return results


def print_result(result: dict[str, Any]) -> None:
    print(f"{result['users']} users (load {result['load_average']}), "
          f"initial cycle {result['initial_cycle_s']} s")  # fmt: skip
    for name in ("serve", "run_delta"):
        row = result[name]
        print(f"  {name:9} {row['changes']:3} changes: p50 {row['p50_s']} s, "
              f"p95 {row['p95_s']} s, p99 {row['p99_s']} s, max {row['max_s']} s")  # fmt: skip
    print(f"  idle CPU: {result['idle_cpu_percent_of_one_core']}% of one core "
          f"over {result['idle_seconds']} s")  # fmt: skip
    print(f"  the DC's own DirSync round (nothing new): {result['dc_dirsync_round_ms']} ms, "
          f"its change notification: {result['dc_notification_ms']} ms")  # fmt: skip


if __name__ == "__main__":
    main()
