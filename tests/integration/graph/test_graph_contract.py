"""The engine's connector contract suites, run against the served cloud directory.

``mutate`` answers anchors (Graph ids), not DNs: a removed delta item carries nothing
but the id.

Two tests are adapted, each for a documented reason: a Graph user needs a UPN and a
source anchor to be created, and Graph's delta query does not tell a new user from a
changed one (both come as complete objects: REPLACE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.contract.suites import SourceSuite, TargetSuite
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud

from hybridsync.connectors.graph import GraphConfig, GraphConnector
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ImportKind,
)


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as server:
        yield server


@pytest.fixture
def tenant(cloud_server: CloudServer) -> CloudTenant:
    return cloud_server.new_tenant()


@pytest.fixture
def connector(cloud_server: CloudServer, tenant: CloudTenant) -> Iterator[GraphConnector]:
    config = GraphConfig(
        base_url=f"{cloud_server.base_url}/v1.0",
        authority=tenant.authority,
        client_id=tenant.sync_app.application.client_id,
        client_secret=tenant.sync_app.client_secret,
        ca_file=cloud_server.ca_path,
        target="hybridsync",
    )
    with GraphConnector(config) as made:
        yield made


def add(tenant: CloudTenant, alias: str) -> ExportChange:
    values = {
        "onPremisesImmutableId": alias.upper(),
        "userPrincipalName": f"{alias}@{tenant.domain}",
        "displayName": alias.title(),
    }
    changes = tuple(AttributeChange(k, (v,)) for k, v in values.items())
    return ExportChange(f"add-{alias}", ExportKind.ADD, None, f"CN={alias}", "user", changes)


@pytest.fixture
def mutate(connector: GraphConnector, tenant: CloudTenant) -> Callable[[], tuple[str, str, str]]:
    results = {r.change_id: r for r in connector.export([add(tenant, a) for a in ("ann", "bob")])}

    def change_delete_add() -> tuple[str, str, str]:
        ann, bob = results["add-ann"].anchor, results["add-bob"].anchor
        rename = (AttributeChange("displayName", ("Ann B",)),)
        changes = [
            ExportChange("u", ExportKind.UPDATE, ann, "CN=ann", "user", rename),
            ExportChange("d", ExportKind.DELETE, bob, "CN=bob", "user"),
            add(tenant, "cid"),
        ]
        done = {r.change_id: r for r in connector.export(changes)}
        assert {r.outcome for r in done.values()} == {ExportOutcome.APPLIED}
        return ann or "", bob or "", done["add-cid"].anchor or ""

    return change_delete_add


class TestGraphSource(SourceSuite):
    @pytest.fixture(autouse=True)
    def _populated(self, connector: GraphConnector, tenant: CloudTenant) -> None:
        if not next(iter(connector.full_import())).objects:
            list(connector.export([add(tenant, "dan")]))

    def test_delta_after_a_change_a_delete_and_an_add(
        self, connector: Any, mutate: Callable[[], tuple[str, str, str]]
    ) -> None:
        # Keyed by anchor (the Graph id): a removed item carries nothing else.
        watermark = list(connector.full_import())[-1].watermark
        changed, _deleted, added = mutate()
        kinds: dict[str, ImportKind] = {}
        for page in connector.delta_import(watermark):
            for obj in page.objects:
                kinds[obj.anchor] = obj.kind
        assert ImportKind.DELETE in kinds.values()
        assert kinds[changed] in {ImportKind.REPLACE, ImportKind.UPDATE}
        # Graph: a new user and a changed one look alike (never ADD).
        assert kinds[added] in {ImportKind.REPLACE, ImportKind.UPDATE}
        assert len(kinds) == 3, kinds


class TestGraphTarget(TargetSuite):
    @pytest.fixture(autouse=True)
    def _tenant(self, tenant: CloudTenant) -> None:
        self.tenant = tenant

    def test_add_update_delete_round_trip(self, connector: Any) -> None:
        (result,) = list(connector.export([add(self.tenant, "ann")]))
        assert result.outcome is ExportOutcome.APPLIED
        assert result.anchor
        imported = {obj.anchor: obj for page in connector.full_import() for obj in page.objects}
        assert imported[result.anchor].attributes["displayName"] == ("Ann",)
        rename = (AttributeChange("displayName", ("Ann B",)),)
        update = ExportChange("c2", ExportKind.UPDATE, result.anchor, "CN=ann", "user", rename)
        assert next(iter(connector.export([update]))).outcome is ExportOutcome.APPLIED
        found = connector.read_back(update)
        assert found is not None
        assert found.attributes["displayName"] == ("Ann B",)
        delete = ExportChange("c3", ExportKind.DELETE, result.anchor, "CN=ann", "user")
        assert next(iter(connector.export([delete]))).outcome is ExportOutcome.APPLIED
        assert connector.read_back(delete) is None
