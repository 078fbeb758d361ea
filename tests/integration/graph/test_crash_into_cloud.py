"""Crash safety into the served cloud directory: a real ``hybridsync run`` process is
killed (SIGKILL) at random moments, ten times, while it syncs LDIF users through the
Graph connector; then runs complete. Exactly one cloud user per in-scope user must
remain: no duplicates, none missing, every attribute right.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.preloaded import PreloadedPython, run_killed_at

from hybridsync.wiring import build_from_file

pytestmark = pytest.mark.slow

USERS = 40


@pytest.fixture
def processes() -> Iterator[PreloadedPython]:
    """The runs to kill: each a process of its own, forked from one that imported
    hybridsync once, so the ten runs do not each pay the import."""
    with PreloadedPython(["hybridsync.cli.run", "hybridsync.wiring"]) as python:
        yield python


def ldif(path: Path, department: str) -> None:
    entries = []
    for index in range(USERS):
        sam = f"user{index:03d}"
        guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le).decode()
        domain = "partners.contoso.com" if index % 10 == 0 else "contoso.com"
        entries.append(
            f"dn: CN={sam},OU=Staff,DC=contoso,DC=com\nobjectClass: user\n"
            f"objectGUID:: {guid}\nsAMAccountName: {sam}\nuserPrincipalName: {sam}@{domain}\n"
            f"displayName: User {index}\ndepartment: {department}\nuserAccountControl: 512\n"
        )
    path.write_text("version: 1\n\n" + "\n".join(entries), encoding="utf-8")


def setup(root: Path, server: CloudServer, tenant: CloudTenant) -> Path:
    config = root / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
[safety]
batch_size = 10
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"{graph_connector_toml(server, tenant, root)}batch_size = 2
concurrency = 1
# Paced at 12 writes per second, so an export takes seconds and a kill lands inside it.
write_quotas = [{{ requests = 6, per_seconds = 0.5 }}]
""",
        encoding="utf-8",
    )
    return config


def killed_run(
    processes: PreloadedPython,
    config: Path,
    cycle: str,
    progress: Callable[[], int],
    rng: random.Random,
) -> int:
    """Start a run and kill it once its export has written a random few users (or at
    once if it finishes first); returns the progress seen when it was killed."""
    before = progress()
    run_killed_at(processes, config, cycle, progress, before + rng.randint(1, 4))
    return progress()


def complete(config: Path, cycle: str) -> None:
    built = build_from_file(config)
    try:
        report = built.engine.cycle(cycle)
        assert report.status == "success", report.as_dict()
    finally:
        built.close()


_TOKENS: dict[str, str] = {}


def cloud_users(tenant: CloudTenant) -> list[dict[str, Any]]:
    # One token per tenant: polling must be cheap to see an export's progress.
    token = _TOKENS.get(tenant.id) or _TOKENS.setdefault(
        tenant.id, tenant.app_token(tenant.admin_app)
    )
    select = "id,userPrincipalName,userType,department,onPremisesImmutableId"
    with tenant.client(token) as http:
        answer = http.get("/v1.0/users", params={"$select": select, "$top": "999"})
    answer.raise_for_status()
    return list(answer.json()["value"])


def test_killed_ten_times_then_completed_exactly_one_user_each(
    tmp_path: Path, processes: PreloadedPython
) -> None:
    rng = random.Random(20261122)
    with serve_cloud(tmp_path / "cloud") as server:
        tenant = server.new_tenant("contoso.com")
        root = tmp_path / "sync"
        root.mkdir()
        config = setup(root, server, tenant)
        ldif(root / "ad.ldif", "Sales")
        created = [
            killed_run(processes, config, "initial", lambda: len(cloud_users(tenant)), rng)
            for _ in range(5)
        ]
        complete(config, "initial")
        ldif(root / "ad.ldif", "Finance")

        def moved() -> int:
            return sum(u["department"] == "Finance" for u in cloud_users(tenant))

        updated = [killed_run(processes, config, "delta", moved, rng) for _ in range(5)]
        complete(config, "delta")
        users = cloud_users(tenant)
    # The kills landed mid-export: some but not all users written at some kill.
    assert any(0 < seen < USERS for seen in created), created
    assert any(0 < seen < USERS for seen in updated), updated
    anchors = Counter(u["onPremisesImmutableId"] for u in users)
    assert len(users) == USERS
    assert max(anchors.values()) == 1, "no duplicate"
    assert {u["userPrincipalName"].split("@")[0] for u in users} == {
        f"user{i:03d}" for i in range(USERS)
    }
    assert {u["department"] for u in users} == {"Finance"}
    guests = {u["userPrincipalName"] for u in users if u["userType"] == "Guest"}
    assert guests == {f"user{i:03d}@partners.contoso.com" for i in range(0, USERS, 10)}
