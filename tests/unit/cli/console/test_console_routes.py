"""The console's sign-in routes against what an attacker sends: a callback carried to
another browser (login CSRF), words of its own in ``error_description``, a flood of
sign-ins, users without access filling the session table; and the page number parser.

(The console is served over HTTPS by uvicorn; the identity provider's answers are given:
the ID token checks are in test_sign_in.py, the whole sign-in in Chromium against the
served directory in tests/console/.)"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.requests import Request

from hybridsync.cli.console import sessions as sessions_module
from hybridsync.cli.console import views
from hybridsync.cli.console.app import Console, audit_actor, console_app, new_console
from hybridsync.cli.console.oidc import OidcClient, SignInError
from hybridsync.cli.console.sessions import COOKIE, FLOW_COOKIE, Session
from hybridsync.cloud.server import ThreadedServer, TlsConfig
from hybridsync.cloud.tls import TlsFiles, ensure_local_tls
from hybridsync.config.console import ConsoleConfig

BASE = "https://sync.example"
DISCOVERY = {
    "issuer": "https://login.example/tenant/v2.0",
    "authorization_endpoint": "https://login.example/authorize",
    "token_endpoint": "https://login.example/token",
    "jwks_uri": "https://login.example/keys",
}
READER = {"sub": "s-1", "preferred_username": "reader@contoso.example", "oid": "o-1",
          "tid": "t-1", "wids": ["reader-role"]}  # fmt: skip


class _GivenProvider(OidcClient):
    """The client with the provider's discovery document given, and each code's claims."""

    claims: dict[str, dict[str, Any]]

    def _document(self) -> dict[str, Any]:
        return DISCOVERY

    def finish(self, flow: Any, code: str) -> dict[str, Any]:
        return self.claims[code]


@pytest.fixture(scope="module")
def console() -> Console:
    config = ConsoleConfig(
        issuer=DISCOVERY["issuer"], client_id="console", redirect_uri=f"{BASE}/console/signed-in",
        reader_roles=["reader-role"],
    )  # fmt: skip
    built = new_console(config, cast(Any, None), cast(Any, None), None, 60.0)
    provider = _GivenProvider(config, None)
    provider.claims = {"reader-code": READER, "nobody-code": {"sub": "s-2", "wids": []}}
    built.oidc = provider
    return built


@pytest.fixture(scope="module")
def served(
    console: Console, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TlsFiles]]:
    tls = ensure_local_tls(tmp_path_factory.mktemp("console-tls"))
    app = cast(Any, console_app(console))
    with ThreadedServer(app, TlsConfig(tls.certificate, tls.private_key)) as server:
        yield server.base_url, tls


@pytest.fixture
def new_browser(served: tuple[str, TlsFiles]) -> Iterator[Any]:
    """A factory of browsers: each an HTTPS client with a cookie jar of its own."""
    base_url, tls = served
    opened: list[httpx.Client] = []

    def make() -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(tls.ca_certificate))
        client = httpx.Client(base_url=base_url, verify=trust)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def browser(new_browser: Any) -> httpx.Client:
    client: httpx.Client = new_browser()
    return client


def _start(client: httpx.Client) -> str:
    answer = client.get("/console/sign-in")
    assert answer.status_code == 303
    assert FLOW_COOKIE in answer.cookies
    return parse_qs(urlsplit(answer.headers["location"]).query)["state"][0]


def test_a_callback_completes_only_in_the_browser_that_started_it(
    console: Console, browser: httpx.Client, new_browser: Any
) -> None:
    sessions_before = len(console.sessions._sessions)
    state = _start(browser)  # the attacker's own sign-in, with the attacker's code
    victim = new_browser()
    carried = victim.get("/console/signed-in", params={"state": state, "code": "reader-code"})
    assert carried.status_code == 400
    assert COOKIE not in carried.cookies
    state = _start(browser)
    _start(victim)  # a flow cookie of another sign-in does not help either
    other = victim.get("/console/signed-in", params={"state": state, "code": "reader-code"})
    assert other.status_code == 400
    assert COOKIE not in other.cookies
    assert len(console.sessions._sessions) == sessions_before

    state = _start(browser)
    own = browser.get("/console/signed-in", params={"state": state, "code": "reader-code"})
    assert own.status_code == 303
    assert COOKIE in own.cookies
    assert "Max-Age=0" in ",".join(own.headers.get_list("set-cookie"))  # flow cookie deleted


def test_the_flow_cookie_is_host_only_secure_http_only_and_lax(browser: httpx.Client) -> None:
    answer = browser.get("/console/sign-in")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(FLOW_COOKIE))
    assert FLOW_COOKIE.startswith("__Host-")
    for part in ("Secure", "HttpOnly", "SameSite=lax", "Path=/", "Max-Age=600"):
        assert part in cookie


def test_the_providers_error_description_is_not_shown(browser: httpx.Client) -> None:
    state = _start(browser)
    answer = browser.get(
        "/console/signed-in",
        params={"state": state, "error": "access_denied",
                "error_description": "Call the help desk at +1 555 0100 now"},
    )  # fmt: skip
    assert answer.status_code == 401
    assert "help desk" not in answer.text
    assert "did not sign you in" in answer.text


def test_users_without_access_get_403_and_never_push_a_readers_session_out(
    console: Console, browser: httpx.Client, new_browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions_module, "_MAX_SESSIONS", len(console.sessions._sessions) + 1)
    monkeypatch.setattr(sessions_module, "_MAX_DENIED", 2)
    reader = new_browser()
    state = _start(reader)
    assert reader.get(
        "/console/signed-in", params={"state": state, "code": "reader-code"}
    ).status_code == 303  # fmt: skip
    for _ in range(5):  # more users without access than either table holds
        state = _start(browser)
        answer = browser.get("/console/signed-in", params={"state": state, "code": "nobody-code"})
        assert answer.status_code == 303
        assert browser.get("/console/runs").status_code == 403
    assert reader.cookies[COOKIE] in console.sessions._sessions  # the reader is still in


def test_a_flood_of_sign_ins_is_refused_without_ending_those_in_progress(
    console: Console, browser: httpx.Client, new_browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.sessions, "_flows", {})
    monkeypatch.setattr(sessions_module, "_MAX_FLOWS", 2)
    first = _start(browser)
    attacker = new_browser()
    _start(attacker)
    assert attacker.get("/console/sign-in").status_code == 503
    done = browser.get("/console/signed-in", params={"state": first, "code": "reader-code"})
    assert done.status_code == 303


def test_a_session_without_access_can_sign_out_with_its_csrf_token(
    console: Console, browser: httpx.Client
) -> None:
    session = Session("u@contoso.example", "U", None, time.monotonic() + 60)
    console.sessions._sessions["no-access"] = session
    browser.cookies.set(COOKIE, "no-access")
    assert browser.get("/console/").status_code == 403
    assert browser.post("/console/sign-out", data={"csrf": "forged"}).status_code == 403
    assert "no-access" in console.sessions._sessions
    answer = browser.post("/console/sign-out", data={"csrf": session.csrf})
    assert answer.status_code == 200
    assert "no-access" not in console.sessions._sessions


def test_the_audit_names_the_object_and_tenant_ids() -> None:
    assert audit_actor(READER, "reader@contoso.example") == (
        "reader@contoso.example (oid=o-1, tid=t-1)"
    )
    assert audit_actor({}, "s-1") == "s-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuer": "http://login.example/tenant/v2.0"}, "issuer"),
        ({"jwks_uri": "http://login.example/keys"}, "jwks_uri"),
        ({"token_endpoint": "http://login.example/token"}, "token_endpoint"),
    ],
)
def test_the_provider_is_reached_over_https_only(
    change: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import ValidationError

    values = {"client_id": "c", "redirect_uri": f"{BASE}/console/signed-in",
              "reader_roles": ["r"], "issuer": DISCOVERY["issuer"]}  # fmt: skip
    if "issuer" in change:
        with pytest.raises(ValidationError, match=message):
            ConsoleConfig(**(values | change))
        return
    client = OidcClient(ConsoleConfig(**values), None)

    class Answer:
        status_code = 200

        @staticmethod
        def json() -> dict[str, str]:
            return DISCOVERY | change

    monkeypatch.setattr(client, "_http", lambda *args, **kwargs: Answer())
    with pytest.raises(SignInError, match=message):
        client.start("/console/")


@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A3", "-1", "x", ""])
def test_a_page_number_that_is_not_ascii_digits_is_page_one(page: str) -> None:
    scope = {"type": "http", "method": "GET", "path": "/console/runs", "headers": [],
             "query_string": f"page={page}".encode()}  # fmt: skip
    assert views._page_number(Request(scope)) == 1
