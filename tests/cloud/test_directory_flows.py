"""Delta rounds, the recycle bin, invitation redemption and $batch rules, over HTTPS."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.support.cloud_server import CloudTenant

from hybridsync.cloud.api.wire import decode_token, encode_token
from hybridsync.cloud.db import users


@pytest.fixture
def http(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.sync_app)) as client:
        yield client


def create(tenant: CloudTenant, http: httpx.Client, alias: str) -> str:
    answer = http.post("/v1.0/users", json=tenant.user_body(alias))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def drain(http: httpx.Client, url: str, **headers: str) -> tuple[list[dict[str, Any]], str]:
    """Follow nextLinks; return every item and the final deltaLink."""
    items: list[dict[str, Any]] = []
    while True:
        page = http.get(url, headers=headers).json()
        items.extend(page["value"])
        if "@odata.deltaLink" in page:
            return items, page["@odata.deltaLink"]
        url = page["@odata.nextLink"]


def test_delta_rounds(tenant: CloudTenant, http: httpx.Client) -> None:
    ids = [create(tenant, http, f"d{i}") for i in range(5)]
    first, link = drain(
        http, "/v1.0/users/delta?$select=displayName,jobTitle", Prefer="odata.maxpagesize=2"
    )
    assert sorted(u["id"] for u in first) == sorted(ids)
    assert set(first[0]) == {"id", "displayName", "jobTitle"}

    nothing, link = drain(http, link)
    assert nothing == []

    assert http.patch(f"/v1.0/users/{ids[0]}", json={"jobTitle": "Lead"}).status_code == 204
    assert http.delete(f"/v1.0/users/{ids[1]}").status_code == 204
    assert http.delete(f"/v1.0/users/{ids[2]}").status_code == 204
    assert http.delete(f"/v1.0/directory/deletedItems/{ids[2]}").status_code == 204
    new = create(tenant, http, "d9")
    changes, link = drain(http, link)
    by_id = {item["id"]: item for item in changes}
    assert by_id[ids[0]]["jobTitle"] == "Lead"
    assert by_id[ids[1]]["@removed"] == {"reason": "changed"}
    assert by_id[ids[2]]["@removed"] == {"reason": "deleted"}
    assert new in by_id
    assert set(by_id) == {ids[0], ids[1], ids[2], new}

    assert http.post(f"/v1.0/directory/deletedItems/{ids[1]}/restore").status_code == 200
    restored, _ = drain(http, link)
    assert [(u["id"], "@removed" in u) for u in restored] == [(ids[1], False)]


def test_delta_latest_and_id_filter(tenant: CloudTenant, http: httpx.Client) -> None:
    first = create(tenant, http, "early")
    latest = http.get("/v1.0/users/delta", params={"$deltatoken": "latest"}).json()
    assert latest["value"] == []
    later = create(tenant, http, "late")
    changes, _ = drain(http, latest["@odata.deltaLink"])
    assert [u["id"] for u in changes] == [later]
    filtered, _ = drain(http, f"/v1.0/users/delta?$filter=id eq '{first}'")
    assert [u["id"] for u in filtered] == [first]


def test_delta_latest_keeps_the_select(tenant: CloudTenant, http: httpx.Client) -> None:
    params = {"$deltatoken": "latest", "$select": "id,displayName"}
    latest = http.get("/v1.0/users/delta", params=params).json()
    later = create(tenant, http, "selected")
    changes, link = drain(http, latest["@odata.deltaLink"])
    assert [(u["id"], set(u)) for u in changes] == [(later, {"id", "displayName"})]
    assert "$deltatoken=" in link


def test_delta_rejects_unsupported_filters(http: httpx.Client) -> None:
    answer = http.get("/v1.0/users/delta", params={"$filter": "userType eq 'Guest'"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_expired_delta_token_is_gone(tenant: CloudTenant, http: httpx.Client) -> None:
    _, link = drain(http, "/v1.0/users/delta")
    token = link.split("$deltatoken=")[1]
    state = decode_token(token, "t") | {"issued": int(time.time()) - 8 * 24 * 3600}
    answer = http.get("/v1.0/users/delta", params={"$deltatoken": encode_token(state)})
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "syncStateNotFound"
    assert answer.headers["location"] == f"{tenant.server.base_url}/v1.0/users/delta"


def test_deleted_user_frees_its_upn_and_restore_needs_a_new_one(
    tenant: CloudTenant, http: httpx.Client
) -> None:
    old = create(tenant, http, "reuse")
    assert http.delete(f"/v1.0/users/{old}").status_code == 204
    deleted = http.get(f"/v1.0/directory/deletedItems/{old}").json()
    assert deleted["userPrincipalName"] == old.replace("-", "") + f"reuse@{tenant.domain}"
    assert deleted["deletedDateTime"]
    create(tenant, http, "reuse")
    clash = http.post(f"/v1.0/directory/deletedItems/{old}/restore")
    assert clash.json()["error"]["details"][0]["code"] == "ObjectConflict"
    renamed = http.post(
        f"/v1.0/directory/deletedItems/{old}/restore",
        json={"newUserPrincipalName": f"reuse2@{tenant.domain}"},
    )
    assert renamed.status_code == 200
    assert renamed.json()["userPrincipalName"] == f"reuse2@{tenant.domain}"


def test_deleted_items_need_the_type_cast(http: httpx.Client) -> None:
    assert http.get("/v1.0/directory/deletedItems").status_code == 400


def test_purge_after_thirty_days(tenant: CloudTenant, http: httpx.Client) -> None:
    user_id = create(tenant, http, "old")
    assert http.delete(f"/v1.0/users/{user_id}").status_code == 204
    service = tenant.server.service
    assert service.users.purge_expired(tenant.id) == 0
    with service.db.write() as conn:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
        conn.execute(sa.update(users).where(users.c.id == user_id).values(deleted=long_ago))
    # Reading the recycle bin purges what has been there more than 30 days.
    listing = http.get("/v1.0/directory/deletedItems/microsoft.graph.user").json()
    assert listing["value"] == []
    assert http.get(f"/v1.0/directory/deletedItems/{user_id}").status_code == 404
    assert service.users.purge_expired(tenant.id) == 0


def test_invitation_redemption_accepts(tenant: CloudTenant) -> None:
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        body = {"invitedUserEmailAddress": "kim@fabrikam.example", "inviteRedirectUrl": "https://apps.example/home",
                "invitedUserDisplayName": "Kim"}  # fmt: skip
        invitation = http.post("/v1.0/invitations", json=body).json()
        guest = invitation["invitedUser"]["id"]
        redeem = http.get(invitation["inviteRedeemUrl"].removeprefix(tenant.server.base_url))
        assert redeem.status_code == 303
        assert redeem.headers["location"] == "https://apps.example/home"
        user = http.get(
            f"/v1.0/users/{guest}?$select=displayName,externalUserState,userType"
        ).json()
        assert (user["displayName"], user["externalUserState"], user["userType"]) == (
            "Kim",
            "Accepted",
            "Guest",
        )
        forged = http.get(invitation["inviteRedeemUrl"].removeprefix(tenant.server.base_url) + "x")
        assert forged.status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"invitedUserEmailAddress": "x@y.example"}, 400),
        (
            {
                "invitedUserEmailAddress": "bad(char)@y.example",
                "inviteRedirectUrl": "https://a.example",
            },
            400,
        ),
        (
            {
                "invitedUserEmailAddress": "z@y.example",
                "inviteRedirectUrl": "https://a.example",
                "invitedUserType": "Owner",
            },
            400,
        ),
    ],
)
def test_invitation_validation(tenant: CloudTenant, body: dict[str, Any], status: int) -> None:
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        assert http.post("/v1.0/invitations", json=body).status_code == status


def test_invitations_can_be_switched_off(tenant: CloudTenant) -> None:
    admin_token = tenant.app_token(tenant.admin_app)
    with tenant.client(admin_token) as http:
        policy = {"allowInvitesFrom": "none"}
        assert http.patch("/v1.0/policies/authorizationPolicy", json=policy).status_code == 204
        body = {"invitedUserEmailAddress": "no@y.example", "inviteRedirectUrl": "https://a.example"}
        assert http.post("/v1.0/invitations", json=body).status_code == 403


def batch_item(
    item_id: str, method: str = "GET", url: str = "/users", **extra: Any
) -> dict[str, Any]:
    return {"id": item_id, "method": method, "url": url, **extra}


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (
            [batch_item(str(i)) for i in range(21)],
            "Number of batch request steps exceeds the maximum of 20.",
        ),
        ([batch_item("a"), batch_item("A")], "Batch request id 'A' is used more than once."),
        (
            [batch_item("1", dependsOn=["2"]), batch_item("2")],
            "Batch request '1' depends on an unknown or later request.",
        ),
        (
            [batch_item("1", method="POST", body={})],
            "Batch request '1' has a body but no Content-Type header.",
        ),
        ([], "Invalid batch payload format."),
    ],
)
def test_malformed_batches_fail_whole(
    http: httpx.Client, requests: list[Any], message: str
) -> None:
    answer = http.post("/v1.0/$batch", json={"requests": requests})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == message


def test_batch_items_run_in_order_with_dependencies(
    tenant: CloudTenant, http: httpx.Client
) -> None:
    json_header = {"Content-Type": "application/json"}
    requests = [
        batch_item("create", "POST", "/users", headers=json_header, body=tenant.user_body("chain")),
        batch_item("update", "PATCH", f"/users/chain@{tenant.domain}", headers=json_header,
                   body={"jobTitle": "Chained"}, dependsOn=["create"]),
        batch_item("read", "GET", f"/users/chain@{tenant.domain}?$select=jobTitle",
                   dependsOn=["update"]),
        batch_item("missing", "GET", "/users/nobody"),
    ]  # fmt: skip
    answer = http.post("/v1.0/$batch", json={"requests": requests}).json()
    items = {item["id"]: item for item in answer["responses"]}
    assert {k: v["status"] for k, v in items.items()} == {
        "create": 201,
        "update": 204,
        "read": 200,
        "missing": 404,
    }
    assert items["read"]["body"]["jobTitle"] == "Chained"
    assert items["missing"]["body"]["error"]["code"] == "Request_ResourceNotFound"
