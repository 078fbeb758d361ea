"""``/v1.0/invitations`` (B2B): a new Guest with an ``#EXT#`` UPN, or an existing user invited
by its object id (``invitedUser.id``, with ``resetRedemption`` to invite again); redeemed
through ``/redeem``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Body, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hybridsync.cloud import b2b, mail
from hybridsync.cloud.api.deps import Ctx, get_service
from hybridsync.cloud.api.wire import GRAPH_ROOT, odata
from hybridsync.cloud.authz import Action
from hybridsync.cloud.errors import (
    ErrorDetail,
    GraphError,
    access_denied,
    bad_request,
    invalid_value,
    unknown_property,
)
from hybridsync.cloud.properties import check_required, matches_type
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin import redemption

router = APIRouter(tags=["invitations"])
log = structlog.get_logger(__name__)
_FIELDS = {
    "invitedUserEmailAddress": str, "inviteRedirectUrl": str, "invitedUserDisplayName": str,
    "invitedUserType": str, "sendInvitationMessage": bool, "invitedUserMessageInfo": dict,
    "invitedUser": dict, "resetRedemption": bool, "invitedUserSponsors": list,
}  # fmt: skip
# What converting an existing user changes, for the sensitive-action rules: its credential.
_CONVERSION_CHANGES = frozenset({"passwordProfile", "otherMails"})


def _check(body: dict[str, Any]) -> None:
    for name, value in body.items():
        expected = _FIELDS.get(name)
        if expected is None:
            raise unknown_property(name)
        if value is not None and not matches_type(value, expected):
            raise invalid_value(name, "Invitation")
    check_required(body, ("invitedUserEmailAddress", "inviteRedirectUrl"))
    b2b.check_addresses(body["invitedUserEmailAddress"], str(body["inviteRedirectUrl"]))
    if body.get("invitedUserType", "Guest") not in ("Guest", "Member"):
        raise invalid_value("invitedUserType", "Invitation")


def _existing_user_id(body: dict[str, Any]) -> str | None:
    invited = body.get("invitedUser")
    if invited is None:
        if body.get("resetRedemption"):
            message = "resetRedemption requires the existing user's id in invitedUser."
            raise bad_request(message, ErrorDetail("InvalidValue", message, "invitedUser"))
        return None
    user_id = invited.get("id")
    if set(invited) - {"id", "@odata.type"} or not _is_object_id(user_id):
        raise invalid_value("invitedUser", "Invitation")
    return str(user_id).lower()


def _is_object_id(value: object) -> bool:
    """An object id (a GUID), never a UPN: the role checks look the target up by its id."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _request_of(body: dict[str, Any]) -> b2b.InvitationRequest:
    _check(body)
    return b2b.InvitationRequest(
        email=str(body["invitedUserEmailAddress"]),
        redirect_url=str(body["inviteRedirectUrl"]),
        display_name=body.get("invitedUserDisplayName"),
        user_type=body.get("invitedUserType"),
        send_message=bool(body.get("sendInvitationMessage", False)),
        message_info=body.get("invitedUserMessageInfo"),
        existing_user_id=_existing_user_id(body),
        reset_redemption=bool(body.get("resetRedemption", False)),
    )


@router.post("/v1.0/invitations", status_code=201)
def invite(body: Annotated[dict[str, Any], Body()], ctx: Ctx) -> Response:
    ctx.authorize(Action.USER_INVITE)
    policy = ctx.policy()
    if policy.get("allowInvitesFrom") == "none":
        raise access_denied()
    request = _request_of(body)
    if request.existing_user_id is None:
        ctx.authorize_write(Action.USER_INVITE)
        invitation = b2b.new_guest(ctx.service, ctx.tenant_id, ctx.base_url, request)
    else:
        # Inviting an existing user changes how it signs in: a user write on that user,
        # as sensitive as a password reset (so only roles that manage its roles).
        target = ctx.target_user(request.existing_user_id, _CONVERSION_CHANGES)
        ctx.authorize_write(Action.USER_WRITE, target)
        invitation = b2b.invite_existing(ctx.service, ctx.tenant_id, ctx.base_url, request)
    if request.send_message:
        _send_invitation_message(ctx, invitation)
    return odata(
        {"@odata.context": f"{GRAPH_ROOT}/$metadata#invitations/$entity", **invitation}, 201
    )


def _send_invitation_message(ctx: Ctx, invitation: dict[str, Any]) -> None:
    """Mail the redeem link through the relay (``sendInvitationMessage``); without a relay,
    or when it fails, the invitation stands and the link is in the answer (logged, not 5xx)."""
    settings = ctx.service.settings.smtp
    if settings is None:
        log.warning("invitation.no_relay", invitation=invitation["id"])
        return
    tenant = ctx.service.tenancy.tenant(ctx.tenant_id)
    info = invitation.get("invitedUserMessageInfo") or {}
    custom = str(info.get("customizedMessageBody") or "")
    text = (
        f"You are invited to {tenant.display_name}.\n\n{custom}\n\n"
        f"Accept the invitation: {invitation['inviteRedeemUrl']}\n"
    )
    try:
        mail.send(settings, invitation["invitedUserEmailAddress"],
                  f"You're invited to {tenant.display_name}", text)  # fmt: skip
    except mail.MailError as exc:
        log.warning("invitation.mail_failed", invitation=invitation["id"], error=str(exc))


@router.get("/redeem", include_in_schema=True, response_model=None)
def redeem(request: Request, rd: Annotated[str, Query(max_length=200)]) -> Response:
    """Accept an invitation: an existing user proves the address with an emailed code; a new
    guest is accepted at once (this stands in for the external sign-in and consent pages)."""
    service: CloudService = get_service(request)
    invitation = b2b.open_invitation(service, rd)
    if invitation is not None and invitation.for_existing_user:
        return redemption.first_page(service, request, invitation, rd)
    if invitation is None or not b2b.complete(service, invitation):
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            "The invitation does not exist, was already redeemed, or the link is invalid.",
        )
    return RedirectResponse(invitation.redirect_url, status_code=303)
