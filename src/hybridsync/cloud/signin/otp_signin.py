"""Signing in with an email one-time passcode, from the sign-in page.

"Email me a sign-in code" sends a code to the address typed in, if a user who redeemed an
invitation by email signs in with it; the page that follows is the same whether or not one
does, and the mail leaves after the answer, so neither the page nor its timing tells which
addresses are real. Typing the code back signs the user in. Wrong codes count towards the
account's lockout as wrong passwords do, and a code dies after five wrong tries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from hybridsync.cloud import mail
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin import csrf, otp_page, page
from hybridsync.cloud.signin.lockout import REQUEST_SOURCE
from hybridsync.cloud.signin.otp import SIGN_IN
from hybridsync.cloud.signin.outcomes import Outcome, message_of
from hybridsync.cloud.signin.redemption import send_code
from hybridsync.cloud.signin.service import signin_of
from hybridsync.cloud.tenancy import Tenant

log = structlog.get_logger(__name__)
STEPS = frozenset({"sendcode", "verifycode"})


def _mail_quietly(service: CloudService, tenant: Tenant, user_id: str, code: str) -> None:
    # Runs after the answer, so looking the address up costs the page no time either.
    to = signin_of(service).otp.email_of(tenant.id, user_id)
    if to is None:
        return
    try:
        send_code(service, to, code, tenant.display_name)
    except mail.MailError as exc:
        log.warning("signin.otp_mail_failed", error=str(exc))


async def answer(
    service: CloudService,
    tenant: Tenant,
    params: Mapping[str, str],
    key: str,
    form: Mapping[str, str],
    action: str,
) -> Response | str:
    """The next page, or the id of the user who signed in with a right code."""
    login = form.get("login", "").strip()[:256]
    fields = {**params, "login": login, csrf.FIELD: csrf.token_for(key, tenant.id, params)}
    render: dict[str, Any] = {
        "tenant_name": tenant.display_name,
        "action": action,
        "fields": fields,
    }
    otp = signin_of(service).otp
    user_id = await run_in_threadpool(otp.user_for_email, tenant.id, login) if login else None
    notice = f"If {login} signs in with email codes, we sent a code to it. Enter it below."
    if form.get("step") == "sendcode":
        code = await run_in_threadpool(otp.issue, tenant.id, user_id, SIGN_IN) if user_id else None
        html = otp_page.render_code(**render, notice=notice)
        task = (  # to the address on record, never to what was typed
            BackgroundTask(_mail_quietly, service, tenant, user_id, code)
            if code and user_id
            else None
        )
        return HTMLResponse(html, headers=page.HEADERS, background=task)
    outcome = await run_in_threadpool(
        _check, service, tenant.id, user_id, login, form.get("code", "")
    )
    if outcome is Outcome.SUCCESS and user_id is not None:
        return user_id
    error = otp_page.WRONG_CODE if outcome is Outcome.INVALID_CREDENTIALS else message_of(outcome)
    return HTMLResponse(
        otp_page.render_code(**render, notice=notice, error=error), headers=page.HEADERS
    )


def _check(
    service: CloudService, tenant_id: str, user_id: str | None, login: str, code: str
) -> Outcome:
    signin = signin_of(service)
    account = user_id or "unknown:" + login.casefold()
    attempt = signin.lockout.begin(tenant_id, account, REQUEST_SOURCE.get(), code)
    if not attempt.admitted:
        return Outcome.LOCKED_OUT
    outcome = Outcome.INVALID_CREDENTIALS
    try:
        if user_id is not None and signin.otp.check(tenant_id, user_id, SIGN_IN, code[:16]):
            outcome = _outcome_for(service, tenant_id, user_id)
    finally:
        signin.lockout.finish(
            attempt,
            succeeded=outcome is Outcome.SUCCESS,
            failed=outcome is Outcome.INVALID_CREDENTIALS,
        )
    log.info("signin.verdict", tenant=tenant_id, user=user_id, method="otp", outcome=str(outcome))
    return outcome


def _outcome_for(service: CloudService, tenant_id: str, user_id: str) -> Outcome:
    """A right code of a user deleted since it was sent is a wrong one (never a 404)."""
    try:
        user = service.users.get(tenant_id, user_id)
    except GraphError:
        return Outcome.INVALID_CREDENTIALS
    return Outcome.DISABLED if user.get("accountEnabled") is False else Outcome.SUCCESS
