"""Users created per second in the cloud directory: through ``$batch`` and through single POSTs.

    uv run python bench/cloud_write.py [N] [--rounds R] [--json]     (default N = 1,000)

One HTTPS cloud directory (uvicorn in a thread, SQLite, a generated CA) and one client
connection with keep-alive. Each method creates N users in its own tenant, as the sync
engine's application would (synced users: on-premises markers, no cloud password). The two
methods alternate in R rounds so machine noise hits both alike. Single POSTs are the
baseline; the ratio is batch rate / single rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.support.cloud_server import CloudTenant, serve_cloud

BATCH_SIZE = 20
JSON = {"Content-Type": "application/json"}


def user(tenant: CloudTenant, i: int) -> dict[str, Any]:
    partner = i % 10 == 0
    return {
        "accountEnabled": True,
        "displayName": f"User {i}",
        "mailNickname": f"user{i}",
        "userPrincipalName": f"user{i}@{tenant.partner_domain if partner else tenant.domain}",
        "userType": "Guest" if partner else "Member",
        "onPremisesImmutableId": f"QU5DSE9S{i:08d}",
        "onPremisesSamAccountName": f"user{i}",
        "department": "Sales",
    }


def singles(http: httpx.Client, tenant: CloudTenant, numbers: range) -> float:
    started = time.perf_counter()
    for i in numbers:
        answer = http.post("/v1.0/users", json=user(tenant, i))
        if answer.status_code != 201:
            raise SystemExit(f"single create failed: {answer.status_code} {answer.text}")
    return time.perf_counter() - started


def batches(http: httpx.Client, tenant: CloudTenant, numbers: range) -> float:
    def item(i: int) -> dict[str, Any]:
        return {"id": str(i), "method": "POST", "url": "/users", "headers": JSON,
                "body": user(tenant, i)}  # fmt: skip

    bodies = [
        {"requests": [item(i) for i in numbers[start : start + BATCH_SIZE]]}
        for start in range(0, len(numbers), BATCH_SIZE)
    ]
    started = time.perf_counter()
    for body in bodies:
        answer = http.post("/v1.0/$batch", json=body)
        statuses = {item["status"] for item in answer.json()["responses"]}
        if answer.status_code != 200 or statuses != {201}:
            raise SystemExit(f"batch create failed: {answer.status_code} {statuses}")
    return time.perf_counter() - started


def measure(count: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory, serve_cloud(Path(directory)) as server:
        single_tenant, batch_tenant = server.new_tenant(), server.new_tenant()
        single_http = single_tenant.client(single_tenant.app_token(single_tenant.sync_app))
        batch_http = batch_tenant.client(batch_tenant.app_token(batch_tenant.sync_app))
        with single_http, batch_http:
            single_seconds = batch_seconds = 0.0
            per_round = max(1, count // rounds)
            for start in range(0, count, per_round):
                numbers = range(start, min(start + per_round, count))
                single_seconds += singles(single_http, single_tenant, numbers)
                batch_seconds += batches(batch_http, batch_tenant, numbers)
    single_rate, batch_rate = count / single_seconds, count / batch_seconds
    return {
        "users": count,
        "single_post_users_per_second": round(single_rate, 1),
        "batch_users_per_second": round(batch_rate, 1),
        "ratio_batch_over_single": round(batch_rate / single_rate, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.count, args.rounds)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['users']} users per method, HTTPS, one keep-alive connection")
    print(f"single POSTs (baseline): {figures['single_post_users_per_second']:>8} users/s")
    print(f"$batch of {BATCH_SIZE}:             {figures['batch_users_per_second']:>8} users/s")
    print(f"ratio batch / single:    {figures['ratio_batch_over_single']:>8}")


if __name__ == "__main__":
    main()
