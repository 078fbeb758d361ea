"""Invitations (B2B): a new guest, or an existing user invited to sign in as a B2B user.

An existing user (typically a synced partner account with a local password) is invited by
its object id, as Microsoft documents for internal users: the object id, UPN, group
memberships and user type are kept; the invitation names the address the user receives
codes at, which must already be the user's ``mail``. When the user redeems it (with an email
one-time passcode, see ``signin.redemption``), the local password stops working for the
cloud. ``resetRedemption`` invites a user who already redeemed again, on the same object.

The Graph route and ``hybridsync cloud invite`` both come here; the route authorizes first.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hybridsync.cloud.db import invitations
from hybridsync.cloud.directory import iso
from hybridsync.cloud.errors import ErrorDetail, bad_request, conflict, invalid_value
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.converted import MAIL_IDENTITY_ISSUER
from hybridsync.cloud.signin.service import signin_of

_EMAIL = re.compile(
    r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$"
)
EXISTING_USER = "invitedExistingUser"
"""Kept with a stored invitation (never answered): it is redeemed with an email code."""


@dataclass(frozen=True, slots=True)
class InvitationRequest:
    """What an invitation asks for, checked for shape already (``api.invitations``)."""

    email: str
    redirect_url: str
    display_name: str | None = None
    user_type: str | None = None
    send_message: bool = False
    message_info: dict[str, Any] | None = None
    existing_user_id: str | None = None
    reset_redemption: bool = False


def check_addresses(email: object, redirect_url: str) -> None:
    """The invited address must be an email address, and the landing page an http(s) URL
    (never ``javascript:`` or ``data:``): for the Graph route and the CLI alike (400)."""
    if not isinstance(email, str) or not _EMAIL.match(email):
        raise invalid_value("invitedUserEmailAddress", "Invitation")
    if not redirect_url.startswith(("https://", "http://")):
        raise invalid_value("inviteRedirectUrl", "Invitation")


def refuse_existing_user(
    service: CloudService, tenant_id: str, user: dict[str, Any], request: InvitationRequest
) -> None:
    """The documented refusals of inviting an existing user (400, with the reason)."""
    if user.get("externalUserState") == "Accepted" and not request.reset_redemption:
        raise bad_request(
            "The user has already redeemed an invitation. Set resetRedemption to invite"
            " them again.",
            ErrorDetail("InvalidValue", "The invitation was already redeemed.", "resetRedemption"),
        )
    mail = str(user.get("mail") or "")
    if mail.lower() != request.email.lower():
        message = (
            "The invited user's mail property must hold the invitation's email address"
            " before an existing user can be invited."
        )
        raise bad_request(message, ErrorDetail("InvalidValue", message, "invitedUserEmailAddress"))
    owner = signin_of(service).otp.user_for_email(tenant_id, request.email)
    if owner is not None and owner != user["id"]:
        raise conflict("invitedUserEmailAddress")


def record(
    service: CloudService,
    tenant_id: str,
    base_url: str,
    user: dict[str, Any],
    request: InvitationRequest,
) -> dict[str, Any]:
    """Store the invitation (its redeem code hashed) and answer it as Graph does."""
    invitation_id = str(uuid.uuid4())
    code = secrets.token_urlsafe(24)
    invitation = {
        "id": invitation_id,
        "inviteRedeemUrl": f"{base_url}/redeem?rd={invitation_id}.{code}",
        "invitedUserDisplayName": user.get("displayName"),
        "invitedUserType": user.get("userType"),
        "invitedUserEmailAddress": request.email,
        "sendInvitationMessage": request.send_message,
        "resetRedemption": request.reset_redemption,
        "inviteRedirectUrl": request.redirect_url,
        "status": "PendingAcceptance",
        "invitedUserMessageInfo": request.message_info
        or {"messageLanguage": None, "customizedMessageBody": None, "ccRecipients": []},
        "invitedUser": {"id": user["id"]},
    }
    stored = invitation | {EXISTING_USER: request.existing_user_id is not None}
    with service.db.write() as conn:
        conn.execute(
            sa.insert(invitations).values(
                id=invitation_id,
                tenant_id=tenant_id,
                user_id=user["id"],
                redeem_code_hash=hashlib.sha256(code.encode()).hexdigest(),
                data=stored,
            )
        )
    return invitation


def invite_existing(
    service: CloudService, tenant_id: str, base_url: str, request: InvitationRequest
) -> dict[str, Any]:
    """Invite the existing user ``request.existing_user_id`` (404 if there is none)."""
    user_id = str(request.existing_user_id)
    user = service.users.get(tenant_id, user_id)
    refuse_existing_user(service, tenant_id, user, request)
    pending: dict[str, Any] = {
        "externalUserState": "PendingAcceptance",
        "externalUserStateChangeDateTime": iso(utcnow()),
    }
    if request.reset_redemption:
        pending["identities"] = without_mail_identity(user)
    user = service.users.update(
        tenant_id,
        user["id"],
        pending,
        lambda current: refuse_existing_user(service, tenant_id, current, request),
        synced=False,
    )
    supersede_open_invitations(service, tenant_id, user["id"])
    if request.reset_redemption:
        forget_redemption(service, tenant_id, user["id"])
    return record(service, tenant_id, base_url, user, request)


def without_mail_identity(user: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in user.get("identities") or [] if i.get("issuer") != MAIL_IDENTITY_ISSUER]


def forget_redemption(service: CloudService, tenant_id: str, user_id: str) -> None:
    """The previous redemption no longer signs the user in: no code to the old address, no
    refresh token, until the new link is redeemed."""
    signin = signin_of(service)
    signin.otp.forget_user(tenant_id, user_id)
    signin.store.revoke_refresh(tenant_id, user_id)


def supersede_open_invitations(service: CloudService, tenant_id: str, user_id: str) -> None:
    """A new invitation replaces the user's open ones: an older link stops working."""
    with service.db.write() as conn:
        rows = conn.execute(
            sa.select(invitations.c.id, invitations.c.data).where(
                invitations.c.tenant_id == tenant_id, invitations.c.user_id == user_id
            )
        ).all()
        for row in rows:
            if row.data.get("status") == "PendingAcceptance":
                conn.execute(
                    sa.update(invitations)
                    .where(invitations.c.id == row.id)
                    .values(data=dict(row.data) | {"status": "Error"})
                )


