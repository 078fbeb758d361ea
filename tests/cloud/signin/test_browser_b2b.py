"""A synced partner becomes a B2B user, in headless Chromium against ``hybridsync cloud
serve``: invited with ``hybridsync cloud invite``, she redeems with a code the directory
emails through a real SMTP relay (``smtp.toml`` in the data directory), signs in with a new
code from then on, and her on-premises password (password hash sync) is refused."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import Result
from tests.cloud.mailbox import Mailbox
from tests.cloud.signin.test_browser import (
    Served,
    browser,  # noqa: F401  (a fixture, bound to this module's ``served``)
    redirect_listener,  # noqa: F401  (a fixture)
    served_directory,
)
from tests.support.signin import GRAPH_USER_READ
from typer.testing import CliRunner

from hybridsync.cli import app
from hybridsync.cloud import CloudService
from hybridsync.cloud.local import initialize, settings_for
from hybridsync.cloud.tls import ensure_local_tls
from hybridsync.core.password_hash_sync.hashes import derive_password_hash, nt_hash_of_password

AD_PASSWORD = "Partn3r!AD-Passw0rd"
PARTNER_UPN = "kim@partners.contoso.com"
PARTNER_EMAIL = "kim@fabrikam.example"
WRONG_CREDENTIALS = "Your account or password is incorrect. Please try again."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended:UserWarning"),
]


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    box = Mailbox.start(tmp_path_factory.mktemp("b2b-smtp"))
    yield box
    box.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, relay: Mailbox) -> Iterator[Served]:
    """The directory, with a partner synced from AD (her password hash included)."""
    data = tmp_path_factory.mktemp("b2b-cloud")
    initialize(data)
    tls = ensure_local_tls(data / "tls")
    smtp = relay.smtp_settings()
    (data / "smtp.toml").write_text(
        f'host = "{smtp.host}"\nport = {smtp.port}\nsecurity = "starttls"\n'
        f'sender = "{smtp.sender}"\nusername = "{smtp.username}"\n'
        f'password_file = "{smtp.password_file}"\nca_file = "{smtp.ca_file}"\n',
        "utf-8",
    )
    service = CloudService(settings_for(data))
    tenant = service.tenancy.create_tenant("contoso.com", ["partners.contoso.com"])
    native = service.tenancy.add_application(tenant.id, "native app", (), public_client=True)
    service.clients.register(
        native.application, redirect_uris=["http://localhost"], delegated=["User.Read"]
    )
    service.clients.consent(native.application, ["User.Read"])
    partner = service.users.create(
        tenant.id,
        {"accountEnabled": True, "displayName": "Kim Partner", "mailNickname": "kim",
         "userPrincipalName": PARTNER_UPN, "mail": PARTNER_EMAIL, "userType": "Guest",
         "onPremisesImmutableId": base64.b64encode(os.urandom(16)).decode()},
        synced=True, extra={},
    )  # fmt: skip
    wire = derive_password_hash(nt_hash_of_password(AD_PASSWORD)).to_wire()
    service.synced_passwords.store(tenant.id, partner["id"], wire)
    service.close()
    with served_directory(data) as base_url:
        yield Served(base_url, tls.ca_certificate, tenant.id, native.application.client_id,
                     PARTNER_UPN)  # fmt: skip


def _data_dir(served: Served) -> Path:
    return served.ca_path.parent.parent


def _invite(served: Served, *more: str, landing: str = "https://myapps.example/") -> Result:
    """``hybridsync cloud invite`` on the served directory's data (as its host would run it)."""
    return CliRunner().invoke(app, [
        "cloud", "invite", "--user", PARTNER_UPN, "--email", PARTNER_EMAIL,
        "--data-dir", str(_data_dir(served)), "--public-url", served.base_url,
        "--redirect-url", landing, "--json", *more,
    ])  # fmt: skip


def _sign_in_page(
    served: Served, context: Any, redirect_uri: str
) -> tuple[Any, Any, dict[str, Any]]:
    app = served.msal_app()
    flow = app.initiate_auth_code_flow([GRAPH_USER_READ], redirect_uri=redirect_uri)
    page = context.new_page()
    page.goto(flow["auth_uri"])
    return app, page, flow


def _with_password(served: Served, context: Any, redirect_uri: str) -> Any:
    _, page, _ = _sign_in_page(served, context, redirect_uri)
    page.fill("#login", PARTNER_UPN)
    page.fill("#passwd", AD_PASSWORD)
    page.click("#signin")
    return page


def test_a_synced_partner_redeems_by_email_and_signs_in_with_codes_only(
    served: Served,
    browser: Any,  # noqa: F811
    redirect_listener: tuple[str, list[dict[str, str]]],  # noqa: F811
    relay: Mailbox,
) -> None:
    redirect_uri, received = redirect_listener
    # Before: her AD password (synced hash) signs her in.
    before = _with_password(served, browser, redirect_uri)
    before.wait_for_selector("#done")
    assert len(received) == 1

    landing = f"{redirect_uri}welcome"
    invited = _invite(served, landing=landing)
    assert invited.exit_code == 0, invited.output
    invitation = json.loads(invited.stdout)
    assert invitation["user"] == PARTNER_UPN
    assert invitation["status"] == "PendingAcceptance"

    # Redemption: the link, "Send code", the code from the mail, and on to the app.
    page = browser.new_page()
    page.goto(invitation["redeem_url"])
    assert "k***@fabrikam.example" in (page.text_content("#notice") or "")
    page.click("#sendcode")
    page.fill("#code", relay.code_for(PARTNER_EMAIL, 1))
    page.click("#verifycode")
    page.wait_for_selector("#done")
    assert page.url == landing

    # The old password no longer signs her in: the same words as a wrong one.
    refused = _with_password(served, browser, redirect_uri)
    assert refused.text_content("#error") == WRONG_CREDENTIALS
    assert len(received) == 1

    # A code sent to her address does.
    app, page, flow = _sign_in_page(served, browser, redirect_uri)
    page.fill("#login", PARTNER_EMAIL)
    page.click("#emailcode")
    page.fill("#code", relay.code_for(PARTNER_EMAIL, 2))
    page.click("#verifycode")
    page.wait_for_selector("#done")
    assert len(received) == 2
    result = app.acquire_token_by_auth_code_flow(flow, received[1])
    assert "access_token" in result, result
    claims = jwt.decode(result["id_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == PARTNER_UPN  # the same account, the same UPN
    assert claims["tid"] == served.tenant_id

    # Invited again without --reset-redemption: refused, exit status 3.
    refused_again = _invite(served)
    assert refused_again.exit_code == 3
    assert "resetRedemption" in refused_again.stderr
    assert _invite(served, "--reset-redemption").exit_code == 0


def test_an_unknown_address_gets_the_same_code_page_and_no_mail(
    served: Served,
    browser: Any,  # noqa: F811
    redirect_listener: tuple[str, list[dict[str, str]]],  # noqa: F811
    relay: Mailbox,
) -> None:
    redirect_uri, received = redirect_listener
    _, page, _ = _sign_in_page(served, browser, redirect_uri)
    page.fill("#login", "nobody@fabrikam.example")
    page.click("#emailcode")
    notice = page.text_content("#notice")
    assert notice == (
        "If nobody@fabrikam.example signs in with email codes, we sent a code to it."
        " Enter it below."
    )
    page.fill("#code", "12345678")
    page.click("#verifycode")
    assert "That code didn't work" in (page.text_content("#error") or "")
    assert relay.sent_to("nobody@fabrikam.example") == []
    assert received == []
