"""The authorization-code flow with PKCE in headless Chromium (Debian's, driven by Playwright):
MSAL builds the authorize URL, the browser fills the sign-in page, the redirect's code is
exchanged by MSAL."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.conftest import skip_unless_ci
from tests.support.sessions import closed_after_test
from tests.support.signin import GRAPH_USER_READ

from hybridsync.cloud import CloudService
from hybridsync.cloud.local import initialize, settings_for
from hybridsync.cloud.tls import ensure_local_tls

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


@dataclass
class Served:
    """The directory served by ``hybridsync cloud serve`` in a process of its own.

    (Chromium leaves half-open TLS connections that an in-process server would report as
    unclosed at shutdown; a separate process keeps this test's process clean.)"""

    base_url: str
    ca_path: Path
    tenant_id: str
    client_id: str
    upn: str

    def msal_app(self) -> msal.PublicClientApplication:
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.ca_path)
        return msal.PublicClientApplication(
            self.client_id,
            authority=f"{self.base_url}/{self.tenant_id}",
            instance_discovery=False,
            http_client=closed_after_test(session),
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("browser-cloud")
    initialize(data)
    tls = ensure_local_tls(data / "tls")
    service = CloudService(settings_for(data))
    tenant = service.tenancy.create_tenant("contoso.com", ["partners.contoso.com"])
    native = service.tenancy.add_application(tenant.id, "native app", (), public_client=True)
    service.clients.register(
        native.application, redirect_uris=["http://localhost"], delegated=["User.Read"]
    )
    service.clients.consent(native.application, ["User.Read"])
    client_id = native.application.client_id
    service.users.create(
        tenant.id,
        {"accountEnabled": True, "displayName": "Browser User", "mailNickname": "browser",
         "userPrincipalName": "browser@contoso.com",
         "passwordProfile": {"password": CLOUD_PASSWORD}},
        synced=False, extra={},
    )  # fmt: skip
    service.close()
    with served_directory(data) as base_url:
        yield Served(base_url, tls.ca_certificate, tenant.id, client_id, "browser@contoso.com")


@contextmanager
def served_directory(data: Path) -> Iterator[str]:
    """``hybridsync cloud serve`` on the data directory, until the block ends: its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["hybridsync", "cloud", "serve", "--data-dir", str(data), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert process.poll() is None, "hybridsync cloud serve exited"
            assert time.monotonic() < deadline, "hybridsync cloud serve did not listen"
            time.sleep(0.05)
        yield f"https://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # uvicorn waits on the browser's idle connections
            process.kill()
            process.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def browser(served: Served) -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_unless_ci("chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    # Chromium keeps its own trust store; trust exactly the served certificate's key
    # (certificate checks stay on for everything else).
    pin = f"--ignore-certificate-errors-spki-list={_spki_pin(served.base_url)}"
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
    served: Served,
    browser: Any,
    redirect_listener: tuple[str, list[dict[str, str]]],
    tmp_path: Path,
) -> None:
    redirect_uri, received = redirect_listener
    app = served.msal_app()
    flow = app.initiate_auth_code_flow([GRAPH_USER_READ], redirect_uri=redirect_uri)
    assert "code_challenge=" in flow["auth_uri"]

    page = browser.new_page()
    page.goto(flow["auth_uri"])
    page.fill("#login", served.upn)
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
    assert claims["preferred_username"] == served.upn
    assert claims["tid"] == served.tenant_id
    assert claims["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()  # as MSAL sent it
    assert app.acquire_token_by_auth_code_flow(flow, received[0]).get("error")  # single use


def test_unknown_user_gets_the_same_message_as_a_wrong_password(
    served: Served, browser: Any, redirect_listener: tuple[str, list[dict[str, str]]]
) -> None:
    redirect_uri, _ = redirect_listener
    app = served.msal_app()
    flow = app.initiate_auth_code_flow([GRAPH_USER_READ], redirect_uri=redirect_uri)
    page = browser.new_page()
    page.goto(flow["auth_uri"])
    page.fill("#login", "nobody@contoso.com")
    page.fill("#passwd", "Wrong!Passw0rd")
    page.click("#signin")
    assert page.text_content("#error") == "Your account or password is incorrect. Please try again."