def new_guest(
    service: CloudService, tenant_id: str, base_url: str, request: InvitationRequest
) -> dict[str, Any]:
    """A new guest user for ``request.email``, with an ``#EXT#`` UPN, pending acceptance."""
    email = request.email
    tenant = service.tenancy.tenant(tenant_id)
    alias = email.replace("@", "_")
    upn = f"{alias}#EXT#@{tenant.initial_domain}"
    fields = {
        "userPrincipalName": upn,
        "displayName": request.display_name or email,
        "mailNickname": alias.replace("#", "_")[:64],
        "mail": email,
        "otherMails": [email],
        "accountEnabled": True,
        "userType": request.user_type or "Guest",
        "identities": [
            {"signInType": "userPrincipalName", "issuer": tenant.initial_domain,
             "issuerAssignedId": upn},
        ],
    }  # fmt: skip
    pending = {
        "externalUserState": "PendingAcceptance",
        "externalUserStateChangeDateTime": iso(utcnow()),
    }
    user = service.users.create(
        tenant_id, fields, synced=False, extra={"creationType": "Invitation", **pending}
    )
    return record(service, tenant_id, base_url, user, request)


@dataclass(frozen=True, slots=True)
class OpenInvitation:
    id: str
    tenant_id: str
    user_id: str
    data: dict[str, Any]

    @property
    def for_existing_user(self) -> bool:
        return bool(self.data.get(EXISTING_USER))

    @property
    def email(self) -> str:
        return str(self.data["invitedUserEmailAddress"])

    @property
    def redirect_url(self) -> str:
        return str(self.data["inviteRedirectUrl"])


def open_invitation(service: CloudService, rd: str) -> OpenInvitation | None:
    """The pending invitation a redeem link (``<id>.<secret>``) names, if the secret is right."""
    invitation_id, _, code = rd.partition(".")
    with service.db.read() as conn:
        row = conn.execute(
            sa.select(invitations).where(invitations.c.id == invitation_id[:36])
        ).one_or_none()
    digest = hashlib.sha256(code.encode()).hexdigest()
    if row is None or not secrets.compare_digest(digest, row.redeem_code_hash):
        return None
    if row.data.get("status") != "PendingAcceptance":
        return None
    return OpenInvitation(row.id, row.tenant_id, row.user_id, dict(row.data))


def complete(service: CloudService, invitation: OpenInvitation) -> bool:
    """Mark the invitation redeemed and the user accepted (the link is used up); False,
    and nothing changed, when the invitation is no longer pending (see ``claim``)."""
    if not claim(service, invitation):
        return False
    accept(service, invitation)
    return True


def claim(service: CloudService, invitation: OpenInvitation) -> bool:
    """Use the link up, if it is still pending: False when a concurrent request redeemed it
    or a newer invitation superseded it since it was opened (one write decides)."""
    with service.db.write() as conn:
        claimed = conn.execute(
            sa.update(invitations)
            .where(
                invitations.c.id == invitation.id,
                invitations.c.data["status"].as_string() == "PendingAcceptance",
            )
            .values(data=invitation.data | {"status": "Completed"})
        )
    return claimed.rowcount == 1


def accept(service: CloudService, invitation: OpenInvitation) -> None:
    accepted = {"externalUserState": "Accepted", "externalUserStateChangeDateTime": iso(utcnow())}
    service.users.update(
        invitation.tenant_id, invitation.user_id, accepted, lambda _: None, synced=False
    )
