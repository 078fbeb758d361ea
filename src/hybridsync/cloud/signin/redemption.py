"""Redeeming an invitation to an existing user with an email one-time passcode.

The link (``/redeem?rd=...``) opens a page that offers to email a code to the invited
address; the code, typed back, proves the user reads that mailbox. Redemption then makes
the address the user's sign-in name: from now on the user signs in with codes sent to it,
and the local password (cloud, pass-through or password hash sync) is refused.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hybridsync.cloud import b2b, mail
from hybridsync.cloud.api.deps import get_service
from hybridsync.cloud.errors import GraphError, conflict
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin import csrf, otp_page, page
from hybridsync.cloud.signin.converted import MAIL_IDENTITY_ISSUER
from hybridsync.cloud.signin.otp import CODE_LIFETIME, redemption_purpose
from hybridsync.cloud.signin.service import signin_of

router = APIRouter(tags=["sign-in"])
log = structlog.get_logger(__name__)


def send_code(service: CloudService, to: str, code: str, tenant_name: str) -> None:
    """Mail a code through the configured relay (``mail.MailError`` when it fails)."""
    settings = service.settings.smtp
    if settings is None:
        raise mail.MailError("no SMTP relay is configured")
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    mail.send(
        settings,
        to,
        f"Your {tenant_name} code",
        f"Your code is {code}\n\nIt is valid for {minutes} minutes and works once."
        "\nIf you did not ask for it, ignore this message.\n",
    )


def _fields(rd: str, key: str, tenant_id: str) -> dict[str, str]:
    params = {"rd": rd}
    return {**params, csrf.FIELD: csrf.token_for(key, tenant_id, params)}


def _html(body: str, key: str, secure: bool, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status, headers=page.HEADERS)
    csrf.set_key_cookie(response, key, secure)
    return response


def first_page(
    service: CloudService, request: Request, invitation: b2b.OpenInvitation, rd: str
) -> Response:
    """The redemption page: who invites, and where the code will go."""
    secure = request.url.scheme == "https"
    key = csrf.browser_key(request.cookies, secure) or csrf.new_key()
    tenant = service.tenancy.tenant(invitation.tenant_id)
    masked = otp_page.masked(invitation.email)
    notice = f"We will email a code to {masked} to accept the invitation."
    html = otp_page.render_send(
        tenant_name=tenant.display_name, action="/redeem",
        fields=_fields(rd, key, invitation.tenant_id), notice=notice,
    )  # fmt: skip
    return _html(html, key, secure)


def _not_found() -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        "The invitation does not exist, was already redeemed, or the link is invalid.",
    )


@router.post("/redeem", response_class=HTMLResponse, response_model=None)
async def redeem_submit(request: Request) -> Response:
    """Send the code (``step=sendcode``) or check it (``step=verifycode``)."""
    service: CloudService = get_service(request)
    form = await request.form()
    rd, step, code = (str(form.get(name) or "") for name in ("rd", "step", "code"))
    invitation = b2b.open_invitation(service, rd[:200])
    if invitation is None or not invitation.for_existing_user:
        raise _not_found()
    secure = request.url.scheme == "https"
    key = csrf.browser_key(request.cookies, secure)
    posted = str(form.get(csrf.FIELD) or "")
    tenant = service.tenancy.tenant(invitation.tenant_id)
    if key is None or not csrf.is_valid(key, invitation.tenant_id, {"rd": rd}, posted):
        html = page.render_rejected(tenant_name=tenant.display_name)
        return HTMLResponse(html, status_code=403, headers=page.HEADERS)
    render: dict[str, Any] = {
        "tenant_name": tenant.display_name, "action": "/redeem",
        "fields": _fields(rd, key, invitation.tenant_id),
    }  # fmt: skip
    if step == "verifycode":
        return await _verify(service, invitation, code, render, key, secure)
    if step == "sendcode":
        return await _send(service, invitation, render, key, secure)
    raise GraphError(400, "Request_BadRequest", "step must be sendcode or verifycode.")


async def _send(
    service: CloudService,
    invitation: b2b.OpenInvitation,
    render: dict[str, Any],
    key: str,
    secure: bool,
) -> Response:
    if service.settings.smtp is None:
        html = otp_page.render_send(**render, notice="", error=otp_page.NO_RELAY)
        return _html(html, key, secure)
    otp = signin_of(service).otp
    code = otp.issue(invitation.tenant_id, invitation.user_id, redemption_purpose(invitation.id))
    masked = otp_page.masked(invitation.email)
    if code is None:
        notice = f"A code was sent to {masked} moments ago. Enter it below."
        return _html(otp_page.render_code(**render, notice=notice), key, secure)
    try:
        await run_in_threadpool(send_code, service, invitation.email, code, render["tenant_name"])
    except mail.MailError as exc:
        log.warning("redemption.mail_failed", invitation=invitation.id, error=str(exc))
        html = otp_page.render_send(**render, notice="", error=otp_page.NOT_SENT)
        return _html(html, key, secure)
    notice = f"We emailed a code to {masked}. Enter it below."
    return _html(otp_page.render_code(**render, notice=notice), key, secure)


async def _verify(
    service: CloudService,
    invitation: b2b.OpenInvitation,
    code: str,
    render: dict[str, Any],
    key: str,
    secure: bool,
) -> Response:
    otp = signin_of(service).otp
    purpose = redemption_purpose(invitation.id)
    accepted = await run_in_threadpool(
        otp.check, invitation.tenant_id, invitation.user_id, purpose, code[:16]
    )
    if not accepted:
        notice = f"Enter the code we emailed to {otp_page.masked(invitation.email)}."
        html = otp_page.render_code(**render, notice=notice, error=otp_page.WRONG_CODE)
        return _html(html, key, secure)
    await run_in_threadpool(redeem_with_email, service, invitation)
    log.info("redemption.completed", invitation=invitation.id, user=invitation.user_id)
    return RedirectResponse(invitation.redirect_url, status_code=303)


def redeem_with_email(service: CloudService, invitation: b2b.OpenInvitation) -> None:
    """The invited address becomes the user's sign-in name; the invitation is used up.

    Refresh tokens obtained with the old credential (the password) stop working.
    """
    email = invitation.email
    signin = signin_of(service)
    if not b2b.claim(service, invitation):
        raise _not_found()
    if not signin.otp.register_user(invitation.tenant_id, invitation.user_id, email):
        raise conflict("invitedUserEmailAddress")

    def with_mail_identity(user: dict[str, Any]) -> list[dict[str, Any]]:
        kept = b2b.without_mail_identity(user)
        identity = {"signInType": "emailAddress", "issuer": MAIL_IDENTITY_ISSUER,
                    "issuerAssignedId": email}  # fmt: skip
        return [*kept, identity]

    user = service.users.get(invitation.tenant_id, invitation.user_id)
    service.users.update(
        invitation.tenant_id, invitation.user_id, {"identities": with_mail_identity(user)},
        lambda _: None, synced=False,
    )  # fmt: skip
    b2b.accept(service, invitation)
    signin.store.revoke_refresh(invitation.tenant_id, invitation.user_id)
