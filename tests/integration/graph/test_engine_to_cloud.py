"""The engine with its built-in rules syncs LDIF users into the served cloud directory
through the Graph connector: initial cycle, a quiet delta, and a changed attribute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.workspace import ldif_to_graph

from hybridsync.engine import Profile
from hybridsync.wiring import build_from_file


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[CloudServer, CloudTenant]]:
    with serve_cloud(tmp_path / "cloud") as server:
        yield server, server.new_tenant("contoso.com")


def write_config(tmp_path: Path, server: CloudServer, tenant: CloudTenant) -> Path:
    return ldif_to_graph(tmp_path, graph_connector_toml(server, tenant, tmp_path))


def cloud_users(tenant: CloudTenant) -> dict[str, dict[str, Any]]:
    token = tenant.app_token(tenant.admin_app)
    select = "id,userPrincipalName,userType,department,onPremisesImmutableId,onPremisesSyncEnabled"
    with tenant.client(token) as http:
        answer = http.get("/v1.0/users", params={"$select": select, "$top": "999"})
    answer.raise_for_status()
    return {u["userPrincipalName"]: u for u in answer.json()["value"]}


def errors_of(report: Any) -> list[str]:
    return [f"{e.dn}: {e.message}" for run in report.runs for e in run.errors]


def exported(report: Any) -> int:
    counts = [run.counts for run in report.runs if run.profile.value == "export"]
    return sum(c.get(k, 0) for c in counts for k in ("add", "update", "delete"))


def test_ldif_users_become_members_and_guests_and_a_quiet_delta_exports_nothing(
    tmp_path: Path, cloud: tuple[CloudServer, CloudTenant]
) -> None:
    server, tenant = cloud
    built = build_from_file(write_config(tmp_path, server, tenant))
    try:
        initial = built.engine.cycle("initial")
        assert errors_of(initial) == []
        users = cloud_users(tenant)
        assert len(users) == 20
        guests = {upn for upn, u in users.items() if u["userType"] == "Guest"}
        assert len(guests) == 8
        assert all(u["onPremisesSyncEnabled"] is True for u in users.values())
        assert all(u["onPremisesImmutableId"] for u in users.values())
        quiet = built.engine.cycle("delta")
        assert errors_of(quiet) == []
        assert exported(quiet) == 0
    finally:
        built.close()


def test_a_changed_attribute_reaches_the_cloud_in_a_delta_cycle(
    tmp_path: Path, cloud: tuple[CloudServer, CloudTenant]
) -> None:
    server, tenant = cloud
    built = build_from_file(write_config(tmp_path, server, tenant))
    try:
        built.engine.cycle("initial")
        ldif = tmp_path / "ad.ldif"
        text = ldif.read_text("utf-8")
        ldif.write_text(text.replace("department: Sales", "department: Legal", 1), "utf-8")
        report = built.engine.cycle("delta")
        assert errors_of(report) == []
        assert exported(report) == 1
        assert cloud_users(tenant)["wmoran@contoso.com"]["department"] == "Legal"
    finally:
        built.close()


def test_the_import_confirming_the_creates_leaves_nothing_to_sync(
    tmp_path: Path, cloud: tuple[CloudServer, CloudTenant]
) -> None:
    # The directory holds more than the creates carried (the synced-user marker); the
    # confirming import expects it, so the delta sync after it reads no object.
    server, tenant = cloud
    built = build_from_file(write_config(tmp_path, server, tenant))
    try:
        built.engine.cycle("initial")
        confirming = built.engine.run("cloud", Profile.DELTA_IMPORT)
        assert confirming.counts.get("read") == 20
        assert built.store.cs_ids("cloud", pending_only=True) == []
        assert exported(built.engine.cycle("delta")) == 0
    finally:
        built.close()
