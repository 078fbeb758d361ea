"""Issue 7's "done when": partners and employees sign in with their AD password through a
running agent (MSAL's ROPC against the served cloud directory and a Samba AD DC)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from tests.support.cloud_server import CloudTenant
from tests.support.samba import USER_PASSWORD, SambaDC
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client, sync_user

from hybridsync.agent.runner import AgentRunner

pytestmark = [
    pytest.mark.samba,
    # MSAL discourages ROPC for public clients; the issue asks for exactly this flow.
    pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),
]


def _claims(result: dict[str, Any], key: str = "access_token") -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(result[key], options={"verify_signature": False})
    return claims


def _synced_from_ad(
    samba_dc: SambaDC, tenant: CloudTenant, upn: str, *, guest: bool
) -> dict[str, Any]:
    found = samba_dc.search(
        samba_dc.base_dn, f"(userPrincipalName={upn})", scope=2, attributes=["objectGUID"]
    )
    return sync_user(tenant, upn=upn, anchor=found[0][1]["objectGUID"][0], guest=guest)


@pytest.fixture
def new_partner(
    samba_dc: SambaDC, contoso: CloudTenant, agent: AgentRunner, request: pytest.FixtureRequest
) -> Callable[[], tuple[str, str]]:
    """An AD partner of this test, synced to the cloud: ``(dn, upn)``. Its sign-ins go
    through the pass-through agent, running whichever tests were selected."""
    assert agent.state.tenant == contoso.id
    suffix = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]
    ou = samba_dc.add_ou(f"T-signin-{suffix}")

    def make() -> tuple[str, str]:
        sam = f"p{suffix}"
        upn = f"{sam}@partners.contoso.com"
        dn = samba_dc.add_user(sam, ou_dn=ou, upn=upn)
        _synced_from_ad(samba_dc, contoso, upn, guest=True)
        return dn, upn

    return make


def test_partner_gets_guest_tokens_from_msal(
    samba_dc: SambaDC, contoso: CloudTenant, agent: AgentRunner
) -> None:
    user = _synced_from_ad(samba_dc, contoso, "wmoran@partners.contoso.com", guest=True)
    app = msal_app(contoso, public_client(contoso))
    before = agent.answered

    result = app.acquire_token_by_username_password(
        "wmoran@partners.contoso.com", USER_PASSWORD, scopes=[GRAPH_USER_READ]
    )

    assert "access_token" in result, result
    access, identity = _claims(result), _claims(result, "id_token")
    assert access["acct"] == 1
    assert access["oid"] == user["id"] == identity["oid"]
    assert access["tid"] == contoso.id
    assert access["upn"] == identity["preferred_username"] == "wmoran@partners.contoso.com"
    assert identity["name"] == user["displayName"]
    assert access["idp"] == access["iss"]
    assert access["scp"] == "User.Read"
    assert "refresh_token" in result
    assert agent.answered == before + 1  # validated on-premises, not by the cloud

    with contoso.client(result["access_token"]) as http:
        assert http.get("/v1.0/me").json()["id"] == user["id"]
        refused = http.get("/v1.0/users")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
        assert http.get("/v1.0/groups").status_code == 403


def test_wrong_password_fails(
    new_partner: Callable[[], tuple[str, str]], contoso: CloudTenant
) -> None:
    _, upn = new_partner()
    app = msal_app(contoso, public_client(contoso))

    result = app.acquire_token_by_username_password(
        upn, "Not-The-Passw0rd!", scopes=[GRAPH_USER_READ]
    )

    assert "access_token" not in result
    assert result["error"] == "invalid_grant"
    assert "AADSTS50126" in result["error_description"]


def test_password_changed_in_ad_applies_at_next_signin(
    samba_dc: SambaDC, new_partner: Callable[[], tuple[str, str]], contoso: CloudTenant
) -> None:
    dn, upn = new_partner()
    app = msal_app(contoso, public_client(contoso))
    assert "access_token" in app.acquire_token_by_username_password(
        upn, USER_PASSWORD, scopes=[GRAPH_USER_READ]
    )

    samba_dc.set_password(dn, "Chang3d!In-AD-only")  # no sync runs after this

    new = app.acquire_token_by_username_password(
        upn, "Chang3d!In-AD-only", scopes=[GRAPH_USER_READ]
    )
    # (The old password may still pass for a while: AD, and Samba, accept the previous
    # password for "old password allowed period", 60 minutes by default.)
    assert "access_token" in new, new
    assert _claims(new)["upn"] == upn


def test_disabled_account_fails_with_its_reason(
    samba_dc: SambaDC, new_partner: Callable[[], tuple[str, str]], contoso: CloudTenant
) -> None:
    dn, upn = new_partner()
    samba_dc.modify(dn, {"userAccountControl": 0x200 | 0x2})  # disabled in AD, not yet synced
    app = msal_app(contoso, public_client(contoso))

    result = app.acquire_token_by_username_password(upn, USER_PASSWORD, scopes=[GRAPH_USER_READ])

    assert result["error"] == "invalid_grant"
    assert "AADSTS50057" in result["error_description"]
    assert "disabled" in result["error_description"]


def test_must_change_password_fails_with_its_reason(
    samba_dc: SambaDC, new_partner: Callable[[], tuple[str, str]], contoso: CloudTenant
) -> None:
    dn, upn = new_partner()
    samba_dc.modify(dn, {"pwdLastSet": 0})
    app = msal_app(contoso, public_client(contoso))

    result = app.acquire_token_by_username_password(upn, USER_PASSWORD, scopes=[GRAPH_USER_READ])

    assert result["error"] == "invalid_grant"
    assert "AADSTS50144" in result["error_description"]


GRAPH_READ_USERS = "https://graph.microsoft.com/User.ReadBasic.All"


def test_employee_gets_member_tokens_and_reads_the_directory(
    samba_dc: SambaDC, contoso: CloudTenant, agent: AgentRunner
) -> None:
    _synced_from_ad(samba_dc, contoso, "avance@contoso.com", guest=False)
    app = msal_app(contoso, public_client(contoso))

    # Reading other users takes a scope beyond User.Read (which reaches only oneself).
    result = app.acquire_token_by_username_password(
        "avance@contoso.com", USER_PASSWORD, scopes=[GRAPH_USER_READ, GRAPH_READ_USERS]
    )

    assert _claims(result)["acct"] == 0
    with contoso.client(result["access_token"]) as http:
        assert http.get("/v1.0/users").status_code == 200
