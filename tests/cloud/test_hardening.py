"""Input an attacker sends is refused at the door (400/413, Graph's envelope) and never stored.

Everything over HTTPS against the served directory.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from tests.support.cloud_server import CloudTenant

from hybridsync.cloud.door import MAX_BODY_BYTES, MAX_JSON_DEPTH
from hybridsync.cloud.odata import MAX_FILTER_DEPTH, MAX_FILTER_TERMS


@pytest.fixture
def admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        yield http


def _refused(answer: httpx.Response, status: int = 400) -> str:
    assert answer.status_code == status, answer.text[:300]
    error = answer.json()["error"]
    assert {"code", "message", "innerError"} <= error.keys()
    assert error["innerError"]["request-id"] == answer.headers["request-id"]
    return str(error["message"])


def _user_json(tenant: CloudTenant, alias: str, display_name: str) -> bytes:
    body = tenant.user_body(alias)
    text = json.dumps(body)
    return text.replace(json.dumps(body["displayName"]), display_name).encode()


def _not_stored(admin: httpx.Client, tenant: CloudTenant, alias: str) -> None:
    assert admin.get(f"/v1.0/users/{alias}@{tenant.domain}").status_code == 404


@pytest.mark.parametrize(
    ("alias", "display_name", "words"),
    [
        ("surrogate", '"Ann \\ud800"', "lone surrogate"),
        ("lowsurrogate", '"\\udfff"', "lone surrogate"),
        ("nul", '"Ann\\u0000Bob"', "NUL"),
        ("nan", "NaN", "NaN"),
        ("infinity", "-Infinity", "NaN and Infinity"),
    ],
)
def test_text_and_numbers_no_store_can_hold_are_refused_and_never_stored(
    tenant: CloudTenant, admin: httpx.Client, alias: str, display_name: str, words: str
) -> None:
    body = _user_json(tenant, alias, display_name)
    answer = admin.post("/v1.0/users", content=body, headers={"Content-Type": "application/json"})
    assert words in _refused(answer)
    _not_stored(admin, tenant, alias)


def test_raw_bytes_that_are_not_utf8_are_refused(tenant: CloudTenant, admin: httpx.Client) -> None:
    body = _user_json(tenant, "latin", '"Ann"').replace(b'"Ann"', b'"Ann \xff\xfe"')
    answer = admin.post("/v1.0/users", content=body, headers={"Content-Type": "application/json"})
    assert "Unable to read JSON" in _refused(answer)
    _not_stored(admin, tenant, "latin")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_beyond_the_limit_is_refused(admin: httpx.Client, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"displayName": "x", "extra": {nested}}}'.encode()
    answer = admin.post("/v1.0/groups", content=body, headers={"Content-Type": "application/json"})
    _refused(answer)


def test_a_body_over_4_mb_is_refused_with_413_announced_or_streamed(admin: httpx.Client) -> None:
    big = b'{"displayName": "' + b"x" * MAX_BODY_BYTES + b'"}'

    def streamed() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    announced = admin.post("/v1.0/users", content=big, headers={"Content-Type": "application/json"})
    chunked = admin.post(
        "/v1.0/users", content=streamed(), headers={"Content-Type": "application/json"}
    )

    for answer in (announced, chunked):
        assert "4194304 bytes" in _refused(answer, 413)


@pytest.mark.parametrize("query", ["$filter=displayName%20eq%20%27%ED%A0%80%27", "%FF=1", "x=%00"])
def test_query_strings_that_do_not_decode_to_text_are_refused(
    admin: httpx.Client, query: str
) -> None:
    _refused(admin.get(f"/v1.0/users?{query}"))


def test_a_form_body_that_does_not_decode_to_text_is_refused(tenant: CloudTenant) -> None:
    with tenant.client() as http:
        answer = http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            content=b"grant_type=password&username=a%ED%A0%80&password=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert "form body" in _refused(answer)


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_FILTER_DEPTH + 1) + "displayName eq 'a'" + ")" * (MAX_FILTER_DEPTH + 1),
        "not " * 5000 + "displayName eq 'a'",
        " or ".join(f"displayName eq 'n{n}'" for n in range(MAX_FILTER_TERMS + 1)),
        " or ".join(f"displayName eq 'n{n}'" for n in range(3000))[:8000],
        "displayName in (" + ",".join(f"'n{n}'" for n in range(MAX_FILTER_TERMS + 1)) + ")",
        "employeeId eq " + "9" * 5000,
    ],
    ids=["parentheses", "nots", "terms", "thousands", "in-list", "huge-number"],
)
def test_filters_too_deep_or_too_long_are_refused(admin: httpx.Client, text: str) -> None:
    answer = admin.get("/v1.0/users", params={"$filter": text})
    assert "Invalid filter clause" in _refused(answer)


def _token(state: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/v1.0/users/delta?$skiptoken=", {"since": 10**30, "upto": 1, "after": 0, "issued": 1}),
        ("/v1.0/users/delta?$deltatoken=", {"since": -1, "upto": 1, "after": 0, "issued": 1}),
        ("/v1.0/users/delta?$skiptoken=", {"since": 0, "upto": 1, "after": 1e308, "issued": 1}),
        ("/v1.0/users/delta?$skiptoken=", [[[[[]]]]] * 1),
        ("/v1.0/users?$skiptoken=", {"after": {"nested": [1]}}),
        ("/v1.0/users?$skiptoken=", {"after": "\ud800"}),
        ("/v1.0/directory/deletedItems/microsoft.graph.user?$skiptoken=", {"after": 2**80}),
    ],
)
def test_absurd_delta_and_skip_tokens_are_refused(
    admin: httpx.Client, path: str, token: object
) -> None:
    _refused(admin.get(path + _token(token)))


def test_a_token_too_deep_to_parse_is_refused(admin: httpx.Client) -> None:
    deep = base64.urlsafe_b64encode(b"[" * 200_000).decode()
    _refused(admin.get(f"/v1.0/users/delta?$skiptoken={deep[:16000]}"))


@pytest.mark.parametrize(
    "redirect_uri", ["http://[::1", "http://localhost:99999/cb", "http://[not-an-ip]/", "\t"]
)
def test_a_malformed_redirect_uri_on_the_authorize_page_is_a_400(
    tenant: CloudTenant, redirect_uri: str
) -> None:
    client_id = tenant.add_app(()).application.client_id
    with tenant.client() as http:
        answer = http.get(
            f"/{tenant.id}/oauth2/v2.0/authorize",
            params={"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"},
        )
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "url",
    [
        "/$batch",
        "/./$batch",
        "/%24batch",
        "/%2524batch",
        "/users/../$batch",
        "https://graph.microsoft.com/v1.0/users/../$batch",
        "/v1.0/./%24BATCH",
    ],
)
def test_batch_items_reaching_batch_by_any_spelling_are_refused(
    admin: httpx.Client, url: str
) -> None:
    body = {"requests": [{"id": "1", "method": "POST", "url": url, "body": {"requests": []},
                          "headers": {"Content-Type": "application/json"}}]}  # fmt: skip
    assert "do not nest" in _refused(admin.post("/v1.0/$batch", json=body))
