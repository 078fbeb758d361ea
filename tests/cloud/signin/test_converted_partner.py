"""A synced partner (pass-through authentication, the real agent) who redeemed an invitation
by email: MSAL's password grant with her on-premises password is refused without the agent
being asked, and the sign-in page refuses it too; before redemption it still worked."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from tests.cloud.mailbox import Mailbox
from tests.cloud.signin.conftest import PARTNER_PASSWORD, FakeAD, synced_partner
from tests.support.cloud_server import CloudTenant
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client

from hybridsync.agent.runner import AgentRunner
from hybridsync.cloud.signin.page import WRONG_CREDENTIALS

# msal warns that the password grant is deprecated for public clients; it is the grant a
# client would still try with the old password.
pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
EMAIL = "partner@northwind.example"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _redeem(tenant: CloudTenant, redeem_url: str, mailbox: Mailbox) -> None:
    rd = redeem_url.partition("rd=")[2]
    with tenant.client() as browser:
        page = browser.get(redeem_url.removeprefix(tenant.server.base_url))
        token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        form = {"rd": rd, "csrf_token": token}
        assert browser.post("/redeem", data={**form, "step": "sendcode"}).status_code == 200
        code = mailbox.code_for(EMAIL)
        done = browser.post("/redeem", data={**form, "step": "verifycode", "code": code})
        assert done.status_code == 303


def _page_sign_in(tenant: CloudTenant, client_id: str, login: str, password: str) -> str:
    params = {"client_id": client_id, "redirect_uri": "http://localhost", "scope": "openid"}
    with tenant.client() as browser:
        path = f"/{tenant.id}/oauth2/v2.0/authorize"
        page = browser.get(path, params=params)
        token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        answer = browser.post(
            path, data={**params, "csrf_token": token, "login": login, "passwd": password}
        )
    assert answer.status_code == 200  # the page again, not a redirect with a code
    return html.unescape(answer.text)


def test_after_redemption_the_agent_is_not_asked_and_the_password_is_refused(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner, mailbox: Mailbox
) -> None:
    user = synced_partner(tenant, fake_ad)
    upn = str(user["userPrincipalName"])
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
        assert sync.patch(f"/v1.0/users/{user['id']}", json={"mail": EMAIL}).status_code == 204
    client = public_client(tenant)
    app = msal_app(tenant, client)
    before = app.acquire_token_by_username_password(upn, PARTNER_PASSWORD, [GRAPH_USER_READ])
    assert "access_token" in before, before
    assert fake_ad.checked == [user["onPremisesImmutableId"]]

    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        invitation = http.post("/v1.0/invitations", json={
            "invitedUserEmailAddress": EMAIL, "inviteRedirectUrl": "https://apps.example",
            "invitedUser": {"id": user["id"]}}).json()  # fmt: skip
    _redeem(tenant, invitation["inviteRedeemUrl"], mailbox)

    after = app.acquire_token_by_username_password(upn, PARTNER_PASSWORD, [GRAPH_USER_READ])
    assert after.get("error") == "invalid_grant"
    assert 50126 in after["error_codes"]
    assert WRONG_CREDENTIALS in _page_sign_in(tenant, client, upn, PARTNER_PASSWORD)
    assert fake_ad.checked == [user["onPremisesImmutableId"]]  # AD was not asked again


def test_the_code_sign_in_is_refused_to_forged_posts(tenant: CloudTenant) -> None:
    client = public_client(tenant)
    params = {"client_id": client, "redirect_uri": "http://localhost", "scope": "openid"}
    with httpx.Client(base_url=tenant.server.base_url, verify=tenant.server.ssl_context()) as b:
        answer = b.post(
            f"/{tenant.id}/oauth2/v2.0/authorize",
            data={**params, "login": EMAIL, "step": "sendcode", "csrf_token": "forged"},
        )
    assert answer.status_code == 403
