"""Sign-ins per second through pass-through authentication, end to end, beside a direct LDAP
bind baseline measured in the same run.

    uv run python bench/signin.py [N] [--concurrency C] [--workers W] [--json]   (default N = 200)

Needs the samba package (a Samba AD DC on a loopback address) and root. One HTTPS cloud
directory (uvicorn in a thread, SQLite), one agent (W long-poll workers, the real agent code
and LDAP checks), C client threads each posting the password grant. Each sign-in: token
endpoint -> dispatcher -> RSA-OAEP encryption -> queue -> agent long-poll -> decrypt -> LDAP
lookup by anchor + bind as the user over LDAPS -> answer -> tokens signed. The baseline is
the same LDAP work without the cloud (lookup + bind, C threads): the ratio shows what the
cloud round trip costs on top of AD itself.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.support.cloud_server import serve_cloud
from tests.support.samba import USER_PASSWORD, running_samba_dc
from tests.support.signin import public_client, running_agent, sync_user

from hybridsync.connectors.ad import ADSettings
from hybridsync.connectors.ad.password_check import PasswordCheck

USERS = 20
PASSWORD_ENV = "HYBRIDSYNC_BENCH_AD_PASSWORD"


def timed(count: int, concurrency: int, one: Callable[[int], None]) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def run(i: int) -> None:
        started = time.perf_counter()
        one(i)
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(run, range(count)))
    return time.perf_counter() - started, latencies


def percentiles(latencies: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-signin-") as tmp:
        result = run(Path(tmp), args.count, args.concurrency, args.workers)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name in ("ldap_bind", "pta_signin"):
        row = result[name]
        print(f"{name:11s} {row['per_second']:8.1f}/s  p50 {row['p50_ms']:6.1f} ms"
              f"  p95 {row['p95_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms")  # fmt: skip
    print(f"PTA sign-in rate / LDAP bind rate: {result['ratio']:.2f}")


def run(tmp: Path, count: int, concurrency: int, workers: int) -> dict[str, Any]:
    seed = Path(__file__).resolve().parent.parent / "src/hybridsync/samples/contoso.ldif"
    with running_samba_dc(tmp / "dc", seed=seed) as dc, serve_cloud(tmp / "cloud") as server:
        os.environ[PASSWORD_ENV] = dc.admin_password
        settings = ADSettings(url=dc.ldaps_url, bind_user=dc.admin_upn, password_env=PASSWORD_ENV,
                              ca_file=dc.ca_file)  # fmt: skip
        check = PasswordCheck(settings, settings.password())
        tenant = server.new_tenant("contoso.com")
        ou = dc.add_ou("Bench")
        upns, anchors = [], []
        for i in range(USERS):
            upn = f"bench{i}@partners.contoso.com"
            guid = dc.object_guid(dc.add_user(f"bench{i}", ou_dn=ou, upn=upn))
            sync_user(tenant, upn=upn, anchor=guid, guest=True)
            upns.append(upn)
            anchors.append(base64.b64encode(guid).decode())

        def bind(i: int) -> None:
            if check.check(anchors[i % USERS], USER_PASSWORD) != "success":
                raise SystemExit("LDAP baseline bind failed")

        client_id = public_client(tenant)
        with (
            running_agent(
                tenant, tmp / "agent", lambda a, p: str(check.check(a, p)), workers=workers
            ),
            httpx.Client(verify=server.ssl_context(), base_url=server.base_url, timeout=30) as http,
        ):

            def signin(i: int) -> None:
                answer = http.post(f"/{tenant.id}/oauth2/v2.0/token", data={
                    "grant_type": "password", "client_id": client_id,
                    "username": upns[i % USERS], "password": USER_PASSWORD,
                    "scope": "User.Read openid profile",
                })  # fmt: skip
                if answer.status_code != 200:
                    raise SystemExit(f"sign-in failed: {answer.text}")

            timed(min(count, 20), concurrency, signin)  # warm up both paths
            timed(min(count, 20), concurrency, bind)
            ldap_wall, ldap_lat = timed(count, concurrency, bind)
            pta_wall, pta_lat = timed(count, concurrency, signin)
        check.close()
    ldap_rate, pta_rate = count / ldap_wall, count / pta_wall
    return {
        "count": count, "concurrency": concurrency, "agent_workers": workers,
        "ldap_bind": {"per_second": ldap_rate, **percentiles(ldap_lat)},
        "pta_signin": {"per_second": pta_rate, **percentiles(pta_lat)},
        "ratio": pta_rate / ldap_rate,
    }  # fmt: skip


if __name__ == "__main__":
    main()
