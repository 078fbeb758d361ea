"""Inviting an existing (synced, local-credential) user to B2B collaboration, over HTTPS:
the conversion keeps the object, the redemption goes through an emailed one-time passcode
(a real SMTP relay on loopback), and afterwards only codes sign the user in."""

from __future__ import annotations

import base64
import html
import os
import re
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.cloud.mailbox import Mailbox
from tests.support.cloud_server import CloudTenant
from tests.support.signin import public_client

from hybridsync.cloud import b2b
from hybridsync.cloud.db import tenants
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.roles import GLOBAL_ADMINISTRATOR, GUEST_INVITER, USER_ADMINISTRATOR
from hybridsync.cloud.signin.otp import MAX_ATTEMPTS, SIGN_IN
from hybridsync.cloud.signin.otp_page import WRONG_CODE
from hybridsync.cloud.signin.redemption import redeem_with_email
from hybridsync.cloud.signin.service import signin_of

PASSWORD = "Str0ng!Passw0rd"
REDIRECT = "https://apps.example/welcome"
INVITING_SCOPES = ("User.Read", "User.Invite.All", "Directory.ReadWrite.All")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _email() -> str:
    return f"kim.{uuid.uuid4().hex[:8]}@fabrikam.example"


def synced_partner(tenant: CloudTenant, email: str) -> dict[str, Any]:
    """A partner account as the sync engine creates it: on-premises anchor, mail = her
    own organization's address, a Guest."""
    alias = f"p{uuid.uuid4().hex[:8]}"
    body = {
        "accountEnabled": True, "displayName": "Kim Partner", "mailNickname": alias,
        "userPrincipalName": f"{alias}@{tenant.partner_domain}", "mail": email,
        "onPremisesImmutableId": base64.b64encode(os.urandom(16)).decode(), "userType": "Guest",
    }  # fmt: skip
    with tenant.client(tenant.app_token(tenant.sync_app)) as http:
        answer = http.post("/v1.0/users", json=body)
    assert answer.status_code == 201, answer.text
    user: dict[str, Any] = answer.json()
    return user | {"onPremisesImmutableId": body["onPremisesImmutableId"]}


def cloud_user(tenant: CloudTenant, email: str | None = None) -> dict[str, Any]:
    alias = f"c{uuid.uuid4().hex[:8]}"
    extra = {"mail": email} if email else {}
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.post("/v1.0/users", json=tenant.user_body(alias, **extra))
    assert answer.status_code == 201, answer.text
    user: dict[str, Any] = answer.json()
    return user


def invite(
    token: str, tenant: CloudTenant, user_id: str | None, email: str, **more: Any
) -> httpx.Response:
    body: dict[str, Any] = {"invitedUserEmailAddress": email, "inviteRedirectUrl": REDIRECT, **more}
    if user_id is not None:
        body["invitedUser"] = {"id": user_id}
    with tenant.client(token) as http:
        return http.post("/v1.0/invitations", json=body)


def admin(tenant: CloudTenant) -> str:
    return tenant.app_token(tenant.admin_app)


def read_user(tenant: CloudTenant, user_id: str, select: str) -> dict[str, Any]:
    with tenant.client(admin(tenant)) as http:
        answer = http.get(f"/v1.0/users/{user_id}", params={"$select": select})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


class Redemption:
    """A browser-like client of the redemption pages (cookies kept, forms posted)."""

    def __init__(self, tenant: CloudTenant, invitation: dict[str, Any]) -> None:
        self.http = tenant.client()
        self.rd = invitation["inviteRedeemUrl"].partition("rd=")[2]
        self.url = invitation["inviteRedeemUrl"].removeprefix(tenant.server.base_url)
        self.csrf = ""

    def open(self) -> httpx.Response:
        page = self.http.get(self.url)
        if page.status_code == 200:
            self.csrf = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        return page

    def post(self, step: str, code: str = "", csrf: str | None = None) -> httpx.Response:
        form = {"rd": self.rd, "step": step, "code": code, "csrf_token": csrf or self.csrf}
        return self.http.post("/redeem", data=form)

    def __enter__(self) -> Redemption:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()


