"""Managers and direct reports over real HTTPS, and who may change them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.cloud_server import CloudTenant
from tests.support.graph_objects import REF, error, ids, new_user

from hybridsync.cloud.errors import ON_PREMISES_MASTERED


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


def test_set_read_and_remove_a_manager(tenant: CloudTenant, admin: httpx.Client) -> None:
    boss, ann, bob = (new_user(admin, tenant, alias) for alias in ("boss", "ann", "bob"))
    assert error(admin.get(f"/v1.0/users/{ann}/manager"))[:2] == (404, "Request_ResourceNotFound")
    for report in (ann, bob):
        answer = admin.put(
            f"/v1.0/users/{report}/manager/$ref", json={"@odata.id": REF.format(boss)}
        )
        assert answer.status_code == 204, answer.text

    manager = admin.get(f"/v1.0/users/{ann}/manager").json()
    assert (manager["@odata.type"], manager["id"]) == ("#microsoft.graph.user", boss)
    ref = admin.get(f"/v1.0/users/{ann}/manager/$ref").json()
    assert ref["@odata.id"].endswith(f"/directoryObjects/{boss}")
    assert ids(admin.get(f"/v1.0/users/{boss}/directReports")) == sorted([ann, bob])
    with tenant.client(tenant.mint_user_token(ann)) as me:
        assert me.get("/v1.0/me/manager").json()["id"] == boss
    with tenant.client(tenant.mint_user_token(boss)) as me:
        assert ids(me.get("/v1.0/me/directReports")) == sorted([ann, bob])

    assert admin.delete(f"/v1.0/users/{ann}/manager/$ref").status_code == 204
    assert admin.get(f"/v1.0/users/{ann}/manager").status_code == 404
    assert error(admin.delete(f"/v1.0/users/{ann}/manager/$ref"))[0] == 404
    assert ids(admin.get(f"/v1.0/users/{boss}/directReports")) == [bob]


def test_bad_manager_references(tenant: CloudTenant, admin: httpx.Client) -> None:
    ann = new_user(admin, tenant, "ann")
    url = f"/v1.0/users/{ann}/manager/$ref"
    assert error(admin.put(url, json={"@odata.id": REF.format(ann)}))[0] == 400
    missing = REF.format("00000000-0000-0000-0000-00000000000a")
    assert error(admin.put(url, json={"@odata.id": missing}))[0] == 404
    assert error(admin.put(url, json={"@odata.id": "https://evil.example/x"}))[0] == 400
    assert error(admin.put(url, json={}))[0] == 400


def test_a_synced_users_manager_comes_from_ad_only(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    boss = new_user(admin, tenant, "boss")
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
        synced = new_user(sync, tenant, "synced", onPremisesImmutableId="c3luY2Vk")
        body = {"@odata.id": REF.format(boss)}
        refused = admin.put(f"/v1.0/users/{synced}/manager/$ref", json=body)
        assert error(refused) == (400, "Request_BadRequest", ON_PREMISES_MASTERED)
        assert sync.put(f"/v1.0/users/{synced}/manager/$ref", json=body).status_code == 204
        assert error(admin.delete(f"/v1.0/users/{synced}/manager/$ref"))[0] == 400
        assert sync.delete(f"/v1.0/users/{synced}/manager/$ref").status_code == 204


def test_a_manager_change_brings_the_user_back_in_delta(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    boss, ann = new_user(admin, tenant, "boss"), new_user(admin, tenant, "ann")
    link = admin.get("/v1.0/users/delta").json()["@odata.deltaLink"]
    admin.put(f"/v1.0/users/{ann}/manager/$ref", json={"@odata.id": REF.format(boss)})
    assert ids(admin.get(link)) == [ann]


def test_writing_a_manager_needs_the_user_write_permission(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    boss, ann = new_user(admin, tenant, "boss"), new_user(admin, tenant, "ann")
    reader = tenant.add_app(["User.Read.All"])
    with tenant.client(tenant.app_token(reader)) as http:
        answer = http.put(f"/v1.0/users/{ann}/manager/$ref", json={"@odata.id": REF.format(boss)})
        assert error(answer)[:2] == (403, "Authorization_RequestDenied")
    with tenant.client(tenant.mint_user_token(ann)) as me:  # a member, without a write scope
        answer = me.put(f"/v1.0/users/{ann}/manager/$ref", json={"@odata.id": REF.format(boss)})
        assert answer.status_code == 403


def test_users_delta_reports_manager_changes_when_selected(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    boss, ann, bob = (new_user(admin, tenant, alias) for alias in ("boss", "ann", "bob"))
    admin.put(f"/v1.0/users/{ann}/manager/$ref", json={"@odata.id": REF.format(boss)})
    first = admin.get("/v1.0/users/delta", params={"$select": "displayName,manager"}).json()
    by_id = {item["id"]: item for item in first["value"]}
    assert by_id[ann]["manager@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": boss}]
    assert "manager@delta" not in by_id[bob]
    assert set(by_id[bob]) == {"id", "displayName"}

    admin.delete(f"/v1.0/users/{ann}/manager/$ref")
    later = admin.get(first["@odata.deltaLink"]).json()["value"]
    removed = {
        "@odata.type": "#microsoft.graph.user",
        "id": boss,
        "@removed": {"reason": "deleted"},
    }
    assert later == [{"id": ann, "displayName": "Ann", "manager@delta": [removed]}]
    plain = admin.get("/v1.0/users/delta").json()["value"]
    assert all("manager@delta" not in item for item in plain)  # only when selected
