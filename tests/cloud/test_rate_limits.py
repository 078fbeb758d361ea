"""Rate limits on the token endpoint and on Graph reads: 429 with Retry-After, over HTTPS.

The session's server gets tight limits for one test at a time (its limiter is swapped).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.support.cloud_server import GRAPH_SCOPE, CloudTenant

from hybridsync.cloud import Quota, RateLimits
from hybridsync.cloud.throttle import RateLimiter

CONCURRENT = 200
ALLOWED = 50


def _limit(monkeypatch: pytest.MonkeyPatch, tenant: CloudTenant, **limits: Quota | None) -> None:
    unlimited = dict.fromkeys(RateLimits.model_fields)
    limiter = RateLimiter(RateLimits(**(unlimited | limits)))
    monkeypatch.setattr(tenant.server.service, "limiter", limiter)


def _client(tenant: CloudTenant, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=tenant.server.base_url,
        verify=tenant.server.ssl_context(),
        headers=headers,
        limits=httpx.Limits(max_connections=CONCURRENT),
        timeout=60,
    )


def _token_form(tenant: CloudTenant) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": tenant.admin_app.application.client_id,
        "client_secret": tenant.admin_app.client_secret or "",
        "scope": GRAPH_SCOPE,
    }


def test_200_concurrent_reads_get_only_200s_and_429s(
    tenant: CloudTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tenant.app_token(tenant.admin_app)
    _limit(monkeypatch, tenant, reads_per_app=Quota(requests=ALLOWED, seconds=60))
    with _client(tenant, token) as http, ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(lambda _: http.get("/v1.0/users"), range(CONCURRENT)))

    assert Counter(a.status_code for a in answers) == {200: ALLOWED, 429: CONCURRENT - ALLOWED}
    for refused in (a for a in answers if a.status_code == 429):
        assert refused.json()["error"]["code"] == "TooManyRequests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Read/")
    # Another application of the same tenant reads on its own quota.
    with _client(tenant, tenant.app_token(tenant.sync_app)) as other:
        assert other.get("/v1.0/users").status_code == 200


def test_200_concurrent_token_requests_get_only_200s_and_429s(
    tenant: CloudTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limit(monkeypatch, tenant, token_per_client=Quota(requests=ALLOWED, seconds=60))
    path, form = f"/{tenant.id}/oauth2/v2.0/token", _token_form(tenant)
    with _client(tenant) as http, ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(lambda _: http.post(path, data=form), range(CONCURRENT)))

    assert Counter(a.status_code for a in answers) == {200: ALLOWED, 429: CONCURRENT - ALLOWED}
    for refused in (a for a in answers if a.status_code == 429):
        assert refused.json()["error_codes"] == [90055]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_a_tenant_limit_holds_whatever_the_client_and_spares_other_tenants(
    tenant: CloudTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tenant.server.new_tenant()
    _limit(monkeypatch, tenant, token_per_tenant=Quota(requests=3, seconds=60))
    with _client(tenant) as http:
        statuses = [
            http.post(f"/{tenant.id}/oauth2/v2.0/token", data=_token_form(tenant)).status_code
            for _ in range(4)
        ]
        elsewhere = http.post(f"/{other.id}/oauth2/v2.0/token", data=_token_form(other))
    assert statuses == [200, 200, 200, 429]
    assert elsewhere.status_code == 200


def test_the_sign_in_page_counts_like_the_token_endpoint(
    tenant: CloudTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limit(monkeypatch, tenant, token_per_client=Quota(requests=1, seconds=60))
    with _client(tenant) as http:
        first = http.post(f"/{tenant.id}/oauth2/v2.0/authorize", data={"login": "x"})
        second = http.post(f"/{tenant.id}/oauth2/v2.0/authorize", data={"login": "x"})
    assert first.status_code != 429
    assert second.status_code == 429
    assert second.json()["error"] == "temporarily_unavailable"


def test_defaults_are_on_with_graphs_published_read_quota() -> None:
    limits = RateLimits()
    assert limits.reads_per_app == Quota(requests=3500, seconds=10)
    assert limits.token_per_client is not None
    assert limits.token_per_tenant is not None
    assert limits.reads_per_tenant is not None
