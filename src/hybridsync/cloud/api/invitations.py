"""``/v1.0/invitations`` (B2B): a Guest with an ``#EXT#`` UPN, redeemed through ``/redeem``."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hybridsync.cloud.api.deps import Ctx, get_service
from hybridsync.cloud.api.wire import GRAPH_ROOT, odata
from hybridsync.cloud.authz import Action
from hybridsync.cloud.db import invitations
from hybridsync.cloud.directory import iso
from hybridsync.cloud.errors import (
    GraphError,
    access_denied,
    invalid_value,
    unknown_property,
)
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.properties import check_required, matches_type
from hybridsync.cloud.service import CloudService

router = APIRouter(tags=["invitations"])
_EMAIL = re.compile(
    r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$"
)
_FIELDS = {
    "invitedUserEmailAddress": str, "inviteRedirectUrl": str, "invitedUserDisplayName": str,
    "invitedUserType": str, "sendInvitationMessage": bool, "invitedUserMessageInfo": dict,
    "invitedUser": dict, "resetRedemption": bool, "invitedUserSponsors": list,
}  # fmt: skip


def _check(body: dict[str, Any]) -> None:
    for name, value in body.items():
        expected = _FIELDS.get(name)
        if expected is None:
            raise unknown_property(name)
        if value is not None and not matches_type(value, expected):
            raise invalid_value(name, "Invitation")
    check_required(body, ("invitedUserEmailAddress", "inviteRedirectUrl"))
    if not _EMAIL.match(body["invitedUserEmailAddress"]):
        raise invalid_value("invitedUserEmailAddress", "Invitation")
    if not str(body["inviteRedirectUrl"]).startswith(("https://", "http://")):
        raise invalid_value("inviteRedirectUrl", "Invitation")
    if body.get("invitedUserType", "Guest") not in ("Guest", "Member"):
        raise invalid_value("invitedUserType", "Invitation")


@router.post("/v1.0/invitations", status_code=201)
def invite(body: Annotated[dict[str, Any], Body()], ctx: Ctx) -> Response:
    ctx.authorize_write(Action.USER_INVITE)
    policy = ctx.policy()
    if policy.get("allowInvitesFrom") == "none":
        raise access_denied()
    _check(body)
    user = _invited_user(ctx, body)
    invitation_id = str(uuid.uuid4())
    code = secrets.token_urlsafe(24)
    invitation = {
        "id": invitation_id,
        "inviteRedeemUrl": f"{ctx.base_url}/redeem?rd={invitation_id}.{code}",
        "invitedUserDisplayName": user.get("displayName"),
        "invitedUserType": user.get("userType"),
        "invitedUserEmailAddress": body["invitedUserEmailAddress"],
        "sendInvitationMessage": bool(body.get("sendInvitationMessage", False)),
        "resetRedemption": bool(body.get("resetRedemption", False)),
        "inviteRedirectUrl": body["inviteRedirectUrl"],
        "status": "PendingAcceptance",
        "invitedUserMessageInfo": body.get("invitedUserMessageInfo")
        or {"messageLanguage": None, "customizedMessageBody": None, "ccRecipients": []},
        "invitedUser": {"id": user["id"]},
    }
    with ctx.service.db.write() as conn:
        conn.execute(
            sa.insert(invitations).values(
                id=invitation_id,
                tenant_id=ctx.tenant_id,
                user_id=user["id"],
                redeem_code_hash=hashlib.sha256(code.encode()).hexdigest(),
                data=invitation,
            )
        )
    return odata(
        {"@odata.context": f"{GRAPH_ROOT}/$metadata#invitations/$entity", **invitation}, 201
    )


def _invited_user(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    pending = {
        "externalUserState": "PendingAcceptance",
        "externalUserStateChangeDateTime": iso(utcnow()),
    }
    existing_id = (body.get("invitedUser") or {}).get("id")
    if existing_id:  # converting an internal account to B2B keeps its id, UPN and userType
        users = ctx.service.users
        users.update(ctx.tenant_id, str(existing_id), pending, lambda _: None, synced=False)
        return users.get(ctx.tenant_id, str(existing_id))
    email = str(body["invitedUserEmailAddress"])
    tenant = ctx.service.tenancy.tenant(ctx.tenant_id)
    alias = email.replace("@", "_")
    upn = f"{alias}#EXT#@{tenant.initial_domain}"
    fields = {
        "userPrincipalName": upn,
        "displayName": body.get("invitedUserDisplayName") or email,
        "mailNickname": alias.replace("#", "_")[:64],
        "mail": email,
        "otherMails": [email],
        "accountEnabled": True,
        "userType": body.get("invitedUserType") or "Guest",
        "identities": [
            {
                "signInType": "userPrincipalName",
                "issuer": tenant.initial_domain,
                "issuerAssignedId": upn,
            }
        ],
    }
    return ctx.service.users.create(
        ctx.tenant_id, fields, synced=False, extra={"creationType": "Invitation", **pending}
    )


@router.get("/redeem", include_in_schema=True, status_code=303)
def redeem(request: Request, rd: Annotated[str, Query()]) -> Response:
    """Accept an invitation (stands in for the sign-in and consent pages)."""
    service: CloudService = get_service(request)
    invitation_id, _, code = rd.partition(".")
    with service.db.write() as conn:
        row = conn.execute(
            sa.select(invitations).where(invitations.c.id == invitation_id)
        ).one_or_none()
        digest = hashlib.sha256(code.encode()).hexdigest()
        if row is None or not secrets.compare_digest(digest, row.redeem_code_hash):
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                "The invitation does not exist or the link is invalid.",
            )
        conn.execute(
            sa.update(invitations)
            .where(invitations.c.id == invitation_id)
            .values(data=dict(row.data) | {"status": "Completed"})
        )
    accepted = {"externalUserState": "Accepted", "externalUserStateChangeDateTime": iso(utcnow())}
    service.users.update(row.tenant_id, row.user_id, accepted, lambda _: None, synced=False)
    return RedirectResponse(str(row.data["inviteRedirectUrl"]), status_code=303)
