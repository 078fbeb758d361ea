"""Guests vs members: guest access levels, and synced guests answered like invited ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.cloud_server import CloudTenant

from hybridsync.cloud.authz import GUEST_LIMITED, GUEST_RESTRICTED, GUEST_SAME_AS_MEMBER


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


@pytest.fixture
def people(tenant: CloudTenant, admin: httpx.Client) -> dict[str, str]:
    """A member, a synced guest (by the sync engine's app), an invited guest, and a group."""
    member = admin.post("/v1.0/users", json=tenant.user_body("mem")).json()["id"]
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
        synced_body = tenant.user_body(
            "partner", userType="Guest", userPrincipalName=f"partner@{tenant.partner_domain}",
            onPremisesImmutableId="c3luY2VkLWd1ZXN0", onPremisesSamAccountName="partner",
        )  # fmt: skip
        synced = sync.post("/v1.0/users", json=synced_body).json()["id"]
    invitation = {
        "invitedUserEmailAddress": "guest@fabrikam.example",
        "inviteRedirectUrl": "https://apps.example",
    }
    invited = admin.post("/v1.0/invitations", json=invitation).json()["invitedUser"]["id"]
    group_body = {
        "displayName": "Apps",
        "mailEnabled": False,
        "mailNickname": "apps",
        "securityEnabled": True,
    }
    group = admin.post("/v1.0/groups", json=group_body).json()["id"]
    for user in (member, synced, invited):
        ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user}"}
        assert admin.post(f"/v1.0/groups/{group}/members/$ref", json=ref).status_code == 204
    return {"member": member, "synced": synced, "invited": invited, "group": group}


def set_guest_level(admin: httpx.Client, level: str) -> None:
    answer = admin.patch("/v1.0/policies/authorizationPolicy", json={"guestUserRoleId": level})
    assert answer.status_code == 204
    assert admin.get("/v1.0/policies/authorizationPolicy").json()["guestUserRoleId"] == level


def answers(tenant: CloudTenant, user_id: str, people: dict[str, str]) -> list[tuple[int, Any]]:
    """What a user gets on a fixed set of requests (self-references normalised)."""
    requests = [
        "/v1.0/users",
        "/v1.0/groups",
        "/v1.0/me?$select=userType,accountEnabled",
        f"/v1.0/users/{people['member']}",
        f"/v1.0/users/{people['member']}?$select=id,jobTitle,department",
        f"/v1.0/groups/{people['group']}",
        f"/v1.0/groups/{people['group']}/members",
        "/v1.0/users/delta",
        "/v1.0/directory/deletedItems/microsoft.graph.user",
        "/v1.0/policies/authorizationPolicy",
    ]
    writes = [
        ("POST", "/v1.0/users", tenant.user_body("sneaky")),
        ("PATCH", f"/v1.0/users/{people['member']}", {"jobTitle": "x"}),
        (
            "POST",
            "/v1.0/groups",
            {
                "displayName": "G",
                "mailEnabled": False,
                "mailNickname": "g",
                "securityEnabled": True,
            },
        ),
    ]
    results: list[tuple[int, Any]] = []
    with tenant.client(tenant.mint_user_token(user_id)) as http:
        for url in requests:
            answer = http.get(url)
            results.append((answer.status_code, _comparable(answer, people)))
        for method, url, body in writes:
            answer = http.request(method, url, json=body)
            results.append((answer.status_code, _comparable(answer, people)))
    return results


def _comparable(answer: httpx.Response, people: dict[str, str]) -> Any:
    body = answer.json()
    if "error" in body:
        return body["error"]["code"], body["error"]["message"]
    if "value" in body and isinstance(body["value"], list):
        return sorted(item.get("id", "") in people.values() for item in body["value"])
    return sorted(body)


@pytest.mark.parametrize("level", [GUEST_LIMITED, GUEST_RESTRICTED, GUEST_SAME_AS_MEMBER])
def test_synced_and_invited_guests_get_identical_answers(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str], level: str
) -> None:
    set_guest_level(admin, level)
    assert answers(tenant, people["synced"], people) == answers(tenant, people["invited"], people)


