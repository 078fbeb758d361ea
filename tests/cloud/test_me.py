"""``PATCH /v1.0/me``: a signed-in user changes their own contact details and preferences,
as in Graph, and nothing an administrator or the sync owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.cloud_server import CloudTenant

from hybridsync.cloud.errors import ON_PREMISES_MASTERED

SELECT = {"$select": "mobilePhone,preferredLanguage,userType,accountEnabled,displayName"}


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


def _member(tenant: CloudTenant, admin: httpx.Client, alias: str) -> str:
    created = admin.post("/v1.0/users", json=tenant.user_body(alias))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _patch_me(tenant: CloudTenant, user_id: str, body: dict[str, Any], scope: str) -> Any:
    with tenant.client(tenant.mint_user_token(user_id, (scope,))) as me:
        return me.patch("/v1.0/me", json=body)


def test_a_user_changes_their_own_phone_and_language(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    user_id = _member(tenant, admin, "selfie")
    body = {"mobilePhone": "+1 425 555 0100", "preferredLanguage": "fr-FR"}
    answer = _patch_me(tenant, user_id, body, "User.ReadWrite")
    assert answer.status_code == 204, answer.text
    stored = admin.get(f"/v1.0/users/{user_id}", params=SELECT).json()
    assert (stored["mobilePhone"], stored["preferredLanguage"]) == ("+1 425 555 0100", "fr-FR")


@pytest.mark.parametrize(
    "body",
    [
        {"userType": "Member"},
        {"accountEnabled": False},
        {"displayName": "Someone Else"},
        {"userPrincipalName": "boss@contoso.com"},
        {"passwordProfile": {"password": "N3w!Passw0rd-x", "forceChangePasswordNextSignIn": False}},
        {"mobilePhone": "+1 425 555 0101", "jobTitle": "CEO"},
    ],
)
def test_restricted_properties_are_refused_and_nothing_changes(
    tenant: CloudTenant, admin: httpx.Client, body: dict[str, Any]
) -> None:
    user_id = _member(tenant, admin, "eve")
    before = admin.get(f"/v1.0/users/{user_id}", params=SELECT).json()
    answer = _patch_me(tenant, user_id, body, "User.ReadWrite")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
    assert admin.get(f"/v1.0/users/{user_id}", params=SELECT).json() == before


def test_a_read_only_token_or_an_application_cannot_patch_me(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    user_id = _member(tenant, admin, "reader")
    assert _patch_me(tenant, user_id, {"mobilePhone": "1"}, "User.Read").status_code == 403
    assert admin.patch("/v1.0/me", json={"mobilePhone": "1"}).status_code == 400


def test_a_synced_user_may_change_only_what_the_cloud_owns(tenant: CloudTenant) -> None:
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
        body = tenant.user_body("synced", onPremisesImmutableId="c3luY2VkLXNlbGY=")
        del body["passwordProfile"]
        user_id = sync.post("/v1.0/users", json=body).json()["id"]
    refused = _patch_me(tenant, user_id, {"mobilePhone": "+1 425 555 0102"}, "User.ReadWrite")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == ON_PREMISES_MASTERED
    allowed = _patch_me(tenant, user_id, {"preferredLanguage": "de-DE"}, "User.ReadWrite")
    assert allowed.status_code == 204


def test_an_unknown_property_is_a_bad_request(tenant: CloudTenant, admin: httpx.Client) -> None:
    user_id = _member(tenant, admin, "typo")
    answer = _patch_me(tenant, user_id, {"mobilPhone": "1"}, "User.ReadWrite")
    assert answer.status_code == 400
