"""Graph objects for tests: users, groups with members, and answers read back.

user = new_user(http, tenant, "ann"); group = new_group(http, "Partners", user)
ids(http.get(f"/v1.0/groups/{group}/members")) == [user]
"""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.cloud_server import CloudTenant

REF = "https://graph.microsoft.com/v1.0/directoryObjects/{}"


def new_user(http: httpx.Client, tenant: CloudTenant, alias: str, **extra: Any) -> str:
    answer = http.post("/v1.0/users", json=tenant.user_body(alias, **extra))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def group_body(name: str, *members: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": name,
        "mailEnabled": False,
        "mailNickname": name.lower().replace(" ", ""),
        "securityEnabled": True,
        **extra,
    }
    if members:
        body["members@odata.bind"] = [REF.format(member) for member in members]
    return body


def new_group(http: httpx.Client, name: str, *members: str, **extra: Any) -> str:
    answer = http.post("/v1.0/groups", json=group_body(name, *members, **extra))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(item["id"] if isinstance(item, dict) else item for item in answer.json()["value"])


def error(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()["error"]
    return answer.status_code, body["code"], body["message"]