def redeem(tenant: CloudTenant, invitation: dict[str, Any], mailbox: Mailbox) -> httpx.Response:
    email = invitation["invitedUserEmailAddress"]
    already = len(mailbox.sent_to(email))
    with Redemption(tenant, invitation) as flow:
        assert flow.open().status_code == 200
        assert flow.post("sendcode").status_code == 200
        return flow.post("verifycode", mailbox.code_for(email, already + 1))


def password_grant(
    tenant: CloudTenant, client_id: str, username: str, password: str
) -> httpx.Response:
    with tenant.client() as http:
        return http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"grant_type": "password", "client_id": client_id, "username": username,
                  "password": password, "scope": "https://graph.microsoft.com/User.Read openid"},
        )  # fmt: skip


# -- the conversion -------------------------------------------------------------------


def test_conversion_keeps_object_id_upn_memberships_and_user_type(tenant: CloudTenant) -> None:
    email = _email()
    partner = synced_partner(tenant, email)
    with tenant.client(admin(tenant)) as http:
        group = http.post("/v1.0/groups", json={
            "displayName": "Partners", "mailEnabled": False, "mailNickname": "partners",
            "securityEnabled": True}).json()  # fmt: skip
        ref = {"@odata.id": f"{tenant.server.base_url}/v1.0/directoryObjects/{partner['id']}"}
        assert http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref).status_code == 204

    answer = invite(admin(tenant), tenant, partner["id"], email)

    assert answer.status_code == 201, answer.text
    invitation = answer.json()
    assert invitation["invitedUser"] == {"id": partner["id"]}
    assert invitation["status"] == "PendingAcceptance"
    assert invitation["invitedUserType"] == "Guest"
    assert "invitedExistingUser" not in invitation  # internal bookkeeping is never answered
    user = read_user(tenant, partner["id"], "id,userPrincipalName,userType,externalUserState,"
                     "onPremisesImmutableId,onPremisesSyncEnabled,mail")  # fmt: skip
    assert user["userPrincipalName"] == partner["userPrincipalName"]
    assert user["userType"] == "Guest"
    assert user["externalUserState"] == "PendingAcceptance"
    assert user["onPremisesImmutableId"] == partner["onPremisesImmutableId"]
    assert user["onPremisesSyncEnabled"] is True
    with tenant.client(admin(tenant)) as http:
        members = http.get(f"/v1.0/groups/{group['id']}/members").json()["value"]
    assert [m["id"] for m in members] == [partner["id"]]


def test_a_member_keeps_member_as_user_type(tenant: CloudTenant) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    answer = invite(admin(tenant), tenant, member["id"], email, invitedUserType="Guest")
    assert answer.status_code == 201, answer.text
    assert read_user(tenant, member["id"], "userType")["userType"] == "Member"


