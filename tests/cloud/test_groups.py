"""Groups over real HTTPS: nested members, members@odata.bind, memberships, synced groups."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.cloud_server import CloudTenant
from tests.support.graph_objects import REF, error, group_body, ids, new_group, new_user

from hybridsync.cloud.errors import ON_PREMISES_MASTERED


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


@pytest.fixture
def sync(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.sync_app)) as client:
        yield client


def test_nested_groups_answer_every_membership_question(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    ann, bob, eve = (new_user(admin, tenant, alias) for alias in ("ann", "bob", "eve"))
    nested = new_group(admin, "Partners nested", eve)
    partners = new_group(admin, "Partners", ann, nested)
    mail_only = new_group(admin, "Newsletter", bob, securityEnabled=False, mailEnabled=True)

    members = admin.get(f"/v1.0/groups/{partners}/members").json()["value"]
    assert {(m["@odata.type"], m["id"]) for m in members} == {
        ("#microsoft.graph.user", ann),
        ("#microsoft.graph.group", nested),
    }
    assert ids(admin.get(f"/v1.0/groups/{partners}/transitiveMembers")) == sorted(
        [ann, nested, eve]
    )
    assert ids(admin.get(f"/v1.0/users/{eve}/memberOf")) == [nested]
    assert ids(admin.get(f"/v1.0/users/{eve}/transitiveMemberOf")) == sorted([nested, partners])
    assert ids(admin.get(f"/v1.0/groups/{nested}/memberOf")) == [partners]
    assert ids(admin.get(f"/v1.0/groups/{nested}/transitiveMemberOf")) == [partners]
    checked = admin.post(
        f"/v1.0/users/{eve}/checkMemberGroups", json={"groupIds": [partners, mail_only]}
    )
    assert checked.json()["value"] == [partners]
    every = admin.post(f"/v1.0/users/{bob}/getMemberGroups", json={"securityEnabledOnly": False})
    assert ids(every) == [mail_only]
    security = admin.post(f"/v1.0/users/{bob}/getMemberGroups", json={"securityEnabledOnly": True})
    assert ids(security) == []
    objects = admin.post(f"/v1.0/users/{eve}/getMemberObjects", json={"securityEnabledOnly": True})
    assert ids(objects) == sorted([nested, partners])
    in_group = admin.post(f"/v1.0/groups/{nested}/checkMemberGroups", json={"groupIds": [partners]})
    assert in_group.json()["value"] == [partners]


def test_me_member_of_answers_a_signed_in_user(tenant: CloudTenant, admin: httpx.Client) -> None:
    ann = new_user(admin, tenant, "ann")
    inner = new_group(admin, "Inner", ann)
    outer = new_group(admin, "Outer", inner)
    with tenant.client(tenant.mint_user_token(ann)) as me:
        assert ids(me.get("/v1.0/me/memberOf")) == [inner]
        assert ids(me.get("/v1.0/me/transitiveMemberOf")) == sorted([inner, outer])
        assert me.post("/v1.0/me/checkMemberGroups", json={"groupIds": [outer]}).json()[
            "value"
        ] == [outer]
    answer = admin.get("/v1.0/me/memberOf")
    assert error(answer)[0] == 400  # an application has no "me"


def test_cycles_end_and_a_group_is_never_its_own_member(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    first = new_group(admin, "First")
    second = new_group(admin, "Second", first)
    answer = admin.post(
        f"/v1.0/groups/{first}/members/$ref", json={"@odata.id": REF.format(second)}
    )
    assert answer.status_code == 204
    assert ids(admin.get(f"/v1.0/groups/{first}/transitiveMemberOf")) == [second]
    assert ids(admin.get(f"/v1.0/groups/{first}/transitiveMembers")) == [second]
    itself = admin.post(f"/v1.0/groups/{first}/members/$ref", json={"@odata.id": REF.format(first)})
    assert error(itself)[:2] == (400, "Request_BadRequest")


def test_members_bind_is_all_or_nothing_and_limited_to_20(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    ann = new_user(admin, tenant, "ann")
    missing = "00000000-0000-0000-0000-000000000001"
    refused = admin.post("/v1.0/groups", json=group_body("Broken", ann, missing))
    assert error(refused)[:2] == (404, "Request_ResourceNotFound")
    assert admin.get("/v1.0/groups").json()["value"] == []  # nothing was created

    too_many = admin.post("/v1.0/groups", json=group_body("Big", *[ann] * 21))
    assert error(too_many)[0] == 400
    assert "at most 20" in error(too_many)[2]

    group = new_group(admin, "Team")
    bob = new_user(admin, tenant, "bob")
    bind = {"members@odata.bind": [REF.format(ann), REF.format(bob)]}
    assert admin.patch(f"/v1.0/groups/{group}", json=bind).status_code == 204
    assert ids(admin.get(f"/v1.0/groups/{group}/members")) == sorted([ann, bob])
    again = admin.patch(f"/v1.0/groups/{group}", json={"displayName": "X", **bind})
    status, _, message = error(again)
    assert (status, message) == (400, "One or more added object references already exist for"
                                 " the following modified properties: 'members'.")  # fmt: skip
    assert admin.get(f"/v1.0/groups/{group}").json()["displayName"] == "Team"  # rolled back

    assert admin.delete(f"/v1.0/groups/{group}/members/{ann}/$ref").status_code == 204
    assert ids(admin.get(f"/v1.0/groups/{group}/members")) == [bob]
    gone = admin.delete(f"/v1.0/groups/{group}/members/{ann}/$ref")
    assert error(gone)[0] == 404

    twice = admin.post(f"/v1.0/groups/{group}/members/$ref", json={"@odata.id": REF.format(bob)})
    assert error(twice)[:2] == (400, "Request_BadRequest")
    assert admin.delete(f"/v1.0/users/{ann}").status_code == 204
    deleted = admin.post(f"/v1.0/groups/{group}/members/$ref", json={"@odata.id": REF.format(ann)})
    assert error(deleted)[0] == 404  # a deleted user (restorable) is no member to add
    assert ids(admin.get(f"/v1.0/groups/{group}/members")) == [bob]


def test_members_list_pages(tenant: CloudTenant, admin: httpx.Client) -> None:
    people = [new_user(admin, tenant, f"u{n}") for n in range(3)]
    group = new_group(admin, "Paged", *people)
    first = admin.get(f"/v1.0/groups/{group}/members", params={"$top": 2}).json()
    assert len(first["value"]) == 2
    rest = admin.get(first["@odata.nextLink"]).json()
    assert "@odata.nextLink" not in rest
    assert sorted(m["id"] for m in first["value"] + rest["value"]) == sorted(people)


def test_deleting_a_group_removes_it_from_its_parents(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    inner = new_group(admin, "Inner")
    outer = new_group(admin, "Outer", inner)
    assert admin.delete(f"/v1.0/groups/{inner}").status_code == 204
    assert ids(admin.get(f"/v1.0/groups/{outer}/members")) == []


def test_synced_groups_carry_markers_and_refuse_other_writers(
    tenant: CloudTenant, admin: httpx.Client, sync: httpx.Client
) -> None:
    ann = new_user(admin, tenant, "ann")
    markers = {
        "onPremisesSecurityIdentifier": "S-1-5-21-1004336348-1177238915-682003330-1105",
        "onPremisesSamAccountName": "partners-x",
        "onPremisesDomainName": "contoso.com",
        "onPremisesNetBiosName": "CONTOSO",
    }
    created = sync.post("/v1.0/groups", json=group_body("Partners X", ann, **markers))
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["onPremisesSyncEnabled"] is True
    assert group["onPremisesLastSyncDateTime"]
    assert {k: group[k] for k in markers} == markers
    url = f"/v1.0/groups/{group['id']}"

    bob = new_user(admin, tenant, "bob")
    attempts = [
        admin.patch(url, json={"displayName": "Renamed in the cloud"}),
        admin.post(f"{url}/members/$ref", json={"@odata.id": REF.format(bob)}),
        admin.patch(url, json={"members@odata.bind": [REF.format(bob)]}),
        admin.delete(f"{url}/members/{ann}/$ref"),
        admin.delete(url),
    ]
    for answer in attempts:
        assert error(answer) == (400, "Request_BadRequest", ON_PREMISES_MASTERED)
    assert ids(admin.get(f"{url}/members")) == [ann]

    # Another application cannot forge or clear the markers either.
    for forged in ({"onPremisesSyncEnabled": False}, {"onPremisesSamAccountName": "x"}):
        status, _, message = error(admin.post("/v1.0/groups", json=group_body("F", **forged)))
        assert (status, message) == (
            400,
            f"Property '{next(iter(forged))}' is read-only and cannot be set.",
        )
    assert error(sync.patch(url, json={"onPremisesSecurityIdentifier": "not-a-sid"}))[0] == 400

    assert sync.post(f"{url}/members/$ref", json={"@odata.id": REF.format(bob)}).status_code == 204
    assert sync.patch(url, json={"displayName": "Partners - Project X"}).status_code == 204
    assert sync.delete(url).status_code == 204


def test_cloud_groups_stay_writable_by_any_group_writer(
    tenant: CloudTenant, admin: httpx.Client, sync: httpx.Client
) -> None:
    group = new_group(admin, "Cloud only")
    got = admin.get(f"/v1.0/groups/{group}").json()
    assert got["onPremisesSyncEnabled"] is None
    assert admin.patch(f"/v1.0/groups/{group}", json={"description": "x"}).status_code == 204


@pytest.mark.parametrize(
    ("relation", "token"),
    [
        ("transitiveMembers", "eyJvZmZzZXQiOiJhYmMifQ"),  # {"offset":"abc"}
        ("transitiveMembers", "eyJvZmZzZXQiOi01fQ"),  # {"offset":-5}
        ("members", "eyJhZnRlciI6NX0"),  # {"after":5}
        ("members", "bm90IGpzb24"),  # not json
        ("members", "W10"),  # []
    ],
)
def test_a_forged_skiptoken_is_a_bad_request(
    tenant: CloudTenant, admin: httpx.Client, relation: str, token: str
) -> None:
    group = new_group(admin, "Team")
    answer = admin.get(f"/v1.0/groups/{group}/{relation}", params={"$skiptoken": token})
    assert error(answer)[:2] == (400, "Request_BadRequest")


def test_groups_filter_on_their_on_premises_markers(
    tenant: CloudTenant, admin: httpx.Client, sync: httpx.Client
) -> None:
    sid = "S-1-5-21-1004336348-1177238915-682003330-1106"
    synced = sync.post(
        "/v1.0/groups", json=group_body("AD group", onPremisesSecurityIdentifier=sid)
    )
    new_group(admin, "Cloud group")
    found = admin.get(
        "/v1.0/groups", params={"$filter": f"onPremisesSecurityIdentifier eq '{sid}'"}
    )
    assert ids(found) == [synced.json()["id"]]
    found = admin.get("/v1.0/groups", params={"$filter": "onPremisesSyncEnabled eq true"})
    assert ids(found) == [synced.json()["id"]]


def test_references_to_another_tenants_objects_are_not_found(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    other = tenant.server.new_tenant()
    with other.client(other.app_token(other.admin_app)) as foreign:
        stranger = new_user(foreign, other, "stranger")
        their_group = new_group(foreign, "Theirs")
    ours = new_group(admin, "Ours")
    attempts = [
        admin.post(f"/v1.0/groups/{ours}/members/$ref", json={"@odata.id": REF.format(stranger)}),
        admin.post("/v1.0/groups", json=group_body("Bind", stranger)),
        admin.get(f"/v1.0/groups/{their_group}/members"),
        admin.post(
            f"/v1.0/groups/{their_group}/members/$ref", json={"@odata.id": REF.format(ours)}
        ),
        admin.get(f"/v1.0/users/{stranger}/memberOf"),
    ]
    assert [error(answer)[0] for answer in attempts] == [404] * len(attempts)
