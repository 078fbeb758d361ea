"""Malformed bodies and query strings to every route, over HTTPS: never a 5xx.

Two generators, each with a fixed example budget and derandomized (a red run is
reproducible): schemathesis's negative data from the published OpenAPI document, and a
Hypothesis strategy of the inputs attackers send (lone surrogates, NUL, NaN, deep nesting,
huge numbers, broken percent-encoding, absurd tokens) aimed at every route and method.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import requests
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from tests.support.cloud_server import ADMIN_ROLES, CloudServer, CloudTenant

from hybridsync.cloud import SYNC_ROLE, CloudService, CloudSettings, create_app
from hybridsync.cloud.app import ROUTERS

_ROUTES = sorted(
    (route.path, method)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)
_PARAMETER = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def target(cloud_server: CloudServer) -> tuple[CloudTenant, str]:
    tenant = cloud_server.new_tenant()
    everything = tenant.add_app([*ADMIN_ROLES, SYNC_ROLE])
    # Someone for the routes that name a user to find.
    tenant.server.service.users.create(
        tenant.id, tenant.user_body("fuzzseed"), synced=False, extra={}
    )
    return tenant, tenant.app_token(everything)


@pytest.fixture(scope="module")
def session(target: tuple[CloudTenant, str]) -> Iterator[requests.Session]:
    tenant, token = target
    http = requests.Session()
    http.trust_env = False  # the test CA only, whatever REQUESTS_CA_BUNDLE says
    http.verify = str(tenant.server.ca_path)
    http.headers["Authorization"] = f"Bearer {token}"
    yield http
    http.close()


@pytest.fixture(scope="module")
def client(target: tuple[CloudTenant, str]) -> Iterator[httpx.Client]:
    tenant, token = target
    with httpx.Client(
        base_url=tenant.server.base_url,
        verify=tenant.server.ssl_context(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as http:
        yield http


# -- schemathesis: negative data from the OpenAPI document ---------------------------------


def _document() -> dict[str, Any]:
    service = CloudService(CloudSettings(database_url="sqlite://", master_key=SecretStr("x")))
    try:
        return create_app(service).openapi()
    finally:
        service.close()


negative = schemathesis.openapi.from_dict(_document())
negative.config.generation.update(modes=[GenerationMode.NEGATIVE], allow_x00=True)


@negative.parametrize()
@settings(derandomize=True, max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_negative_data_from_the_openapi_document_never_gets_a_5xx(
    case: schemathesis.Case, target: tuple[CloudTenant, str], session: requests.Session
) -> None:
    tenant, _ = target
    if "tenant" in case.path_parameters:
        case.path_parameters["tenant"] = tenant.id  # reach the routes, not the tenant lookup
    response = case.call(base_url=tenant.server.base_url, session=session, verify=session.verify)
    case.validate_response(response, checks=[not_a_server_error])


# -- Hypothesis: what attackers send, to every route --------------------------------------

_TEXT = st.text(
    st.characters(codec=None, exclude_categories=()), max_size=40
)  # includes lone surrogates and NUL
_JSON_ATOMS = st.one_of(
    st.just("NaN"), st.just("-Infinity"), st.just("1e999999"), st.just("9" * 5000),
    st.just('"\\ud800"'), st.just('"\\u0000"'), st.just("null"), st.just("true"),
    st.integers().map(str), _TEXT.map(lambda t: json.dumps(t, ensure_ascii=True)),
)  # fmt: skip


def method_writes(method: str) -> bool:
    return method in {"POST", "PATCH", "PUT", "DELETE"}


@st.composite
def _json_bodies(draw: st.DrawFn) -> bytes:
    depth = draw(st.sampled_from([0, 1, 5, 40, 5000]))
    atom = draw(_JSON_ATOMS)
    key = draw(st.sampled_from(["displayName", "requests", "value", "passwordProfile", "x"]))
    inner = "[" * depth + atom + "]" * depth
    return draw(st.sampled_from([f'{{"{key}": {inner}}}', inner, f'{{"{key}": '])).encode()


_BODIES = st.one_of(
    _json_bodies(),
    st.binary(max_size=300),
    _TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
)
_QUERY_NAMES = st.sampled_from(
    ["$filter", "$top", "$select", "$skiptoken", "$deltatoken", "$search", "$orderby", "$count",
     "$expand", "wait", "client_id", "redirect_uri", "response_type", "grant_type", "%ff", "a"]
)  # fmt: skip
_QUERY_VALUES = st.one_of(
    _TEXT.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe="")),
    st.sampled_from(["%ED%A0%80", "%FF%FE", "%00", "%", "%ZZ", "-1", "1e309", "9" * 400,
                     "(" * 300 + "id eq 'x'" + ")" * 300,
                     " or ".join(["id eq 'x'"] * 500),
                     base64.urlsafe_b64encode(b'{"since": 1e999, "after": -5}').decode(),
                     base64.urlsafe_b64encode(b"[" * 3000).decode(), "http://[::1", "latest"]),
)  # fmt: skip
_SEGMENTS = st.sampled_from(["fuzzseed", "%00", "..", "%2e%2e", "x" * 300, "%ED%A0%80", "$batch"])
_CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
)


_POISONS = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["displayName", "jobTitle", "department", "mailNickname"]),
              _JSON_ATOMS, st.integers(0, 10**9)),
)  # fmt: skip


def _poisoned_user(tenant: CloudTenant, field: str, atom: str, number: int) -> bytes:
    """A valid create-user body but for one value: the kind of body that could get stored."""
    body = tenant.user_body(f"fuzz{number}")
    body[field] = "@@"
    return json.dumps(body).replace('"@@"', atom).encode()


@given(
    route=st.sampled_from(_ROUTES),
    poison=_POISONS,
    segment=_SEGMENTS,
    query=st.lists(st.tuples(_QUERY_NAMES, _QUERY_VALUES), max_size=3),
    body=_BODIES,
    content_type=_CONTENT_TYPES,
)
@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_malformed_input_to_every_route_never_gets_a_5xx(
    target: tuple[CloudTenant, str],
    client: httpx.Client,
    route: tuple[str, str],
    segment: str,
    query: list[tuple[str, str]],
    body: bytes,
    content_type: str,
    poison: tuple[str, str, int] | None,
) -> None:
    tenant, _ = target
    if poison is not None and method_writes(route[1]):
        body, content_type = _poisoned_user(tenant, *poison), "application/json"
    template, method = route
    path = template.replace("{tenant}", tenant.id)
    if "fuzzseed" in segment:
        segment = f"fuzzseed@{tenant.domain}"
    path = _PARAMETER.sub(segment, path)
    raw_query = "&".join(f"{name}={value}" for name, value in query)
    url = f"{path}?{raw_query}" if raw_query else path
    headers = {"Content-Type": content_type} if content_type else {}
    if path.endswith("/pta/requests") and method == "GET":
        url = f"{path}?wait=0"  # a long poll would only wait; its input is the same
    content = body if method_writes(method) else None

    answer = client.request(method, url, content=content, headers=headers)

    assert answer.status_code < 500, (method, url, body[:200], answer.text[:300])


@given(
    field=st.sampled_from(["displayName", "jobTitle", "department", "givenName"]),
    value=st.one_of(_JSON_ATOMS, _TEXT.map(lambda t: json.dumps(t, ensure_ascii=True))),
    number=st.integers(0, 10**9),
    write=st.sampled_from(["create user", "update user", "create group"]),
)
@settings(derandomize=True, max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_values_no_store_can_hold_are_refused_or_read_back_intact(
    target: tuple[CloudTenant, str], client: httpx.Client, field: str, value: str, number: int,
    write: str,
) -> None:  # fmt: skip
    tenant, _ = target
    if write == "create group":
        body: dict[str, Any] = {"displayName": "g", "mailEnabled": False,
                                "mailNickname": f"g{number}", "securityEnabled": True}  # fmt: skip
        method, url = "POST", "/v1.0/groups"
        field = "displayName"
    elif write == "create user":
        body, method, url = tenant.user_body(f"fuzz{number}"), "POST", "/v1.0/users"
    else:
        body, method, url = {}, "PATCH", f"/v1.0/users/fuzzseed@{tenant.domain}"
    body[field] = "@@"
    raw = json.dumps(body).replace('"@@"', value).encode()

    answer = client.request(method, url, content=raw, headers={"Content-Type": "application/json"})

    assert answer.status_code < 500, (url, raw[:200], answer.text[:300])
    # Whatever was stored reads back: nothing unencodable got past the door.
    listing = "/v1.0/groups" if write == "create group" else "/v1.0/users"
    assert client.get(listing).status_code == 200, (url, raw[:200])