def test_redemption_by_emailed_code_then_codes_only(tenant: CloudTenant, mailbox: Mailbox) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    client_id = tenant.add_public_client().application.client_id
    upn = member["userPrincipalName"]
    assert password_grant(tenant, client_id, upn, PASSWORD).status_code == 200
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    # Until the invitation is redeemed, the user's own password still works.
    assert password_grant(tenant, client_id, upn, PASSWORD).status_code == 200

    with Redemption(tenant, invitation) as flow:
        first = flow.open()
        assert first.status_code == 200
        assert f"k***@{email.partition('@')[2]}" in first.text  # the address, masked
        assert first.headers["x-frame-options"] == "DENY"
        sent = flow.post("sendcode")
        assert sent.status_code == 200
        assert 'id="code"' in sent.text
        code = mailbox.code_for(email)
        message = mailbox.wait_for(email)
        assert message["From"] == "no-reply@contoso.example"
        wrong = flow.post("verifycode", f"{(int(code) + 1) % 10**8:08d}")
        assert WRONG_CODE in html.unescape(wrong.text)
        done = flow.post("verifycode", code)
        assert done.status_code == 303
        assert done.headers["location"] == REDIRECT
        assert flow.open().status_code == 404  # the link is used up
        assert flow.post("verifycode", code).status_code == 404

    user = read_user(tenant, member["id"], "id,userPrincipalName,externalUserState,identities")
    assert user["externalUserState"] == "Accepted"
    assert user["userPrincipalName"] == upn
    assert {"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": email} in user[
        "identities"
    ]
    refused = password_grant(tenant, client_id, upn, PASSWORD)
    assert refused.status_code == 400
    assert refused.json()["error_codes"] == [50126]  # the same words as a wrong password


def test_neither_the_code_nor_the_relay_password_is_logged(
    tenant: CloudTenant, mailbox: Mailbox, capfd: pytest.CaptureFixture[str]
) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    assert redeem(tenant, invitation, mailbox).status_code == 303
    code = mailbox.code_for(email)
    printed = capfd.readouterr()
    logs = printed.out + printed.err
    assert "redemption.completed" in logs  # the log is there, and says what happened
    assert code not in logs
    assert mailbox.password_file.read_text("utf-8").strip() not in logs
    assert invitation["inviteRedeemUrl"].partition("rd=")[2] not in logs


