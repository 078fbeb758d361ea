"""A batch item whose URL httpx cannot even parse is a 400 for that item, never a 500."""

from __future__ import annotations

from tests.support.cloud_server import CloudTenant


def test_unparseable_item_url_is_a_bad_request(tenant: CloudTenant) -> None:
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": "/users\x10bad"},
            {"id": "2", "method": "GET", "url": "/users"},
        ]
    }
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.post("/v1.0/$batch", json=body)
    assert answer.status_code == 200
    statuses = {item["id"]: item["status"] for item in answer.json()["responses"]}
    assert statuses == {"1": 400, "2": 200}
