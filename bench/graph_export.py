"""Graph connector export speed against the served cloud directory, beside raw $batch.

    uv run python bench/graph_export.py [N]        (default 2,000 users; 10% partners)

Both runs create N users in their own tenant of one HTTPS cloud directory: the baseline
POSTs pre-built ``$batch`` bodies of 20 creates with the same concurrency and nothing
else; the connector maps every change, hard-matches (one lookup per 15 adds), sends and
classifies every answer. Prints seconds, users/s and the ratio connector / baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.cloud_server import CloudTenant, create_in_batches, serve_cloud

from hybridsync.connectors.graph import GraphConfig, GraphConnector
from hybridsync.core.ports import AttributeChange, ExportChange, ExportKind

CONCURRENCY = 4


def user(tenant: CloudTenant, i: int) -> dict[str, Any]:
    partner = i % 10 == 0
    domain = tenant.partner_domain if partner else tenant.domain
    return {
        "onPremisesImmutableId": f"ANCHOR{i:07d}",
        "userPrincipalName": f"user{i}@{domain}",
        "displayName": f"User {i}",
        "mailNickname": f"user{i}",
        "accountEnabled": True,
        "userType": "Guest" if partner else "Member",
        "department": "Sales",
        "jobTitle": "Engineer",
    }


def raw_batches(tenant: CloudTenant, count: int) -> float:
    return create_in_batches(tenant, [user(tenant, i) for i in range(count)], CONCURRENCY)


def connector_export(tenant: CloudTenant, count: int, server: Any) -> float:
    config = GraphConfig(
        base_url=f"{server.base_url}/v1.0",
        authority=tenant.authority,
        client_id=tenant.sync_app.application.client_id,
        client_secret=tenant.sync_app.client_secret,
        ca_file=server.ca_path,
        target="hybridsync",
        concurrency=CONCURRENCY,
        write_quotas=(),
    )
    changes = [
        ExportChange(
            f"c{i}", ExportKind.ADD, None, f"CN={i}", "user",
            tuple(AttributeChange(k, (v,)) for k, v in user(tenant, i).items()),
        )
        for i in range(count)
    ]  # fmt: skip
    with GraphConnector(config) as connector:
        connector.parameters()
        started = time.perf_counter()
        results = list(connector.export(changes))
        elapsed = time.perf_counter() - started
    assert len(results) == count
    assert all(r.outcome.value == "applied" for r in results), results[:3]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; best kept")
    args = parser.parse_args()
    count = args.count
    baselines: list[float] = []
    ours: list[float] = []
    with tempfile.TemporaryDirectory() as directory, serve_cloud(Path(directory)) as server:
        for _ in range(args.rounds):
            # Interleaved, each in a fresh tenant, so that neither side gets a warmer server.
            baselines.append(raw_batches(server.new_tenant(), count))
            ours.append(connector_export(server.new_tenant(), count, server))
    baseline, best = min(baselines), min(ours)
    print(f"users: {count}, $batch concurrency: {CONCURRENCY}, best of {args.rounds} rounds")
    print(f"raw $batch POSTs   {baseline:8.2f} s  {count / baseline:8.0f} users/s")
    print(f"graph connector    {best:8.2f} s  {count / best:8.0f} users/s")
    print(f"ratio connector / raw: {best / baseline:.2f}")


if __name__ == "__main__":
    main()