def test_the_code_is_bound_to_the_browser_and_dies_after_wrong_tries(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    with Redemption(tenant, invitation) as flow:
        flow.open()
        # Another site's form, without this browser's token, is refused before anything.
        assert flow.post("sendcode", csrf="forged").status_code == 403
        assert mailbox.sent_to(email) == []
        flow.post("sendcode")
        code = mailbox.code_for(email)
        wrong = f"{(int(code) + 7) % 10**8:08d}"
        for _ in range(MAX_ATTEMPTS):
            assert flow.post("verifycode", wrong).status_code == 200
        assert WRONG_CODE in html.unescape(flow.post("verifycode", code).text)  # used up
    assert read_user(tenant, member["id"], "externalUserState")["externalUserState"] == (
        "PendingAcceptance"
    )


def test_a_forged_redeem_link_is_not_found(tenant: CloudTenant) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    forged = dict(invitation, inviteRedeemUrl=invitation["inviteRedeemUrl"][:-4] + "AAAA")
    with Redemption(tenant, forged) as flow:
        assert flow.open().status_code == 404
        assert flow.post("sendcode", csrf="x").status_code == 404


def test_reset_redemption_invites_again_on_the_same_object(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    partner = synced_partner(tenant, email)
    first = invite(admin(tenant), tenant, partner["id"], email).json()
    assert redeem(tenant, first, mailbox).status_code == 303

    again = invite(admin(tenant), tenant, partner["id"], email)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "Request_BadRequest"
    assert again.json()["error"]["details"][0]["target"] == "resetRedemption"

    reset = invite(admin(tenant), tenant, partner["id"], email, resetRedemption=True)
    assert reset.status_code == 201, reset.text
    second = reset.json()
    assert second["invitedUser"]["id"] == partner["id"]
    assert second["resetRedemption"] is True
    assert second["inviteRedeemUrl"] != first["inviteRedeemUrl"]
    state = read_user(tenant, partner["id"], "externalUserState")
    assert state["externalUserState"] == "PendingAcceptance"
    assert redeem(tenant, second, mailbox).status_code == 303
    assert read_user(tenant, partner["id"], "externalUserState")["externalUserState"] == "Accepted"


def test_send_invitation_message_mails_the_link(tenant: CloudTenant, mailbox: Mailbox) -> None:
    email = _email()
    partner = synced_partner(tenant, email)
    info = {"customizedMessageBody": "Welcome to Project X."}
    answer = invite(admin(tenant), tenant, partner["id"], email,
                    sendInvitationMessage=True, invitedUserMessageInfo=info)  # fmt: skip
    assert answer.status_code == 201, answer.text
    body = mailbox.wait_for(email).get_content()
    assert answer.json()["inviteRedeemUrl"] in body
    assert "Welcome to Project X." in body
    assert redeem(tenant, answer.json(), mailbox).status_code == 303  # the code is mail #2


def test_a_newer_invitation_makes_the_older_link_useless(tenant: CloudTenant) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    older = invite(admin(tenant), tenant, member["id"], email).json()
    newer = invite(admin(tenant), tenant, member["id"], email).json()
    with Redemption(tenant, older) as flow:
        assert flow.open().status_code == 404
    with Redemption(tenant, newer) as flow:
        assert flow.open().status_code == 200


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "target"),
    [
        ({"resetRedemption": True}, 400, "invitedUser"),
        ({"invitedUser": {"id": 42}}, 400, "invitedUser"),
        ({"invitedUser": {"id": "x", "userPrincipalName": "y@z.example"}}, 400, "invitedUser"),
        ({"invitedUser": {"id": str(uuid.uuid4())}}, 404, None),
    ],
)
def test_malformed_or_unknown_invited_users_are_refused(
    tenant: CloudTenant, body: dict[str, Any], status: int, target: str | None
) -> None:
    answer = invite(admin(tenant), tenant, None, _email(), **body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == ("Request_ResourceNotFound" if status == 404 else "Request_BadRequest")
    if target is not None:
        assert error["details"][0]["target"] == target


def test_the_address_must_already_be_the_users_mail(tenant: CloudTenant) -> None:
    partner = synced_partner(tenant, _email())
    # An attacker's address would hand the account over: refused, and nothing changes.
    answer = invite(admin(tenant), tenant, partner["id"], "mallory@evil.example")
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["target"] == "invitedUserEmailAddress"
    assert read_user(tenant, partner["id"], "externalUserState").get("externalUserState") is None


def test_an_address_another_user_signs_in_with_is_refused(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    first = cloud_user(tenant, email)
    assert (
        redeem(
            tenant, invite(admin(tenant), tenant, first["id"], email).json(), mailbox
        ).status_code
        == 303
    )
    second = synced_partner(tenant, email.upper())
    answer = invite(admin(tenant), tenant, second["id"], email.upper())
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0] == {
        "code": "ObjectConflict",
        "message": "Another object with the same value for property invitedUserEmailAddress"
        " already exists.",
        "target": "invitedUserEmailAddress",
    }


def test_without_a_relay_the_page_says_so_and_nothing_changes(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    service = tenant.server.service
    configured = service.settings
    service.settings = configured.model_copy(update={"smtp": None})
    try:
        with Redemption(tenant, invitation) as flow:
            flow.open()
            answer = flow.post("sendcode")
    finally:
        service.settings = configured
    assert answer.status_code == 200
    assert "no SMTP relay is configured" in answer.text
    assert mailbox.sent_to(email) == []


# -- who may invite an existing user ---------------------------------------------------


def _delegated(tenant: CloudTenant, user: dict[str, Any]) -> str:
    return tenant.mint_user_token(user["id"], INVITING_SCOPES)


def test_a_user_administrator_converts_a_partner(tenant: CloudTenant) -> None:
    operator = cloud_user(tenant)
    tenant.server.service.role_assignments.assign(tenant.id, operator["id"], USER_ADMINISTRATOR)
    email = _email()
    partner = synced_partner(tenant, email)
    assert invite(_delegated(tenant, operator), tenant, partner["id"], email).status_code == 201


def test_members_guests_and_guest_inviters_cannot_convert(tenant: CloudTenant) -> None:
    """Each may invite a new guest (the tenant's default policy), none may take over an
    existing account by redirecting its sign-in to an address of their choosing."""
    member = cloud_user(tenant)
    inviter = cloud_user(tenant)
    tenant.server.service.role_assignments.assign(tenant.id, inviter["id"], GUEST_INVITER)
    guest = synced_partner(tenant, _email())
    email = _email()
    victim = synced_partner(tenant, email)
    for caller in (member, inviter, guest):
        token = _delegated(tenant, caller)
        refused = invite(token, tenant, victim["id"], email)
        assert refused.status_code == 403, caller
        assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
        assert invite(token, tenant, None, _email()).status_code == 201
    # Not even their own account (a member moving their own sign-in elsewhere).
    own = cloud_user(tenant, email_self := _email())
    assert invite(_delegated(tenant, own), tenant, own["id"], email_self).status_code == 403
    assert read_user(tenant, victim["id"], "externalUserState").get("externalUserState") is None


def test_a_user_administrator_cannot_convert_a_global_administrator(tenant: CloudTenant) -> None:
    operator = cloud_user(tenant)
    tenant.server.service.role_assignments.assign(tenant.id, operator["id"], USER_ADMINISTRATOR)
    email = _email()
    boss = cloud_user(tenant, email)
    tenant.server.service.role_assignments.assign(tenant.id, boss["id"], GLOBAL_ADMINISTRATOR)
    answer = invite(_delegated(tenant, operator), tenant, boss["id"], email)
    assert answer.status_code == 403
    # Named by UPN instead of id, the account would escape the role check: not an id.
    by_name = invite(_delegated(tenant, operator), tenant, boss["userPrincipalName"], email)
    assert by_name.status_code == 400
    assert by_name.json()["error"]["details"][0]["target"] == "invitedUser"
    chief = cloud_user(tenant)
    tenant.server.service.role_assignments.assign(tenant.id, chief["id"], GLOBAL_ADMINISTRATOR)
    assert invite(_delegated(tenant, chief), tenant, boss["id"], email).status_code == 201


def test_applications_need_a_user_write_permission_to_convert(tenant: CloudTenant) -> None:
    email = _email()
    partner = synced_partner(tenant, email)
    invite_only = tenant.app_token(tenant.add_app(["User.Invite.All"]))
    assert invite(invite_only, tenant, partner["id"], email).status_code == 403
    assert invite(invite_only, tenant, None, _email()).status_code == 201
    writer = tenant.app_token(tenant.add_app(["User.Invite.All", "User.ReadWrite.All"]))
    assert invite(writer, tenant, partner["id"], email).status_code == 201


def test_an_unknown_id_is_refused_before_anything_for_those_who_may_not_convert(
    tenant: CloudTenant,
) -> None:
    """A plain member learns nothing about which ids exist: 403 either way."""
    member = cloud_user(tenant)
    token = _delegated(tenant, member)
    assert invite(token, tenant, str(uuid.uuid4()), _email()).status_code == 403


# -- after redemption: who owns mail and the password hash --------------------------------

WIRE = "v1;PPH1_MD4," + "ab" * 10 + ",1000," + "cd" * 32 + ";"


def _upload_hash(tenant: CloudTenant, user_id: str) -> dict[str, Any]:
    with tenant.client(tenant.app_token(tenant.sync_app)) as http:
        answer = http.post(
            "/v1.0/hybridsync/passwordHashes",
            json={"value": [{"userId": user_id, "passwordHash": WIRE}]},
        )
    assert answer.status_code == 200, answer.text
    item: dict[str, Any] = answer.json()["value"][0]
    return item


def _policy(tenant: CloudTenant, body: dict[str, Any]) -> httpx.Response:
    with tenant.client(admin(tenant)) as http:
        return http.patch("/v1.0/policies/signInPolicy", json=body)


def test_converted_users_setting_decides_who_owns_mail_and_password_hashes(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    partner = synced_partner(tenant, email)
    invitation = invite(admin(tenant), tenant, partner["id"], email).json()
    assert redeem(tenant, invitation, mailbox).status_code == 303
    service = tenant.server.service
    sync = tenant.app_token(tenant.sync_app)

    with tenant.client(admin(tenant)) as http:
        assert http.get("/v1.0/policies/signInPolicy").json()["convertedUsers"] == "sync"
    assert _upload_hash(tenant, partner["id"]) == {"userId": partner["id"], "status": 204}
    assert service.synced_passwords.get(tenant.id, partner["id"]) == WIRE

    assert _policy(tenant, {"convertedUsers": "everyone"}).status_code == 400
    assert _policy(tenant, {"convertedUsers": "cloud"}).status_code == 204
    with tenant.client(sync) as http:
        moved = http.patch(f"/v1.0/users/{partner['id']}", json={"mail": "kim@elsewhere.example"})
        assert moved.status_code == 400
        assert moved.json()["error"]["details"][0]["target"] == "mail"
        # The same mail, and every other attribute, still flow.
        same = http.patch(
            f"/v1.0/users/{partner['id']}", json={"mail": email, "displayName": "Kim P."}
        )
        assert same.status_code == 204
    service.synced_passwords.store(tenant.id, partner["id"], "v1;PPH1_MD4,00,1,00;")
    assert _upload_hash(tenant, partner["id"])["status"] == 204  # acknowledged, dropped
    assert service.synced_passwords.get(tenant.id, partner["id"]) != WIRE
    assert read_user(tenant, partner["id"], "displayName")["displayName"] == "Kim P."

    # A synced user who never redeemed is not concerned.
    other_email = _email()
    other = synced_partner(tenant, other_email)
    with tenant.client(sync) as http:
        answer = http.patch(f"/v1.0/users/{other['id']}", json={"mail": _email()})
        assert answer.status_code == 204
    assert _upload_hash(tenant, other["id"])["status"] == 204
    assert service.synced_passwords.get(tenant.id, other["id"]) == WIRE


# -- what a redemption, and a reset, take away ------------------------------------------


def _refresh(tenant: CloudTenant, client_id: str, token: str) -> httpx.Response:
    with tenant.client() as http:
        return http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token},
        )


def _refresh_token_by_password(tenant: CloudTenant, client_id: str, upn: str) -> str:
    with tenant.client() as http:
        answer = http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"grant_type": "password", "client_id": client_id, "username": upn,
                  "password": PASSWORD, "scope": "User.Read openid offline_access"},
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["refresh_token"]
    return token


