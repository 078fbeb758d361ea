"""The synchronization role (this service's extension): on-premises markers and mastery."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.cloud_server import CloudTenant

from hybridsync.cloud.errors import ON_PREMISES_MASTERED

ON_PREMISES = {
    "onPremisesImmutableId": "AQIDBAUGBwgJCgsMDQ4PEA==",
    "onPremisesDistinguishedName": "CN=Pat,OU=Partners,DC=contoso,DC=com",
    "onPremisesSamAccountName": "pat",
    "onPremisesUserPrincipalName": "pat@contoso.com",
    "onPremisesDomainName": "contoso.com",
    "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1105",
}
SELECT = ",".join([*ON_PREMISES, "onPremisesSyncEnabled", "onPremisesLastSyncDateTime", "jobTitle"])


@pytest.fixture
def sync(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.sync_app)) as client:
        yield client


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


def synced_user(tenant: CloudTenant, sync: httpx.Client) -> str:
    body = tenant.user_body("pat", **ON_PREMISES)
    del body["passwordProfile"]  # synced users need no cloud password
    created = sync.post("/v1.0/users", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_sync_role_writes_on_premises_markers(tenant: CloudTenant, sync: httpx.Client) -> None:
    user_id = synced_user(tenant, sync)
    user = sync.get(f"/v1.0/users/{user_id}", params={"$select": SELECT}).json()
    assert {k: user[k] for k in ON_PREMISES} == ON_PREMISES
    assert user["onPremisesSyncEnabled"] is True
    assert user["onPremisesLastSyncDateTime"].endswith("Z")
    found = sync.get(
        "/v1.0/users",
        params={"$filter": f"onPremisesImmutableId eq '{ON_PREMISES['onPremisesImmutableId']}'"},
    )
    assert [u["id"] for u in found.json()["value"]] == [user_id]


def test_other_apps_cannot_write_markers(tenant: CloudTenant, admin: httpx.Client) -> None:
    body = tenant.user_body("cloudonly", onPremisesSamAccountName="x")
    answer = admin.post("/v1.0/users", json=body)
    assert answer.status_code == 400
    assert (
        answer.json()["error"]["message"]
        == "Property 'onPremisesSamAccountName' is read-only and cannot be set."
    )
    created = admin.post("/v1.0/users", json=tenant.user_body("cloud2")).json()
    user = admin.get(
        f"/v1.0/users/{created['id']}", params={"$select": "onPremisesSyncEnabled"}
    ).json()
    assert user["onPremisesSyncEnabled"] is None


def test_on_premises_mastered_properties_refuse_cloud_writes(
    tenant: CloudTenant, sync: httpx.Client, admin: httpx.Client
) -> None:
    user_id = synced_user(tenant, sync)
    refused = admin.patch(f"/v1.0/users/{user_id}", json={"jobTitle": "Boss"})
    assert refused.status_code == 400
    assert refused.json()["error"] | {"innerError": None} == {
        "code": "Request_BadRequest", "message": ON_PREMISES_MASTERED, "innerError": None,
    }  # fmt: skip
    assert admin.delete(f"/v1.0/users/{user_id}").json()["error"]["message"] == ON_PREMISES_MASTERED
    # What stays cloud-managed can still be written; the sync engine can write everything.
    assert admin.patch(f"/v1.0/users/{user_id}", json={"usageLocation": "DE"}).status_code == 204
    assert sync.patch(f"/v1.0/users/{user_id}", json={"jobTitle": "Boss"}).status_code == 204
    assert (
        sync.get(f"/v1.0/users/{user_id}", params={"$select": "jobTitle"}).json()["jobTitle"]
        == "Boss"
    )


def test_hard_match_by_immutable_id_sees_a_restored_user(
    tenant: CloudTenant, sync: httpx.Client
) -> None:
    user_id = synced_user(tenant, sync)
    assert sync.delete(f"/v1.0/users/{user_id}").status_code == 204
    query = {"$filter": f"onPremisesImmutableId eq '{ON_PREMISES['onPremisesImmutableId']}'"}
    assert sync.get("/v1.0/users", params=query).json()["value"] == []
    assert sync.post(f"/v1.0/directory/deletedItems/{user_id}/restore").status_code == 200
    assert [u["id"] for u in sync.get("/v1.0/users", params=query).json()["value"]] == [user_id]


def test_proxy_addresses_are_unique(tenant: CloudTenant, sync: httpx.Client) -> None:
    first = sync.post(
        "/v1.0/users", json=tenant.user_body("px1", proxyAddresses=["SMTP:px@contoso.com"])
    )
    assert first.status_code == 201
    clash = sync.post(
        "/v1.0/users", json=tenant.user_body("px2", proxyAddresses=["smtp:PX@contoso.com"])
    )
    error = clash.json()["error"]
    assert error["message"] == (
        "Another object with the same value for property proxyAddresses already exists."
    )
    assert [d["code"] for d in error["details"]] == ["ObjectConflict", "ConflictingObjects"]
    assert error["details"][1]["message"] == first.json()["id"]
    assert (
        sync.get("/v1.0/users", params={"$filter": "startsWith(displayName,'Px')"}).json()["value"]
        != []
    )
    # Deleting the holder frees the address; restoring it while taken is refused.
    assert sync.delete(f"/v1.0/users/{first.json()['id']}").status_code == 204
    second = sync.post(
        "/v1.0/users", json=tenant.user_body("px2", proxyAddresses=["smtp:PX@contoso.com"])
    )
    assert second.status_code == 201
    refused = sync.post(f"/v1.0/directory/deletedItems/{first.json()['id']}/restore")
    assert refused.json()["error"]["details"][0]["code"] == "ObjectConflict"
