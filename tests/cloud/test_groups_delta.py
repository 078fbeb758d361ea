"""``/groups/delta`` with ``members@delta``: full state, then membership changes only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.cloud_server import CloudTenant
from tests.support.graph_objects import REF, new_group, new_user


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as client:
        yield client


def read_round(http: httpx.Client, url: str, **headers: str) -> tuple[list[Any], str, int]:
    """Every item of one round, its deltaLink, and how many pages it took."""
    items: list[Any] = []
    pages = 0
    while True:
        answer = http.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages += 1
        items += page["value"]
        if "@odata.deltaLink" in page:
            return items, page["@odata.deltaLink"], pages
        url = page["@odata.nextLink"]


def test_first_round_lists_groups_with_all_members_then_changes_only(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    ann, bob, eve = (new_user(admin, tenant, alias) for alias in ("ann", "bob", "eve"))
    nested = new_group(admin, "Nested", eve)
    partners = new_group(admin, "Partners", ann, bob, nested)
    quiet = new_group(admin, "Quiet", ann)

    items, link, _ = read_round(admin, "/v1.0/groups/delta")
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {nested, partners, quiet}
    assert by_id[partners]["displayName"] == "Partners"
    assert sorted((m["@odata.type"], m["id"]) for m in by_id[partners]["members@delta"]) == sorted(
        [
            ("#microsoft.graph.user", ann),
            ("#microsoft.graph.user", bob),
            ("#microsoft.graph.group", nested),
        ]
    )

    dan = new_user(admin, tenant, "dan")
    admin.post(f"/v1.0/groups/{partners}/members/$ref", json={"@odata.id": REF.format(dan)})
    admin.delete(f"/v1.0/groups/{partners}/members/{bob}/$ref")
    items, link, _ = read_round(admin, link)
    assert [item["id"] for item in items] == [partners]  # Quiet and Nested did not change
    assert sorted(items[0]["members@delta"], key=lambda m: m["id"]) == sorted(
        [
            {"@odata.type": "#microsoft.graph.user", "id": dan},
            {"@odata.type": "#microsoft.graph.user", "id": bob, "@removed": {"reason": "deleted"}},
        ],
        key=lambda m: m["id"],
    )

    admin.delete(f"/v1.0/groups/{nested}")
    items, link, _ = read_round(admin, link)
    assert {"id": nested, "@removed": {"reason": "deleted"}} in items
    removed_nested = {
        "@odata.type": "#microsoft.graph.group",
        "id": nested,
        "@removed": {"reason": "deleted"},
    }
    assert [i["members@delta"] for i in items if i["id"] == partners] == [[removed_nested]]

    items, _, _ = read_round(admin, link)
    assert items == []


def test_a_member_added_then_removed_is_reported_once(
    tenant: CloudTenant, admin: httpx.Client
) -> None:
    ann = new_user(admin, tenant, "ann")
    group = new_group(admin, "Team")
    link = admin.get("/v1.0/groups/delta", params={"$deltatoken": "latest"}).json()[
        "@odata.deltaLink"
    ]
    admin.post(f"/v1.0/groups/{group}/members/$ref", json={"@odata.id": REF.format(ann)})
    admin.delete(f"/v1.0/groups/{group}/members/{ann}/$ref")
    items, _, _ = read_round(admin, link)
    assert [i["members@delta"] for i in items] == [
        [{"@odata.type": "#microsoft.graph.user", "id": ann, "@removed": {"reason": "deleted"}}]
    ]


def test_paging_select_and_property_changes(tenant: CloudTenant, admin: httpx.Client) -> None:
    ann = new_user(admin, tenant, "ann")
    groups = [new_group(admin, f"G{n}", ann) for n in range(5)]
    url = "/v1.0/groups/delta?$select=displayName,members"
    items, link, pages = read_round(admin, url, Prefer="odata.maxpagesize=2")
    assert pages == 3
    assert sorted(item["id"] for item in items) == sorted(groups)
    assert all(set(item) == {"id", "displayName", "members@delta"} for item in items)

    admin.patch(f"/v1.0/groups/{groups[0]}", json={"displayName": "Renamed"})
    items, _, _ = read_round(admin, link)
    assert items == [{"id": groups[0], "displayName": "Renamed"}]  # no membership change

    names_only, _, _ = read_round(admin, "/v1.0/groups/delta?$select=displayName")
    assert all("members@delta" not in item for item in names_only)


def test_bad_delta_requests(tenant: CloudTenant, admin: httpx.Client) -> None:
    answer = admin.get("/v1.0/groups/delta", params={"$select": "nonsense"})
    assert answer.status_code == 400
    forged = admin.get("/v1.0/groups/delta", params={"$deltatoken": "AAAA"})
    assert forged.status_code == 400
    reader = tenant.add_app(["User.Read.All"])
    with tenant.client(tenant.app_token(reader)) as http:
        assert http.get("/v1.0/groups/delta").status_code == 403