def test_redemption_revokes_refresh_tokens_obtained_with_the_password(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    client_id = tenant.add_public_client().application.client_id
    kept = _refresh_token_by_password(tenant, client_id, member["userPrincipalName"])
    rotated = _refresh(tenant, client_id, kept)
    assert rotated.status_code == 200, rotated.text  # it works until the redemption
    stolen = rotated.json()["refresh_token"]
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    assert redeem(tenant, invitation, mailbox).status_code == 303

    refused = _refresh(tenant, client_id, stolen)

    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_reset_redemption_locks_the_previous_mailbox_out(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    first = invite(admin(tenant), tenant, member["id"], email).json()
    assert redeem(tenant, first, mailbox).status_code == 303
    otp = signin_of(tenant.server.service).otp
    assert otp.user_for_email(tenant.id, email) == member["id"]
    live = otp.issue(tenant.id, member["id"], SIGN_IN)
    assert live is not None

    reset = invite(admin(tenant), tenant, member["id"], email, resetRedemption=True)

    assert reset.status_code == 201, reset.text
    assert otp.user_for_email(tenant.id, email) is None  # "Email me a code" finds nobody
    assert otp.check(tenant.id, member["id"], SIGN_IN, live) is False  # the live code died
    identities = read_user(tenant, member["id"], "identities")["identities"]
    assert all(i.get("issuer") != "mail" for i in identities)
    assert redeem(tenant, reset.json(), mailbox).status_code == 303
    assert otp.user_for_email(tenant.id, email) == member["id"]


def test_a_line_break_in_the_tenant_name_does_not_break_sending_the_code(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    with tenant.server.service.db.write() as conn:
        conn.execute(
            sa.update(tenants)
            .where(tenants.c.id == tenant.id)
            .values(display_name="Contoso\r\nBcc: victim@evil.example")
        )
    email = _email()
    member = cloud_user(tenant, email)
    invitation = invite(admin(tenant), tenant, member["id"], email).json()
    with Redemption(tenant, invitation) as flow:
        assert flow.open().status_code == 200
        sent = flow.post("sendcode")
    assert sent.status_code == 200
    assert mailbox.wait_for(email)["Subject"] == "Your Contoso Bcc: victim@evil.example code"


def _code_sign_in_page(tenant: CloudTenant, email: str, mailbox: Mailbox, before: Any) -> Any:
    """The sign-in page's "Email me a sign-in code", then the code typed back after
    ``before()`` ran: the answer to the code."""
    params = {"client_id": public_client(tenant), "redirect_uri": "http://localhost",
              "scope": "openid"}  # fmt: skip
    path = f"/{tenant.id}/oauth2/v2.0/authorize"
    already = len(mailbox.sent_to(email))
    with tenant.client() as browser:
        token = _CSRF.search(browser.get(path, params=params).text).group(1)  # type: ignore[union-attr]
        form = {**params, "csrf_token": token, "login": email}
        assert browser.post(path, data={**form, "step": "sendcode"}).status_code == 200
        code = mailbox.code_for(email, already + 1)
        before()
        return browser.post(path, data={**form, "step": "verifycode", "code": code})


def test_a_deleted_users_address_signs_nobody_in_and_can_be_given_to_another(
    tenant: CloudTenant, mailbox: Mailbox
) -> None:
    email = _email()
    gone = cloud_user(tenant, email)
    assert (
        redeem(tenant, invite(admin(tenant), tenant, gone["id"], email).json(), mailbox).status_code
        == 303
    )

    def delete() -> None:
        with tenant.client(admin(tenant)) as http:
            assert http.delete(f"/v1.0/users/{gone['id']}").status_code == 204

    answer = _code_sign_in_page(tenant, email, mailbox, delete)

    assert answer.status_code == 200  # the page again, with the words of a wrong code
    assert WRONG_CODE in html.unescape(answer.text)
    with tenant.client(admin(tenant)) as http:
        purged = http.delete(f"/v1.0/directory/deletedItems/{gone['id']}")
    assert purged.status_code == 204
    newcomer = cloud_user(tenant, email)
    again = invite(admin(tenant), tenant, newcomer["id"], email)
    assert again.status_code == 201, again.text
    assert redeem(tenant, again.json(), mailbox).status_code == 303


def test_an_invitation_superseded_after_it_was_opened_cannot_be_completed(
    tenant: CloudTenant,
) -> None:
    email = _email()
    member = cloud_user(tenant, email)
    older = invite(admin(tenant), tenant, member["id"], email).json()
    service = tenant.server.service
    opened = b2b.open_invitation(service, older["inviteRedeemUrl"].partition("rd=")[2])
    assert opened is not None
    # Between checking the code and completing, an administrator invites again.
    assert invite(admin(tenant), tenant, member["id"], email).status_code == 201

    with pytest.raises(GraphError) as refused:
        redeem_with_email(service, opened)

    assert refused.value.status == 404
    assert signin_of(service).otp.user_for_email(tenant.id, email) is None
    state = read_user(tenant, member["id"], "externalUserState")["externalUserState"]
    assert state == "PendingAcceptance"
    assert b2b.complete(service, opened) is False  # the guest path decides the same way
