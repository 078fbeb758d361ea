"""A small in-memory Graph for httpx.MockTransport: users, paging, delta, $batch.

Scenarios change its behaviour through ``faults``: a function called with each
(sub)request that may return a canned response instead of the normal one.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx

BASE = "https://graph.test/v1.0"
Fault = Callable[[str, str, Any], tuple[int, dict[str, str], Any] | None]

_IN = re.compile(r"^(\w+) in \((.*)\)$")
_EQ = re.compile(r"^(\w+) eq '(.*)'$")


def _literals(text: str) -> list[str]:
    return [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", text)]


CONFLICT = "Another object with the same value for property {} already exists."


def error(
    status: int, code: str, message: str, target: str | None = None, detail: str = "InvalidValue"
) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if target:
        body["error"]["details"] = [{"code": detail, "target": target}]
    return body


@dataclass
class FakeGraph:
    page_size: int = 2
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    writes: list[tuple[str, str, Any]] = field(default_factory=list)
    changes: list[tuple[int, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _version: int = 0

    # -- users -------------------------------------------------------------------------
    def add_user(self, **props: Any) -> str:
        uid = props.pop("id", None) or f"u{next(self._ids):04d}"
        self.users[uid] = {"id": uid, **props}
        self._changed(uid)
        return uid

    def update_user(self, uid: str, **props: Any) -> None:
        self.users[uid].update(props)
        self._changed(uid)

    def remove_user(self, uid: str) -> None:
        del self.users[uid]
        self._changed(uid)

    def _changed(self, uid: str) -> None:
        self._version += 1
        self.changes.append((self._version, uid))

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        upn = body.get("userPrincipalName")
        if any(u.get("userPrincipalName") == upn for u in self.users.values()):
            return (
                400,
                {},
                error(
                    400,
                    "Request_BadRequest",
                    CONFLICT.format("userPrincipalName"),
                    "userPrincipalName",
                    "ObjectConflict",
                ),
            )
        anchor = body.get("onPremisesImmutableId")
        if anchor and any(u.get("onPremisesImmutableId") == anchor for u in self.users.values()):
            return (
                400,
                {},
                error(
                    400,
                    "Request_BadRequest",
                    CONFLICT.format("onPremisesImmutableId"),
                    "onPremisesImmutableId",
                    "ObjectConflict",
                ),
            )
        uid = self.add_user(**body)
        return 201, {}, self.users[uid]

    def _patch(self, uid: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if uid not in self.users:
            return (
                404,
                {},
                error(404, "Request_ResourceNotFound", f"Resource '{uid}' does not exist"),
            )
        self.users[uid].update(body)
        self._changed(uid)
        return 204, {}, None

    def _delete(self, uid: str) -> tuple[int, dict[str, str], Any]:
        if self.users.pop(uid, None) is None:
            return (
                404,
                {},
                error(404, "Request_ResourceNotFound", f"Resource '{uid}' does not exist"),
            )
        self._changed(uid)
        return 204, {}, None

    # -- reads -------------------------------------------------------------------------
    def _select(self, user: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        if "$select" not in query:
            return dict(user)
        names = query["$select"][0].split(",")
        return {n: user.get(n) for n in names if n in user or n != "id"} | {"id": user["id"]}

    def _matches(self, user: dict[str, Any], text: str) -> bool:
        if m := _IN.match(text):
            return user.get(m.group(1)) in _literals(m.group(2))
        if m := _EQ.match(text):
            return user.get(m.group(1)) == m.group(2).replace("''", "'")
        raise AssertionError(f"fake cannot filter {text!r}")

    def _list(self, url: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        users = sorted(self.users.values(), key=lambda u: u["id"])
        if "$filter" in query:
            users = [u for u in users if self._matches(u, query["$filter"][0])]
        start = int(query.get("$skiptoken", ["0"])[0])
        page = users[start : start + self.page_size]
        body: dict[str, Any] = {"value": [self._select(u, query) for u in page]}
        if start + self.page_size < len(users):
            body["@odata.nextLink"] = f"{BASE}/users?$skiptoken={start + self.page_size}"
        return 200, {}, body

    def _delta_link(self, query: dict[str, list[str]]) -> str:
        # Graph bakes the first call's query options into its tokens; so does the fake.
        select = "&" + urlencode({"$select": query["$select"][0]}) if "$select" in query else ""
        return f"{BASE}/users/delta?$deltatoken={self._version}{select}"

    def _delta(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        token = query.get("$deltatoken", [None])[0]
        if token == "latest":
            return (
                200,
                {},
                {
                    "value": [],
                    "@odata.deltaLink": self._delta_link(query),
                },
            )
        if token == "expired":
            return 410, {}, error(410, "syncStateNotFound", "The delta token has expired.")
        since = int(token or 0)
        seen: dict[str, None] = {}
        for version, uid in self.changes:
            if version > since:
                seen[uid] = None
        items = []
        for uid in seen:
            user = self.users.get(uid)
            items.append(
                self._select(user, query)
                if user
                else {"id": uid, "@removed": {"reason": "changed"}}
            )
        return (
            200,
            {},
            {"value": items, "@odata.deltaLink": self._delta_link(query)},
        )

    # -- dispatch ----------------------------------------------------------------------
    def dispatch(self, method: str, url: str, body: Any) -> tuple[int, dict[str, str], Any]:
        for fault in self.faults:
            answer = fault(method, url, body)
            if answer is not None:
                return answer
        parts = urlsplit(url)
        path = parts.path.removeprefix("/v1.0")
        query = parse_qs(parts.query)
        if method == "POST" and path == "/$batch":
            return self._batch(body)
        if method == "GET" and path == "/users":
            return self._list(url, query)
        if method == "GET" and path == "/users/delta":
            return self._delta(query)
        if method == "GET" and path == "/groups/delta":
            # no groups here: a round with none, and the link to the next
            return 200, {}, {"value": [], "@odata.deltaLink": f"{BASE}/groups/delta?$deltatoken=0"}
        if method == "POST" and path == "/users":
            self.writes.append((method, path, body))
            return self._create(body)
        uid = unquote(path.removeprefix("/users/"))
        if method == "GET":
            user = self.users.get(uid)
            if user is None:
                return (
                    404,
                    {},
                    error(404, "Request_ResourceNotFound", f"Resource '{uid}' does not exist"),
                )
            return 200, {}, self._select(user, query)
        self.writes.append((method, path, body))
        if method == "PATCH":
            return self._patch(uid, body)
        if method == "DELETE":
            return self._delete(uid)
        raise AssertionError(f"fake has no route {method} {url}")

    def _batch(self, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        self.batches.append(body["requests"])
        assert len(body["requests"]) <= 20, "a $batch holds at most 20 requests"
        responses = []
        for item in body["requests"]:
            status, headers, answer = self.dispatch(item["method"], item["url"], item.get("body"))
            responses.append(
                {"id": item["id"], "status": status, "headers": headers, "body": answer}
            )
        return 200, {}, {"responses": list(reversed(responses))}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers.get("Authorization", "").startswith("Bearer "), "no token sent"
        body = json.loads(request.content) if request.content else None
        status, headers, answer = self.dispatch(request.method, str(request.url), body)
        if isinstance(answer, Exception):
            raise answer
        return (
            httpx.Response(status, headers=headers, json=answer)
            if answer is not None
            else httpx.Response(status, headers=headers)
        )
