"""The operations console in headless Chromium: ``hybridsync serve`` between a Samba AD DC
and the served cloud directory, signed in through the directory's own sign-in page.

One stack for the module (one DC organization, one cloud tenant, one service): the
operator's journey is one test, since each step acts on what the previous one left.
``HYBRIDSYNC_CONSOLE_SCREENSHOTS=docs/console`` writes the pages' screenshots there.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.conftest import skip_unless_ci
from tests.support.cloud_server import CloudTenant, graph_connector_toml, serve_cloud
from tests.support.samba import SambaDC, ad_connector_toml
from tests.support.serve import PASSWORD_ENV, Service, serving

from hybridsync.cloud.roles import DIRECTORY_READERS, HYBRID_IDENTITY_ADMINISTRATOR
from hybridsync.cloud.tls import ensure_local_tls

pytestmark = [pytest.mark.samba, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PASSWORD = "Str0ng!Passw0rd"
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
SCREENSHOTS_ENV = "HYBRIDSYNC_CONSOLE_SCREENSHOTS"


@dataclass
class Stack:
    dc: SambaDC
    tenant: CloudTenant
    service: Service
    console: str
    """``https://127.0.0.1:PORT/console``."""
    ou: str
    tag: str
    pin: str
    users: dict[str, str]
    """Sign-in name by role: operator, reader, nobody."""

    def dn(self, name: str) -> str:
        return f"CN={name}{self.tag},{self.ou}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spki_pin(certificate_pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _sign_in_users(tenant: CloudTenant) -> dict[str, str]:
    """An operator (Hybrid Identity Administrator), a reader (Directory Readers), and a
    user with neither role."""
    service = tenant.server.service
    users = {}
    for role, directory_role in (
        ("operator", HYBRID_IDENTITY_ADMINISTRATOR),
        ("reader", DIRECTORY_READERS),
        ("nobody", None),
    ):
        body = tenant.user_body(f"console{role}")
        user = service.users.create(tenant.id, body, synced=False, extra={})
        if directory_role is not None:
            service.role_assignments.assign(tenant.id, user["id"], directory_role)
        users[role] = body["userPrincipalName"]
    return users


