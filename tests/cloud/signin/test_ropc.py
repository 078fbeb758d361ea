"""The password grant over HTTPS: cloud-only users, synced users through an agent, lockout,
refresh tokens, no agent, an agent that never answers."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import jwt
import pytest
from tests.cloud.signin.conftest import PARTNER_PASSWORD, FakeAD, synced_partner
from tests.support.cloud_server import CloudTenant
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client, running_agent

from hybridsync.agent.runner import AgentRunner
from hybridsync.cloud.signin.lockout import THRESHOLD
from hybridsync.cloud.signin.service import signin_of

CLOUD_PASSWORD = "Str0ng!Passw0rd"  # CloudTenant.user_body's
SCOPES = f"{GRAPH_USER_READ} openid profile offline_access"


def _token(tenant: CloudTenant, client_id: str, **form: str) -> httpx.Response:
    with tenant.client() as http:
        return http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"client_id": client_id, "scope": SCOPES, **form},
        )


def _password(tenant: CloudTenant, client_id: str, upn: str, password: str) -> httpx.Response:
    return _token(tenant, client_id, grant_type="password", username=upn, password=password)


@pytest.fixture
def cloud_user(tenant: CloudTenant) -> dict[str, Any]:
    service = tenant.server.service
    return service.users.create(tenant.id, tenant.user_body("cloudonly"), synced=False, extra={})


def test_cloud_only_user_signs_in_with_the_argon2_checked_password(
    tenant: CloudTenant, cloud_user: dict[str, Any]
) -> None:
    client = public_client(tenant)
    assert tenant.server.service.users.password_hash(tenant.id, cloud_user["id"]).startswith(
        "$argon2id$"
    )

    good = _password(tenant, client, cloud_user["userPrincipalName"], CLOUD_PASSWORD)
    bad = _password(tenant, client, cloud_user["userPrincipalName"], "Wrong!Passw0rd")
    nobody = _password(tenant, client, f"nobody@{tenant.domain}", "Wrong!Passw0rd")

    assert good.status_code == 200, good.text
    assert {"access_token", "id_token", "refresh_token", "client_info"} <= good.json().keys()
    assert bad.status_code == nobody.status_code == 400
    # The same words whether the user exists or not: no user enumeration.
    strip = lambda r: r.json()["error_description"].split("\r\n")[0]  # noqa: E731
    assert strip(bad) == strip(nobody)
    assert "AADSTS50126" in strip(bad)


def test_disabled_cloud_user_is_refused_with_its_reason(tenant: CloudTenant) -> None:
    service = tenant.server.service
    user = service.users.create(
        tenant.id, tenant.user_body("off", accountEnabled=False), synced=False, extra={}
    )
    answer = _password(tenant, public_client(tenant), user["userPrincipalName"], CLOUD_PASSWORD)
    assert answer.json()["error"] == "invalid_grant"
    assert "AADSTS50057" in answer.json()["error_description"]


def test_lockout_after_repeated_failures_even_for_the_right_password(
    tenant: CloudTenant, cloud_user: dict[str, Any]
) -> None:
    client, upn = public_client(tenant), cloud_user["userPrincipalName"]
    for attempt in range(THRESHOLD):  # different wrong passwords: a repeated one counts once
        assert "AADSTS50126" in _password(tenant, client, upn, f"Wrong!Passw0rd{attempt}").text

    locked = _password(tenant, client, upn, CLOUD_PASSWORD)

    assert "AADSTS50053" in locked.json()["error_description"]


def test_refresh_token_is_single_use_and_yields_new_tokens(
    tenant: CloudTenant, cloud_user: dict[str, Any]
) -> None:
    client = public_client(tenant)
    first = _password(tenant, client, cloud_user["userPrincipalName"], CLOUD_PASSWORD).json()

    renewed = _token(
        tenant, client, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    replayed = _token(
        tenant, client, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    other_client = _token(
        tenant, public_client(tenant), grant_type="refresh_token",
        refresh_token=renewed.json()["refresh_token"],
    )  # fmt: skip

    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != first["refresh_token"]
    assert replayed.json()["error"] == "invalid_grant"
    assert other_client.json()["error"] == "invalid_grant"
    with tenant.client(renewed.json()["access_token"]) as http:
        assert http.get("/v1.0/me").json()["id"] == cloud_user["id"]


def test_synced_partner_is_validated_by_the_agent(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner
) -> None:
    user = synced_partner(tenant, fake_ad)
    client = public_client(tenant)

    good = _password(tenant, client, str(user["userPrincipalName"]), PARTNER_PASSWORD)
    bad = _password(tenant, client, str(user["userPrincipalName"]), "Wrong!Passw0rd")

    assert good.status_code == 200, good.text
    assert "AADSTS50126" in bad.json()["error_description"]
    assert "Retry-After" not in bad.headers  # a wrong password stays wrong
    assert fake_ad.checked == [user["onPremisesImmutableId"]] * 2


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("disabled", 50057),
        ("locked_out", 50053),
        ("password_expired", 50055),
        ("must_change", 50144),
        ("ad_unavailable", 80001),  # the DC did not answer the agent in time
    ],
)
def test_agent_outcomes_become_their_errors(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner, outcome: str, code: int
) -> None:
    user = synced_partner(tenant, fake_ad, outcome)
    answer = _password(
        tenant, public_client(tenant), str(user["userPrincipalName"]), PARTNER_PASSWORD
    )
    assert f"AADSTS{code}" in answer.json()["error_description"]


def test_no_agent_fails_at_once_with_a_clear_message(tenant: CloudTenant, fake_ad: FakeAD) -> None:
    user = synced_partner(tenant, fake_ad)
    started = time.monotonic()

    answer = _password(
        tenant, public_client(tenant), str(user["userPrincipalName"]), PARTNER_PASSWORD
    )

    assert time.monotonic() - started < 5
    assert "AADSTS80001" in answer.json()["error_description"]
    assert "no pass-through authentication agent is connected" in answer.json()["error_description"]
    assert answer.headers["Retry-After"] == "1"  # an agent may connect any moment


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_msal_signs_in_once_an_agent_connects_after_a_refusal(
    tenant: CloudTenant, fake_ad: FakeAD, tmp_path: Any
) -> None:
    # MSAL answers a repeated request from its cache for 60 s after an HTTP 400, unless
    # the answer carried Retry-After: without it this sign-in would fail for a minute.
    user = synced_partner(tenant, fake_ad)
    app = msal_app(tenant, public_client(tenant))

    def sign_in() -> dict[str, Any]:
        upn = str(user["userPrincipalName"])
        result = app.acquire_token_by_username_password(upn, PARTNER_PASSWORD, [GRAPH_USER_READ])
        assert isinstance(result, dict)
        return result

    refused = sign_in()
    with running_agent(tenant, tmp_path / "late", fake_ad):
        # MSAL answers from its cache until the refusal's Retry-After (1 s) has passed:
        # sign in again until it asks the server, which now has an agent.
        deadline = time.monotonic() + 10  # far below MSAL's 60 s without Retry-After
        attempts = [sign_in()]
        while "access_token" not in attempts[-1] and time.monotonic() < deadline:
            time.sleep(0.05)
            attempts.append(sign_in())
        accepted = attempts[-1]

    assert refused["error_codes"] == [80001]
    assert "access_token" in accepted, accepted
    assert all(attempt["error_codes"] == [80001] for attempt in attempts[:-1])


def test_an_agent_that_never_answers_times_out(
    tenant: CloudTenant, fake_ad: FakeAD, tmp_path: Any
) -> None:
    user = synced_partner(tenant, fake_ad)
    queue = signin_of(tenant.server.service).pta
    hanging = threading.Event()

    def stuck(anchor: str, password: str) -> str:
        hanging.wait(10)
        return "success"

    queue.timeout_seconds = 1.0
    try:
        with running_agent(tenant, tmp_path / "stuck", stuck):
            started = time.monotonic()
            answer = _password(
                tenant, public_client(tenant), str(user["userPrincipalName"]), PARTNER_PASSWORD
            )
            elapsed = time.monotonic() - started
            hanging.set()
    finally:
        queue.timeout_seconds = 10.0
    assert "AADSTS80002" in answer.json()["error_description"]
    assert 1.0 <= elapsed < 5


def test_any_of_several_agents_answers(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner, tmp_path: Any
) -> None:
    user = synced_partner(tenant, fake_ad)
    with running_agent(tenant, tmp_path / "second", fake_ad) as second:
        client = public_client(tenant)
        for _ in range(6):
            answer = _password(tenant, client, str(user["userPrincipalName"]), PARTNER_PASSWORD)
            assert answer.status_code == 200
        assert agent.answered + second.answered == 6


def test_a_resource_admits_a_partner_guest_by_group_membership(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner
) -> None:
    service = tenant.server.service
    partners = service.groups.create(
        tenant.id,
        {"displayName": "Partner portal", "mailEnabled": False, "mailNickname": "portal",
         "securityEnabled": True},
    )  # fmt: skip
    member, outsider = synced_partner(tenant, fake_ad), synced_partner(tenant, fake_ad)
    service.groups.add_member(tenant.id, partners["id"], str(member["id"]))
    client = public_client(tenant)
    service.app_claims.update(tenant.id, client, {"groupMembershipClaims": "SecurityGroup"})

    def admitted(user: dict[str, Any]) -> bool:
        answer = _password(tenant, client, str(user["userPrincipalName"]), PARTNER_PASSWORD)
        claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
        assert claims["acct"] == 1
        return partners["id"] in claims["groups"]

    assert admitted(member)
    assert not admitted(outsider)
