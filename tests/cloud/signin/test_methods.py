"""Which method checks a synced user's password: the tenant's signInPolicy, per-user overrides,
and the default (``phs`` when a hash is stored, else ``pta``)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cloud.signin.conftest import PARTNER_PASSWORD, FakeAD, synced_partner
from tests.support.cloud_server import CloudTenant
from tests.support.signin import public_client

from hybridsync.agent.runner import AgentRunner
from hybridsync.cloud import password_hash_sync
from hybridsync.cloud.signin.verify import method_for


def _policy(tenant: CloudTenant, body: dict[str, Any]) -> int:
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        return http.patch("/v1.0/policies/signInPolicy", json=body).status_code


def _sign_in(tenant: CloudTenant, upn: str, password: str) -> dict[str, Any]:
    with tenant.client() as http:
        answer = http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"client_id": public_client(tenant), "grant_type": "password",
                  "username": upn, "password": password, "scope": "User.Read"},
        )  # fmt: skip
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture
def hash_reads() -> list[str]:
    """The user ids whose stored hash the sign-in read, in order."""
    return []


@pytest.fixture
def stored_hashes(monkeypatch: pytest.MonkeyPatch, hash_reads: list[str]) -> dict[str, str]:
    """Stand-ins for password hash sync's two functions: user id -> the one password it accepts."""
    hashes: dict[str, str] = {}

    def stored(_service: object, _tenant: str, user_id: str) -> str | None:
        hash_reads.append(user_id)
        return hashes.get(user_id)

    monkeypatch.setattr(password_hash_sync, "stored_password_hash", stored)
    monkeypatch.setattr(
        password_hash_sync, "verify_synced_password_hash", lambda wire, pw: wire == f"hash-of:{pw}"
    )
    return hashes


def test_without_a_stored_hash_a_synced_user_goes_to_pta(
    tenant: CloudTenant, fake_ad: FakeAD
) -> None:
    user = synced_partner(tenant, fake_ad)
    stored = tenant.server.service.users.get(tenant.id, str(user["id"]))
    assert method_for(tenant.server.service, tenant.id, stored) == "pta"


def test_a_stored_hash_means_phs_unless_the_tenant_forces_pta(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner, stored_hashes: dict[str, str]
) -> None:
    user = synced_partner(tenant, fake_ad)
    upn = str(user["userPrincipalName"])
    stored_hashes[str(user["id"])] = "hash-of:Hash3d!Passw0rd"

    by_hash = _sign_in(tenant, upn, "Hash3d!Passw0rd")
    assert "access_token" in by_hash
    assert fake_ad.checked == []

    assert _policy(tenant, {"syncedUserAuthentication": "pta"}) == 204
    assert "error" in _sign_in(tenant, upn, "Hash3d!Passw0rd")
    assert "access_token" in _sign_in(tenant, upn, PARTNER_PASSWORD)
    assert len(fake_ad.checked) == 2

    assert _policy(tenant, {"userOverrides": {user["id"]: "phs"}}) == 204
    assert "access_token" in _sign_in(tenant, upn, "Hash3d!Passw0rd")
    assert len(fake_ad.checked) == 2


def test_policy_rejects_unknown_methods(tenant: CloudTenant) -> None:
    assert _policy(tenant, {"syncedUserAuthentication": "kerberos"}) == 400
    assert _policy(tenant, {"somethingElse": 1}) == 400
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        assert http.get("/v1.0/policies/signInPolicy").json()["syncedUserAuthentication"] is None


def test_a_sign_in_reads_the_stored_hash_once_and_pta_not_at_all(
    tenant: CloudTenant,
    fake_ad: FakeAD,
    agent: AgentRunner,
    stored_hashes: dict[str, str],
    hash_reads: list[str],
) -> None:
    user = synced_partner(tenant, fake_ad)
    upn, user_id = str(user["userPrincipalName"]), str(user["id"])
    stored_hashes[user_id] = "hash-of:Hash3d!Passw0rd"

    assert "access_token" in _sign_in(tenant, upn, "Hash3d!Passw0rd")  # phs by default
    assert hash_reads == [user_id]

    assert _policy(tenant, {"syncedUserAuthentication": "pta"}) == 204
    assert "access_token" in _sign_in(tenant, upn, PARTNER_PASSWORD)
    assert hash_reads == [user_id]  # the tenant said pta: the hash does not matter