@pytest.fixture(scope="module")
def stack(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("console")
    tag = os.urandom(3).hex()
    ou = samba_dc.add_ou(f"Console {tag}")
    samba_dc.add_user(
        f"ann{tag}",
        ou_dn=ou,
        upn=f"ann{tag}@contoso.com",
        cn=f"ann{tag}",
        attributes={"displayName": f"Ann Employee {tag}", "title": "Clerk"},
    )
    samba_dc.add_user(
        f"pat{tag}",
        ou_dn=ou,
        upn=f"pat{tag}@partners.contoso.com",
        cn=f"pat{tag}",
        attributes={"displayName": f"Pat Partner {tag}"},
    )
    for n in range(4):
        samba_dc.add_user(
            f"gone{n}{tag}", ou_dn=ou, upn=f"gone{n}{tag}@contoso.com", cn=f"gone{n}{tag}"
        )
    with serve_cloud(root / "cloud") as server:
        tenant = server.new_tenant("contoso.com")
        port = _free_port()
        console = f"https://127.0.0.1:{port}/console"
        client = tenant.add_public_client(
            scopes=("User.Read",), redirect_uris=(f"{console}/signed-in",)
        )
        tls = ensure_local_tls(root / "cloud" / "tls")  # the cloud's: one pin for both
        config = root / "hybridsync.toml"
        config.write_text(
            f"""store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
[safety]
deletion_threshold = 1
[console]
issuer = "{server.base_url}/{tenant.id}/v2.0"
client_id = "{client.application.client_id}"
redirect_uri = "{console}/signed-in"
ca_file = "{server.ca_path}"
operator_roles = ["{HYBRID_IDENTITY_ADMINISTRATOR}"]
reader_roles = ["{DIRECTORY_READERS}"]
exports_wait_for_approval = true
"""
            + ad_connector_toml(samba_dc, PASSWORD_ENV, [ou])
            + graph_connector_toml(server, tenant, root),
            encoding="utf-8",
        )
        # The console on its own address; the admin API on another (a free port).
        options = ["--console", f"127.0.0.1:{port}", "--admin-cert", str(tls.certificate),
                   "--admin-key", str(tls.private_key)]  # fmt: skip
        with serving(samba_dc, config, options) as service:
            yield Stack(
                samba_dc,
                tenant,
                service,
                console,
                ou,
                tag,
                _spki_pin(tls.certificate.read_bytes()),
                _sign_in_users(tenant),
            )


@pytest.fixture(scope="module")
def chromium(stack: Stack) -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_unless_ci("chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    # Chromium keeps its own trust store: trust exactly the served certificate's key.
    pin = f"--ignore-certificate-errors-spki-list={stack.pin}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_FLAGS, pin]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def signed_in(chromium: Any, stack: Stack, role: str) -> Iterator[Any]:
    """A page of a new browser context, signed in as ``role`` through the cloud's page.

    (``bypass_csp``: axe-core is injected as a script the console's policy would refuse.)"""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{stack.console}/")
        assert "/oauth2/v2.0/authorize" in page.url  # sent to the identity provider
        page.fill("#login", stack.users[role])
        page.fill("#passwd", PASSWORD)
        page.click("#signin")
        page.wait_for_url(f"{stack.console}/**")
        yield page
    finally:
        context.close()


def check_accessibility(page: Any) -> None:
    """axe-core's WCAG 2 A and AA rules (labels, contrast, landmarks...): no violation."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}))
            .violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"""
    )
    assert violations == [], page.url


def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    """At 1280x800 and at phone width (390 px); into ``$HYBRIDSYNC_CONSOLE_SCREENSHOTS``
    when set (docs/console), else into the test's temporary directory."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(folder / f"{name}-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


def _plan(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.console}/plan")


@contextlib.contextmanager
def cycle_after(stack: Stack) -> Iterator[None]:
    """Waits, after the block's AD change, for the small cycle the DC's announcement of it
    started (it imports and syncs; the export waits for the plan)."""
    events = stack.service.events
    seen = len(events.caught_up())
    yield
    if not any(e.get("event") == "scheduler.cycle_finished" for e in events.caught_up()[seen:]):
        events.until("scheduler.cycle_finished", timeout=60)


def wake(stack: Stack) -> None:
    """Asks the service to read AD now (the admin API's sync): Samba announces no deletes
    to a change notification search, which sees no deleted objects."""
    answer = httpx.post(
        stack.service.admin_url + "/api/sync",
        json={"connector": "ad"},
        verify=stack.tenant.server.ssl_context(),
    )
    assert answer.status_code == 202, answer.text


def test_operator_journey(chromium: Any, stack: Stack, tmp_path: Path) -> None:
    ann, pat = f"Ann Employee {stack.tag}", f"Pat Partner {stack.tag}"
    with signed_in(chromium, stack, "operator") as page:
        # The overview, after a real sign-in.
        assert page.url == f"{stack.console}/"
        assert page.text_content("h1") == "Overview"
        assert "operator" in page.text_content("#signed-in-as")
        assert page.locator("#health th[scope=row]").all_text_contents() == ["ad", "cloud"]
        assert page.locator("svg.chart").count() == 4
        check_accessibility(page)
        screenshot(page, "overview", tmp_path)

        # The first cycle synced but exported nothing: the plan adds everyone, by name.
        _plan(page, stack)
        adds = page.locator("#plan-add .object-name").all_text_contents()
        assert any(name.startswith(ann) and f"ann{stack.tag}@contoso.com" in name for name in adds)
        assert not any(name.startswith("CN=") for name in adds)
        check_accessibility(page)
        _reach_by_keyboard(page, "apply")
        page.click("#apply")
        assert page.text_content("#applied") == "Exported."
        upns = stack.tenant.property_by_upn("userType")
        assert upns[f"pat{stack.tag}@partners.contoso.com"] == "Guest"

        # The partner's lineage: userType = Guest, and the rule that set it.
        page.goto(f"{stack.console}/objects?q=pat{stack.tag}")
        screenshot(page, "objects", tmp_path)
        page.locator("#found tbody tr", has_text=pat).filter(
            has=page.locator("td:text-is('ad')")
        ).locator("a").click()
        row = page.locator("#target-cloud tr[data-attribute=userType]")
        assert row.locator("td").nth(0).text_content() == "Guest"
        rule = row.locator("td").nth(1).text_content()
        assert rule
        assert rule != "no rule sets it"
        check_accessibility(page)
        screenshot(page, "object", tmp_path)
        page.click("#sync-now")  # on demand, through the service: nothing left to send
        assert page.text_content("#outcome") == "nothing-to-export"

        # A change in AD: in the plan with before and after; the operator applies it.
        with cycle_after(stack):
            stack.dc.modify(stack.dn("ann"), {"title": "Director"})
        _plan(page, stack)
        change = page.locator("#plan-update details", has_text=ann)
        title = change.locator("tr[data-attribute=jobTitle]")
        assert title.locator("td.before").text_content() == "Clerk"
        assert title.locator("td.after").text_content() == "Director"
        screenshot(page, "plan", tmp_path)
        page.click("#apply")
        assert page.text_content("#applied") == "Exported."
        assert stack.tenant.property_by_upn("jobTitle")[f"ann{stack.tag}@contoso.com"] == "Director"

        # Two deletes over a threshold of one: stopped, with its objects; overridden once.
        with cycle_after(stack):
            for n in (0, 1):
                stack.dc.delete(stack.dn(f"gone{n}"))
            wake(stack)
        _plan(page, stack)
        page.click("#apply")
        assert page.is_visible("#threshold-stop")
        deleted = page.locator("#plan-delete .object-name").all_text_contents()
        assert len(deleted) == 2
        assert all("gone" in name for name in deleted)
        check_accessibility(page)
        screenshot(page, "deletion-threshold", tmp_path)
        page.check("#allow-deletes")
        page.click("#apply")
        assert page.text_content("#applied") == "Exported."
        assert f"gone0{stack.tag}@contoso.com" not in stack.tenant.property_by_upn("jobTitle")
        # The override was for those deletes only: the next ones stop again.
        with cycle_after(stack):
            for n in (2, 3):
                stack.dc.delete(stack.dn(f"gone{n}"))
            wake(stack)
        _plan(page, stack)
        page.click("#apply")
        assert page.is_visible("#threshold-stop")

        # The audit log lists each action, with the plans' hashes.
        page.goto(f"{stack.console}/audit")
        actions = page.locator("#audit tbody tr td:nth-child(3)").all_text_contents()
        assert actions == [
            "apply-plan",
            "apply-plan-override-deletion-threshold",
            "apply-plan",
            "apply-plan",
            "sync-object",
            "apply-plan",
        ]
        who = set(page.locator("#audit tbody tr td:nth-child(2)").all_text_contents())
        (actor,) = who  # the UPN, and beside it the ids a UPN's next owner would not have
        assert actor.startswith(f"{stack.users['operator']} (oid=")
        assert ", tid=" in actor
        hashes = page.locator("#audit tbody tr td:nth-child(5)").all_text_contents()
        assert all(len(hashes[n]) >= 32 for n, action in enumerate(actions) if "apply" in action)
        assert hashes[actions.index("sync-object")] == ""
        check_accessibility(page)
        screenshot(page, "audit", tmp_path)
        for name in ("connectors", "runs", "rules"):
            page.goto(f"{stack.console}/{name}")
            check_accessibility(page)
            screenshot(page, name, tmp_path)


def _reach_by_keyboard(page: Any, element_id: str) -> None:
    """Tab from the top of the page reaches the element (no mouse needed)."""
    page.locator("body").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    pytest.fail(f"#{element_id} is not reachable with Tab")


def post_form(page: Any, url: str, form: dict[str, Any]) -> tuple[int, str]:
    """A form POST from a script of the signed-in page itself (its cookies go along)."""
    status, text = page.evaluate(
        """async ([url, form]) => {
            const answer = await fetch(url, {method: "POST", body: new URLSearchParams(form)});
            return [answer.status, await answer.text()];
        }""",
        [url, form],
    )
    return int(status), str(text)


def test_a_reader_sees_the_plan_but_cannot_apply(chromium: Any, stack: Stack) -> None:
    with signed_in(chromium, stack, "reader") as page:
        assert "reader" in page.text_content("#signed-in-as")
        _plan(page, stack)
        assert page.locator("#apply").count() == 0
        fingerprint = page.text_content("#fingerprint")
        # Posting the apply form itself, with the reader's own valid CSRF token.
        csrf = page.locator("header input[name=csrf]").get_attribute("value")
        status, text = post_form(
            page, f"{stack.console}/plan/apply", {"csrf": csrf, "fingerprint": fingerprint}
        )
        assert status == 403
        assert "Only an operator" in text


def test_a_user_without_a_role_gets_403(chromium: Any, stack: Stack, tmp_path: Path) -> None:
    with signed_in(chromium, stack, "nobody") as page:
        assert page.text_content("h1") == "No access"
        answer = page.goto(f"{stack.console}/runs")
        assert answer.status == 403
        check_accessibility(page)
        screenshot(page, "forbidden", tmp_path)


def test_a_forged_post_without_the_csrf_token_is_refused(chromium: Any, stack: Stack) -> None:
    with signed_in(chromium, stack, "operator") as page:
        _plan(page, stack)
        fingerprint = page.text_content("#fingerprint") or ""
        before = len(stack.service.events.caught_up())
        for form in ({"fingerprint": fingerprint}, {"fingerprint": fingerprint, "csrf": "x" * 43}):
            status, text = post_form(page, f"{stack.console}/plan/apply", form)
            assert status == 403
            assert "security token" in text
        as_json = page.evaluate(
            """async (url) => (await fetch(url, {method: "POST",
                headers: {"Content-Type": "application/json"}, body: "{}"})).status""",
            f"{stack.console}/plan/apply",
        )
        assert as_json == 415
        exports = [
            e
            for e in stack.service.events.caught_up()[before:]
            if e.get("event") == "scheduler.run" and e.get("profile") == "export"
        ]
        assert exports == []


def test_the_session_cookie_is_host_only_secure_and_http_only(chromium: Any, stack: Stack) -> None:
    with signed_in(chromium, stack, "reader") as page:
        cookies = page.context.cookies()
        session = next(c for c in cookies if c["name"] == "__Host-hybridsync-console")
        assert session["secure"]
        assert session["httpOnly"]
        assert session["sameSite"] == "Lax"
        assert session["path"] == "/"
        assert urlsplit(stack.console).hostname == session["domain"]


def test_the_console_and_the_admin_api_each_answer_on_their_own_address(stack: Stack) -> None:
    trusted = stack.tenant.server.ssl_context()
    admin, console = stack.service.admin_url, stack.console.removesuffix("/console")
    assert httpx.get(f"{admin}/console/", verify=trusted).status_code == 404
    assert httpx.get(f"{console}/api/status", verify=trusted).status_code == 404
    assert httpx.get(f"{admin}/api/status", verify=trusted).status_code == 200
    signed_out = httpx.get(f"{console}/console/runs", verify=trusted)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fruns"
