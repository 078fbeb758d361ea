"""Users CRUD, validation and error envelopes over real HTTPS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.cloud_server import CloudTenant


@pytest.fixture
def http(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


def error_of(answer: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = answer.json()["error"]
    return error


def test_create_get_update_delete(tenant: CloudTenant, http: httpx.Client) -> None:
    created = http.post("/v1.0/users", json=tenant.user_body("ann", givenName="Ann"))
    assert created.status_code == 201
    user = created.json()
    assert user["@odata.context"].endswith("$metadata#users/$entity")
    assert user["userPrincipalName"] == f"ann@{tenant.domain}"
    assert "passwordProfile" not in user
    assert created.headers["location"].endswith(f"/v1.0/users/{user['id']}")

    by_upn = http.get(f"/v1.0/users/ANN@{tenant.domain}")
    assert by_upn.json()["id"] == user["id"]

    patched = http.patch(f"/v1.0/users/{user['id']}", json={"jobTitle": "Engineer"})
    assert patched.status_code == 204
    assert patched.content == b""
    got = http.get(f"/v1.0/users/{user['id']}", params={"$select": "jobTitle,userType"}).json()
    assert got["jobTitle"] == "Engineer"
    assert got["userType"] == "Member"

    assert http.delete(f"/v1.0/users/{user['id']}").status_code == 204
    gone = http.get(f"/v1.0/users/{user['id']}")
    assert gone.status_code == 404
    assert error_of(gone)["code"] == "Request_ResourceNotFound"


def test_error_envelope_carries_date_and_request_ids(http: httpx.Client) -> None:
    answer = http.get("/v1.0/users/nobody", headers={"client-request-id": "abc-123"})
    error = error_of(answer)
    assert error["message"] == (
        "Resource 'nobody' does not exist or one of its queried reference-property objects"
        " are not present."
    )
    inner = error["innerError"]
    assert inner["client-request-id"] == "abc-123"
    assert inner["request-id"] == answer.headers["request-id"]
    dt.datetime.strptime(inner["date"], "%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize(
    "missing",
    ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"],
)
def test_required_properties(tenant: CloudTenant, http: httpx.Client, missing: str) -> None:
    body = tenant.user_body("req")
    del body[missing]
    answer = http.post("/v1.0/users", json=body)
    assert answer.status_code == 400
    assert error_of(answer) | {"innerError": None} == {
        "code": "Request_BadRequest",
        "message": f"Property {missing} value is required but is empty or missing.",
        "innerError": None,
    }


GENERIC = "One or more properties contains invalid values."
UNVERIFIED = (
    "The domain portion of the userPrincipalName property is invalid. You must use one of"
    " the verified domain names in your organization."
)


def invalid(prop: str) -> str:
    return f"Invalid value specified for property '{prop}' of resource 'User'."


INVALID_CASES = [
    ({"mailNickname": "a,b"}, invalid("mailNickname"), "mailNickname"),
    ({"mailNickname": ".dot"}, invalid("mailNickname"), "mailNickname"),
    ({"userType": "Admin"}, invalid("userType"), "userType"),
    ({"displayName": "x" * 257}, invalid("displayName"), "displayName"),
    ({"userPrincipalName": "ann#example.com"}, GENERIC, "userPrincipalName"),
    ({"userPrincipalName": "ann.@{domain}"}, GENERIC, "userPrincipalName"),
    ({"userPrincipalName": "änn@{domain}"}, GENERIC, "userPrincipalName"),
    ({"userPrincipalName": "ann@unverified.example"}, UNVERIFIED, "userPrincipalName"),
    ({"accountEnabled": "yes"}, GENERIC, "accountEnabled"),
    ({"onPremisesImmutableId": "a_b"}, invalid("onPremisesImmutableId"), "onPremisesImmutableId"),
]


@pytest.mark.parametrize(("change", "message", "target"), INVALID_CASES)
def test_invalid_values(
    tenant: CloudTenant,
    http: httpx.Client,
    change: dict[str, Any],
    message: str,
    target: str,
) -> None:
    change = {
        k: v.format(domain=tenant.domain) if isinstance(v, str) else v for k, v in change.items()
    }
    answer = http.post("/v1.0/users", json=tenant.user_body("val") | change)
    assert answer.status_code == 400
    error = error_of(answer)
    assert (error["code"], error["message"]) == ("Request_BadRequest", message)
    assert error["details"][0]["code"] == "InvalidValue"
    assert error["details"][0]["target"] == target


def test_weak_password(tenant: CloudTenant, http: httpx.Client) -> None:
    body = tenant.user_body("weak", passwordProfile={"password": "password"})
    error = error_of(http.post("/v1.0/users", json=body))
    assert error["message"] == (
        "The specified password does not comply with password complexity requirements."
        " Please provide a different password."
    )


@pytest.mark.parametrize("prop", ["creationType", "onPremisesSyncEnabled", "proxyAddresses", "id"])
def test_read_only_properties(tenant: CloudTenant, http: httpx.Client, prop: str) -> None:
    answer = http.post("/v1.0/users", json=tenant.user_body("ro") | {prop: "x"})
    assert answer.status_code == 400
    assert error_of(answer)["message"] == f"Property '{prop}' is read-only and cannot be set."


def test_duplicate_upn_is_an_object_conflict(tenant: CloudTenant, http: httpx.Client) -> None:
    assert http.post("/v1.0/users", json=tenant.user_body("dup")).status_code == 201
    body = tenant.user_body("dup", userPrincipalName=f"DUP@{tenant.domain}")
    error = error_of(http.post("/v1.0/users", json=body))
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == (
        "Another object with the same value for property userPrincipalName already exists."
    )
    assert error["details"][0]["code"] == "ObjectConflict"
    assert error["details"][0]["target"] == "userPrincipalName"


def test_duplicate_immutable_id_is_an_object_conflict(
    tenant: CloudTenant, http: httpx.Client
) -> None:
    first = tenant.user_body("imm1", onPremisesImmutableId="AAAAAAAAAAAAAAAAAAAAAA==")
    second = tenant.user_body("imm2", onPremisesImmutableId="AAAAAAAAAAAAAAAAAAAAAA==")
    assert http.post("/v1.0/users", json=first).status_code == 201
    error = error_of(http.post("/v1.0/users", json=second))
    assert error["details"][0] == error["details"][0] | {
        "code": "ObjectConflict",
        "target": "onPremisesImmutableId",
    }


def test_immutable_ids_differing_only_in_case_are_different_users(
    tenant: CloudTenant, http: httpx.Client
) -> None:
    # The source anchor is case-sensitive base64: two objectGUIDs can encode to values that
    # differ only in letter case, and both must be able to sync.
    first = tenant.user_body("case1", onPremisesImmutableId="BBBBBBBBBBBBBBBBBBBBBB==")
    second = tenant.user_body("case2", onPremisesImmutableId="bbbbbbbbbbbbbbbbbbbbbb==")
    assert http.post("/v1.0/users", json=first).status_code == 201
    assert http.post("/v1.0/users", json=second).status_code == 201


def test_update_cannot_clear_display_name(tenant: CloudTenant, http: httpx.Client) -> None:
    user = http.post("/v1.0/users", json=tenant.user_body("clear")).json()
    answer = http.patch(f"/v1.0/users/{user['id']}", json={"displayName": ""})
    assert (
        error_of(answer)["message"]
        == "Invalid value specified for property 'displayName' of resource 'User'."
    )


def test_unknown_property_is_rejected(tenant: CloudTenant, http: httpx.Client) -> None:
    answer = http.post("/v1.0/users", json=tenant.user_body("unk") | {"shoeSize": 44})
    assert answer.status_code == 400
    assert "shoeSize" in error_of(answer)["message"]


def test_missing_expired_and_garbage_tokens(tenant: CloudTenant) -> None:
    service = tenant.server.service
    app = tenant.admin_app.application
    expired = service.issuer._sign(  # an honest token, one hour past its expiry
        tenant.server.base_url,
        tenant.id,
        {
            "aud": "https://graph.microsoft.com",
            "tid": tenant.id,
            "oid": app.object_id,
            "idtyp": "app",
            "roles": list(app.roles),
        },
        dt.timedelta(hours=-1),
    ).access_token
    cases = [
        ({}, "Access token is empty."),
        (
            {"Authorization": "Bearer not-a-jwt"},
            "CompactToken parsing failed with error code: 80049217",
        ),
        ({"Authorization": f"Bearer {expired}"}, "Access token has expired or is not yet valid."),
    ]
    with tenant.client() as http:
        for headers, message in cases:
            answer = http.get("/v1.0/users", headers=headers)
            assert answer.status_code == 401
            assert error_of(answer)["code"] == "InvalidAuthenticationToken"
            assert error_of(answer)["message"] == message


def test_missing_permission_is_denied(tenant: CloudTenant) -> None:
    reader = tenant.add_app(["User.Read.All"])
    with tenant.client(tenant.app_token(reader)) as http:
        assert http.get("/v1.0/users").status_code == 200
        answer = http.post("/v1.0/users", json=tenant.user_body("nope"))
    assert answer.status_code == 403
    assert error_of(answer)["code"] == "Authorization_RequestDenied"
    assert error_of(answer)["message"] == "Insufficient privileges to complete the operation."


def test_me_needs_a_user(http: httpx.Client) -> None:
    answer = http.get("/v1.0/me")
    assert answer.status_code == 400
    assert (
        error_of(answer)["message"]
        == "/me request is only valid with delegated authentication flow."
    )


def test_me_for_a_user(tenant: CloudTenant, http: httpx.Client) -> None:
    user = http.post("/v1.0/users", json=tenant.user_body("self")).json()
    with tenant.client(tenant.mint_user_token(user["id"])) as me:
        assert me.get("/v1.0/me").json()["id"] == user["id"]


def test_unknown_segment(http: httpx.Client) -> None:
    answer = http.get("/v1.0/nothing")
    assert answer.status_code == 400
    assert error_of(answer)["message"] == "Resource not found for the segment 'nothing'."
