"""Password hash sync uploads (the synchronization role's extension) and the sign-in check."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from tests.support.cloud_server import CloudTenant

from hybridsync.cloud.password_hash_sync import stored_password_hash, verify_synced_password_hash

# The spec's DSInternals vector (sync-engine.md §4.1): password Pa$$w0rd.
SPEC_WIRE = (
    "v1;PPH1_MD4,181a3024085fcee2f70e,1000,"
    "b39525c3bc72a1136fcf7c8a338e0c14313d0450d1a4c98ef0a6ddada3bc5b0a;"
)
PATH = "/v1.0/hybridsync/passwordHashes"


@pytest.fixture
def sync(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.sync_app)) as client:
        yield client


def synced_user(tenant: CloudTenant, sync: httpx.Client, alias: str) -> str:
    body = tenant.user_body(alias, onPremisesImmutableId=f"{alias}-immutable")
    del body["passwordProfile"]
    created = sync.post("/v1.0/users", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_the_spec_vector_verifies_and_nothing_else_does() -> None:
    assert verify_synced_password_hash(SPEC_WIRE, "Pa$$w0rd")
    assert not verify_synced_password_hash(SPEC_WIRE, "pa$$w0rd")
    assert not verify_synced_password_hash(SPEC_WIRE.replace("1000", "1001"), "Pa$$w0rd")
    assert not verify_synced_password_hash("v1;PPH1_MD4,zz;", "Pa$$w0rd")


def test_upload_stores_the_hash_and_sign_in_recomputes_it(
    tenant: CloudTenant, sync: httpx.Client
) -> None:
    user_id = synced_user(tenant, sync, "phsana")
    service = tenant.server.service
    assert stored_password_hash(service, tenant.id, user_id) is None
    answer = sync.post(PATH, json={"value": [{"userId": user_id, "passwordHash": SPEC_WIRE}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["value"] == [{"userId": user_id, "status": 204}]
    assert stored_password_hash(service, tenant.id, user_id) == SPEC_WIRE
    assert stored_password_hash(service, "another-tenant", user_id) is None


def test_one_bad_item_never_fails_the_others_and_is_never_echoed(
    tenant: CloudTenant, sync: httpx.Client
) -> None:
    good = synced_user(tenant, sync, "phsben")
    with tenant.client(tenant.app_token(tenant.admin_app)) as admin:
        cloud_only = admin.post("/v1.0/users", json=tenant.user_body("phscloud")).json()["id"]
    items = [
        {"userId": "00000000-0000-0000-0000-000000000000", "passwordHash": SPEC_WIRE},
        {"userId": good, "passwordHash": "v1;PPH1_MD4,secret-looking-text;"},
        {"userId": cloud_only, "passwordHash": SPEC_WIRE},
        {"userId": good, "passwordHash": SPEC_WIRE},
    ]
    answer = sync.post(PATH, json={"value": items})
    results = answer.json()["value"]
    assert [r["status"] for r in results] == [404, 400, 400, 204]
    assert "secret-looking-text" not in answer.text
    assert "on-premises" in results[2]["error"]["message"]
    assert stored_password_hash(tenant.server.service, tenant.id, cloud_only) is None


def test_only_the_synchronization_role_uploads(tenant: CloudTenant, sync: httpx.Client) -> None:
    user_id = synced_user(tenant, sync, "phscy")
    body = {"value": [{"userId": user_id, "passwordHash": SPEC_WIRE}]}
    with tenant.client(tenant.app_token(tenant.admin_app)) as admin:
        assert admin.post(PATH, json=body).status_code == 403
    with tenant.client() as anonymous:
        assert anonymous.post(PATH, json=body).status_code == 401
    assert stored_password_hash(tenant.server.service, tenant.id, user_id) is None


def test_a_deleted_user_has_no_hash_and_the_table_holds_no_password(
    tenant: CloudTenant, sync: httpx.Client
) -> None:
    user_id = synced_user(tenant, sync, "phsdee")
    sync.post(PATH, json={"value": [{"userId": user_id, "passwordHash": SPEC_WIRE}]})
    assert sync.delete(f"/v1.0/users/{user_id}").status_code == 204
    assert stored_password_hash(tenant.server.service, tenant.id, user_id) is None
    with tenant.server.service.db.read() as conn:
        stored = [row[0] for row in conn.execute(text("SELECT wire FROM synced_password_hashes"))]
    assert all(wire.startswith("v1;PPH1_MD4,") for wire in stored)
