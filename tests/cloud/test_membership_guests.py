"""Memberships and managers as guests see them, at each guest access level."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.cloud.test_guests import set_guest_level
from tests.support.cloud_server import CloudTenant
from tests.support.graph_objects import REF, ids, new_group, new_user

from hybridsync.cloud.authz import GUEST_LIMITED, GUEST_RESTRICTED, GUEST_SAME_AS_MEMBER


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


@pytest.fixture
def world(tenant: CloudTenant, admin: httpx.Client) -> dict[str, str]:
    """A guest in a nested partner group, an employee with a manager, and their groups."""
    guest = new_user(
        admin, tenant, "guest", userType="Guest", userPrincipalName=f"g@{tenant.partner_domain}"
    )
    employee, boss = (
        new_user(admin, tenant, "emp", jobTitle="Engineer"),
        new_user(admin, tenant, "boss"),
    )
    admin.put(f"/v1.0/users/{employee}/manager/$ref", json={"@odata.id": REF.format(boss)})
    nested = new_group(admin, "Nested partners", guest)
    partners = new_group(admin, "Partners", nested, employee)
    return {"guest": guest, "employee": employee, "boss": boss, "nested": nested,
            "partners": partners}  # fmt: skip


def calls(guest: httpx.Client, w: dict[str, str]) -> dict[str, httpx.Response]:
    check = {"groupIds": [w["partners"]]}
    return {
        "my groups": guest.get("/v1.0/me/memberOf"),
        "my groups, nested": guest.get("/v1.0/me/transitiveMemberOf"),
        "my check": guest.post("/v1.0/me/checkMemberGroups", json=check),
        "my group ids": guest.post("/v1.0/me/getMemberGroups", json={"securityEnabledOnly": True}),
        "other's groups": guest.get(f"/v1.0/users/{w['employee']}/memberOf"),
        "other's check": guest.post(f"/v1.0/users/{w['employee']}/checkMemberGroups", json=check),
        "group members": guest.get(f"/v1.0/groups/{w['partners']}/transitiveMembers"),
        "group check": guest.post(f"/v1.0/groups/{w['nested']}/checkMemberGroups", json=check),
        "manager": guest.get(f"/v1.0/users/{w['employee']}/manager"),
        "reports": guest.get(f"/v1.0/users/{w['boss']}/directReports"),
        "users with managers": guest.get("/v1.0/users", params={"$expand": "manager($select=id)"}),
    }


def test_limited_guests_read_memberships_and_see_other_users_limited(
    tenant: CloudTenant, admin: httpx.Client, world: dict[str, str]
) -> None:
    set_guest_level(admin, GUEST_LIMITED)
    with tenant.client(tenant.mint_user_token(world["guest"])) as guest:
        answers = calls(guest, world)
    assert {name: a.status_code for name, a in answers.items()} == {
        name: 403 if name == "users with managers" else 200 for name in answers
    }  # listing users is for members (and guests with member access)
    assert ids(answers["my groups, nested"]) == sorted([world["nested"], world["partners"]])
    assert answers["my groups"].json()["value"][0]["displayName"] == "Nested partners"
    members = {m["id"]: m for m in answers["group members"].json()["value"]}
    assert "jobTitle" not in members[world["employee"]]  # other users: the limited view
    assert members[world["nested"]]["displayName"] == "Nested partners"
    assert "jobTitle" not in answers["manager"].json()


def test_restricted_guests_get_their_own_group_ids_only(
    tenant: CloudTenant, admin: httpx.Client, world: dict[str, str]
) -> None:
    set_guest_level(admin, GUEST_RESTRICTED)
    with tenant.client(tenant.mint_user_token(world["guest"])) as guest:
        answers = calls(guest, world)
    allowed = {"my groups", "my groups, nested", "my check", "my group ids"}
    assert {name: a.status_code for name, a in answers.items()} == {
        name: 200 if name in allowed else 403 for name in answers
    }
    for group in answers["my groups, nested"].json()["value"]:
        assert set(group) == {"@odata.type", "id"}
    assert answers["my check"].json()["value"] == [world["partners"]]


def test_guests_with_member_access_see_what_members_see(
    tenant: CloudTenant, admin: httpx.Client, world: dict[str, str]
) -> None:
    set_guest_level(admin, GUEST_SAME_AS_MEMBER)
    with tenant.client(tenant.mint_user_token(world["guest"])) as guest:
        as_guest = calls(guest, world)
    with tenant.client(tenant.mint_user_token(world["boss"])) as member:
        as_member = calls(member, world)
    for name in ("other's groups", "group members", "manager", "reports", "users with managers"):
        assert as_guest[name].json() == as_member[name].json()
    listed = {u["id"]: u for u in as_guest["users with managers"].json()["value"]}
    assert listed[world["employee"]]["manager"]["id"] == world["boss"]
    assert "manager" not in listed[world["boss"]]
    assert as_guest["manager"].json()["jobTitle"] is None  # the full view: the property is shown
