"""How an invited guest signs in (docs/cloud.md): an administrator sets a password with
``PATCH passwordProfile``, the guest signs in with the UPN the invitation gave them."""

from __future__ import annotations

import httpx
from tests.support.cloud_server import CloudTenant
from tests.support.signin import public_client

GUEST_PASSWORD = "Gu3st!Passw0rd-2026"


def _password_grant(tenant: CloudTenant, upn: str, password: str) -> httpx.Response:
    with tenant.client() as http:
        return http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"client_id": public_client(tenant), "grant_type": "password",
                  "username": upn, "password": password, "scope": "User.Read"},
        )  # fmt: skip


def test_an_invited_guest_signs_in_after_an_administrator_sets_a_password(
    tenant: CloudTenant,
) -> None:
    with tenant.client(tenant.app_token(tenant.admin_app)) as admin:
        invitation = {
            "invitedUserEmailAddress": "ann@fabrikam.example",
            "inviteRedirectUrl": "https://apps.example",
        }
        invited = admin.post("/v1.0/invitations", json=invitation).json()["invitedUser"]
        select = {"$select": "id,userPrincipalName,userType"}
        guest = admin.get(f"/v1.0/users/{invited['id']}", params=select).json()
        upn = guest["userPrincipalName"]
        assert upn.startswith("ann_fabrikam.example#EXT#@")
        assert _password_grant(tenant, upn, GUEST_PASSWORD).status_code == 400  # no password yet
        profile = {"password": GUEST_PASSWORD, "forceChangePasswordNextSignIn": False}
        patched = admin.patch(f"/v1.0/users/{guest['id']}", json={"passwordProfile": profile})
        assert patched.status_code == 204
    answer = _password_grant(tenant, upn, GUEST_PASSWORD)
    assert answer.status_code == 200, answer.text
    with tenant.client(answer.json()["access_token"]) as me:
        mine = me.get("/v1.0/me").json()
    assert mine["id"] == guest["id"]
    assert guest["userType"] == "Guest"
    assert _password_grant(tenant, upn, "wrong").status_code == 400
