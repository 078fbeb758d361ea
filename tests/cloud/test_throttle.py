"""Write quotas answered with 429 and Retry-After, single requests and batch items."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.cloud_server import CloudServer, serve_cloud

from hybridsync.cloud import Quota, ThrottleSettings
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.throttle import Throttle


@pytest.fixture(scope="module")
def throttled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    quotas = ThrottleSettings(app_tenant_writes=Quota(requests=3, seconds=60))
    with serve_cloud(tmp_path_factory.mktemp("throttled"), throttle=quotas) as server:
        yield server


def test_single_writes_beyond_the_quota_get_429(throttled_server: CloudServer) -> None:
    tenant = throttled_server.new_tenant()
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        statuses = [
            http.post("/v1.0/users", json=tenant.user_body(f"u{i}")).status_code for i in range(3)
        ]
        assert statuses == [201, 201, 201]
        throttled = http.post("/v1.0/users", json=tenant.user_body("u4"))
        assert throttled.status_code == 429
        assert throttled.json()["error"]["code"] == "TooManyRequests"
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        assert throttled.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Write/")
        assert http.get("/v1.0/users").status_code == 200  # reads are not throttled
    # Another application of the same tenant has its own quota.
    with tenant.client(tenant.app_token(tenant.sync_app)) as other:
        assert other.post("/v1.0/users", json=tenant.user_body("u5")).status_code == 201


def test_throttled_batch_items_carry_their_own_retry_after(throttled_server: CloudServer) -> None:
    tenant = throttled_server.new_tenant()
    json_header = {"Content-Type": "application/json"}
    requests = [
        {"id": str(i), "method": "POST", "url": "/users", "headers": json_header,
         "body": tenant.user_body(f"b{i}")}
        for i in range(5)
    ]  # fmt: skip
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.post("/v1.0/$batch", json={"requests": requests})
    assert answer.status_code == 200
    items = {item["id"]: item for item in answer.json()["responses"]}
    assert [items[str(i)]["status"] for i in range(5)] == [201, 201, 201, 429, 429]
    assert int(items["3"]["headers"]["retry-after"]) >= 1


def test_window_resets_after_its_period() -> None:
    now = [0.0]
    throttle = Throttle(
        ThrottleSettings(tenant_writes=Quota(requests=1, seconds=10)), clock=lambda: now[0]
    )
    throttle.charge_write("t", "a")
    with pytest.raises(GraphError) as raised:
        throttle.charge_write("t", "b")
    assert raised.value.headers["Retry-After"] == "10"
    now[0] = 10.0
    throttle.charge_write("t", "b")


def test_graph_preset_matches_published_limits() -> None:
    preset = ThrottleSettings.graph_preset()
    assert preset.app_tenant_writes == Quota(requests=3000, seconds=150)
    assert preset.tenant_writes == Quota(requests=18000, seconds=300)
