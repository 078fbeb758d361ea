"""The authorization-code flow with PKCE in headless Chromium (Debian's, driven by Playwright):
MSAL builds the authorize URL, the browser fills the sign-in page, the redirect's code is
exchanged by MSAL."""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.conftest import skip_unless_ci
from tests.support.cloud_server import CloudTenant
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
CLOUD_PASSWORD = "Str0ng!Passw0rd"

pytestmark = [
    pytest.mark.browser,
    # A native app's loopback listener reads the code from the query string.
    pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended:UserWarning"),
]


class _Redirects(BaseHTTPRequestHandler):
    """The native app's loopback redirect listener: records the query it is sent."""

    received: list[dict[str, str]]

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if urlsplit(self.path).path == "/":  # not the browser's /favicon.ico
            self.received.append({k: v[0] for k, v in query.items()})
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p id='done'>Signed in. You may close this window.</p>")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def redirect_listener() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []
    handler = type("Handler", (_Redirects,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tenant: CloudTenant) -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_unless_ci("chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    # Chromium keeps its own trust store; trust exactly the served certificate's key
    # (certificate checks stay on for everything else).
    pin = f"--ignore-certificate-errors-spki-list={_spki_pin(tenant.server.base_url)}"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_FLAGS, pin]
        )
        context = chromium.new_context()
        try:
            yield context
        finally:
            context.close()
            chromium.close()


def _spki_pin(base_url: str) -> str:
    host, port = urlsplit(base_url).hostname or "", urlsplit(base_url).port or 443
    certificate = x509.load_pem_x509_certificate(ssl.get_server_certificate((host, port)).encode())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_code_flow_in_chromium(
    tenant: CloudTenant,
    browser: Any,
    redirect_listener: tuple[str, list[dict[str, str]]],
    tmp_path: Path,
) -> None:
    redirect_uri, received = redirect_listener
    user = tenant.server.service.users.create(
        tenant.id, tenant.user_body("browser"), synced=False, extra={}
    )
    app = msal_app(tenant, public_client(tenant))
    flow = app.initiate_auth_code_flow([GRAPH_USER_READ], redirect_uri=redirect_uri)
    assert "code_challenge=" in flow["auth_uri"]

    page = browser.new_page()
    page.goto(flow["auth_uri"])
    page.fill("#login", user["userPrincipalName"])
    page.fill("#passwd", "Wrong!Passw0rd")
    page.click("#signin")
    wrong_text = page.text_content("#error")
    page.fill("#passwd", CLOUD_PASSWORD)
    page.click("#signin")
    page.wait_for_selector("#done")
    page.screenshot(path=str(tmp_path / "signed-in.png"))

    assert wrong_text == "Your account or password is incorrect. Please try again."
    assert len(received) == 1
    assert "code" in received[0]
    result = app.acquire_token_by_auth_code_flow(flow, received[0])
    assert "access_token" in result, result
    claims = jwt.decode(result["id_token"], options={"verify_signature": False})
    assert claims["oid"] == user["id"]
    assert claims["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()  # as MSAL sent it
    assert app.acquire_token_by_auth_code_flow(flow, received[0]).get("error")  # single use


def test_unknown_user_gets_the_same_message_as_a_wrong_password(
    tenant: CloudTenant, browser: Any, redirect_listener: tuple[str, list[dict[str, str]]]
) -> None:
    redirect_uri, _ = redirect_listener
    app = msal_app(tenant, public_client(tenant))
    flow = app.initiate_auth_code_flow([GRAPH_USER_READ], redirect_uri=redirect_uri)
    page = browser.new_page()
    page.goto(flow["auth_uri"])
    page.fill("#login", f"nobody@{tenant.domain}")
    page.fill("#passwd", "Wrong!Passw0rd")
    page.click("#signin")
    assert page.text_content("#error") == "Your account or password is incorrect. Please try again."