def test_default_guest_level_is_limited(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str]
) -> None:
    with tenant.client(tenant.mint_user_token(people["synced"])) as guest:
        listing = guest.get("/v1.0/users")
        assert listing.status_code == 403
        assert listing.json()["error"]["code"] == "Authorization_RequestDenied"
        assert guest.get("/v1.0/groups").status_code == 403
        me = guest.get("/v1.0/me?$select=id,userType,onPremisesSyncEnabled").json()
        assert me["userType"] == "Guest"
        assert me["onPremisesSyncEnabled"] is True
        other = guest.get(f"/v1.0/users/{people['member']}?$select=id,displayName,jobTitle").json()
        assert set(other) == {"@odata.context", "id", "displayName"}  # jobTitle is not for guests
        assert guest.get(f"/v1.0/groups/{people['group']}").status_code == 200
        members = guest.get(f"/v1.0/groups/{people['group']}/members").json()["value"]
        assert len(members) == 3


def test_restricted_guests_see_only_themselves(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str]
) -> None:
    set_guest_level(admin, GUEST_RESTRICTED)
    with tenant.client(tenant.mint_user_token(people["invited"])) as guest:
        assert guest.get("/v1.0/me").status_code == 200
        assert guest.get(f"/v1.0/users/{people['member']}").status_code == 403
        assert guest.get(f"/v1.0/groups/{people['group']}").status_code == 403


def test_guests_with_member_access_can_enumerate(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str]
) -> None:
    set_guest_level(admin, GUEST_SAME_AS_MEMBER)
    with tenant.client(tenant.mint_user_token(people["invited"])) as guest:
        assert len(guest.get("/v1.0/users").json()["value"]) == 3


def test_a_tighter_guest_level_applies_to_the_very_next_request(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str]
) -> None:
    """The policy is served from memory between requests; a change is never late."""
    set_guest_level(admin, GUEST_SAME_AS_MEMBER)
    with tenant.client(tenant.mint_user_token(people["invited"])) as guest:
        assert guest.get("/v1.0/users").status_code == 200  # the policy is now in memory
        set_guest_level(admin, GUEST_RESTRICTED)
        assert guest.get("/v1.0/users").status_code == 403
        assert guest.get(f"/v1.0/users/{people['member']}").status_code == 403
        set_guest_level(admin, GUEST_SAME_AS_MEMBER)
        assert guest.get("/v1.0/users").status_code == 200


def test_a_refused_policy_change_leaves_the_policy_as_it_was(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str]
) -> None:
    set_guest_level(admin, GUEST_RESTRICTED)
    refused = admin.patch(
        "/v1.0/policies/authorizationPolicy",
        json={"guestUserRoleId": GUEST_SAME_AS_MEMBER, "blockMsolPowerShell": "yes"},
    )
    assert refused.status_code == 400
    with tenant.client(tenant.mint_user_token(people["invited"])) as guest:
        assert guest.get("/v1.0/users").status_code == 403
    policy = admin.get("/v1.0/policies/authorizationPolicy").json()
    assert policy["guestUserRoleId"] == GUEST_RESTRICTED


def test_members_read_but_do_not_write_without_scopes(
    tenant: CloudTenant, people: dict[str, str]
) -> None:
    with tenant.client(tenant.mint_user_token(people["member"])) as member:
        assert len(member.get("/v1.0/users").json()["value"]) == 3
        assert member.get("/v1.0/groups").status_code == 200
        assert (
            member.patch(f"/v1.0/users/{people['synced']}", json={"jobTitle": "x"}).status_code
            == 403
        )
    scoped = tenant.mint_user_token(people["member"], scopes=("User.ReadWrite.All",))
    with tenant.client(scoped) as member:
        assert (
            member.patch(
                f"/v1.0/users/{people['member']}", json={"officeLocation": "x"}
            ).status_code
            == 204  # their own contact details; their job title is an administrator's
        )
        assert (
            member.patch(f"/v1.0/users/{people['member']}", json={"jobTitle": "x"}).status_code
            == 403
        )


def test_policy_rejects_an_unknown_guest_level(admin: httpx.Client) -> None:
    answer = admin.patch(
        "/v1.0/policies/authorizationPolicy",
        json={"guestUserRoleId": "00000000-0000-0000-0000-000000000000"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "Invalid value specified for property 'guestUserRoleId' of resource 'AuthorizationPolicy'."
    )


def test_policy_writes_need_the_policy_permission(tenant: CloudTenant) -> None:
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
        answer = sync.patch(
            "/v1.0/policies/authorizationPolicy", json={"guestUserRoleId": GUEST_RESTRICTED}
        )
    assert answer.status_code == 403


def test_a_deleted_users_token_is_refused(
    tenant: CloudTenant, admin: httpx.Client, people: dict[str, str]
) -> None:
    token = tenant.mint_user_token(people["member"])
    assert admin.delete(f"/v1.0/users/{people['member']}").status_code == 204
    with tenant.client(token) as gone:
        assert gone.get("/v1.0/me").status_code == 401
