"""Routes: the sign-in page, and the pass-through endpoints agents call (outbound from them)."""

from __future__ import annotations

import threading
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hybridsync.cloud.api.deps import Service, resolve_principal
from hybridsync.cloud.consent import redirect_allowed
from hybridsync.cloud.errors import GraphError, OAuthError, unauthenticated
from hybridsync.cloud.principal import Principal
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin import csrf, otp_signin, page
from hybridsync.cloud.signin.agents import Agent
from hybridsync.cloud.signin.codes import CodeGrant
from hybridsync.cloud.signin.outcomes import Outcome
from hybridsync.cloud.signin.service import signin_of
from hybridsync.cloud.signin.verify import verify_password
from hybridsync.cloud.tenancy import Tenant

router = APIRouter(tags=["sign-in"])
REGISTRAR_ROLE = "Directory.ReadWrite.All"
MAX_POLL_SECONDS = 30.0
_FLOW_PARAMS = (
    "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "response_mode",
)  # fmt: skip


def _tenant(service: CloudService, tenant: str) -> Tenant:
    found = service.tenancy.find_tenant(tenant)
    if found is None:
        raise OAuthError("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
    return found


# -- pass-through agents ------------------------------------------------------------------


class AgentRegistrationBody(BaseModel):
    machineName: str = Field(min_length=1, max_length=256)
    csr: str = Field(min_length=1, max_length=20000)


class AgentAnswerBody(BaseModel):
    outcome: Outcome


@router.post("/{tenant}/pta/agents", status_code=201)
def register_agent(
    tenant: str,
    body: AgentRegistrationBody,
    service: Service,
    principal: Annotated[Principal, Depends(resolve_principal)],
) -> dict[str, Any]:
    """Register an agent: a cloud admin's token and a CSR in, a client certificate out."""
    found = _tenant(service, tenant)
    if principal.tenant_id != found.id or REGISTRAR_ROLE not in principal.roles:
        raise GraphError(
            403, "Authorization_RequestDenied", "Insufficient privileges to register an agent."
        )
    registration = signin_of(service).agents.register(found.id, body.machineName, body.csr)
    return {
        "id": registration.agent_id,
        "certificate": registration.certificate_pem,
        "caCertificate": registration.ca_certificate_pem,
    }


def _agent(tenant: str, request: Request, service: Service) -> Agent:
    scheme, _, assertion = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not assertion:
        raise unauthenticated("An agent assertion is required.")
    agent = signin_of(service).agents.authenticate(assertion.strip())
    if agent.tenant_id != _tenant(service, tenant).id:
        raise unauthenticated("The agent belongs to another tenant.")
    return agent


AgentDep = Annotated[Agent, Depends(_agent)]


@router.get("/{tenant}/pta/requests", response_model=None)
async def next_request(
    request: Request,
    service: Service,
    agent: AgentDep,
    wait: Annotated[float, Query(ge=0, le=MAX_POLL_SECONDS)] = 20.0,
) -> dict[str, Any] | Response:
    """Long-poll: the next validation request for this agent, or 204 after ``wait`` seconds."""
    queue = signin_of(service).pta
    gone = threading.Event()

    async def watch_disconnect() -> None:
        # The poll ends the moment the agent goes away, so sign-ins stop counting on it.
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone.set()
        queue.wake()

    async with anyio.create_task_group() as watching:
        watching.start_soon(watch_disconnect)
        taken = await run_in_threadpool(queue.take, agent, wait, gone)
        watching.cancel_scope.cancel()
    return Response(status_code=204) if taken is None else taken


@router.post("/{tenant}/pta/requests/{request_id}", status_code=204)
def answer_request(
    request_id: str, body: AgentAnswerBody, service: Service, agent: AgentDep
) -> Response:
    """The agent's outcome; 404 when the sign-in gave up waiting (or the request is not its)."""
    if not signin_of(service).pta.answer(agent, request_id, body.outcome):
        raise GraphError(404, "Request_ResourceNotFound", f"No pending request '{request_id}'.")
    return Response(status_code=204)


# -- the authorization-code flow ----------------------------------------------------------


def _check_flow(service: CloudService, found: Tenant, params: dict[str, str]) -> None:
    app = service.tenancy.application(params.get("client_id", ""))
    if app is None or app.tenant_id != found.id:
        raise OAuthError(
            "unauthorized_client", 700016, "The application was not found in the directory."
        )
    uri = params.get("redirect_uri", "")
    if not redirect_allowed(service.clients.registration(app), uri):
        raise OAuthError(
            "invalid_request",
            50011,
            f"The redirect URI '{uri[:200]}' specified in the request does not match the"
            f" redirect URIs configured for the application '{app.client_id}'.",
        )
    if params.get("code_challenge_method", "S256") not in {"S256", "plain"}:
        raise OAuthError("invalid_request", 501491, "Unsupported code_challenge_method.")


@router.get("/{tenant}/oauth2/v2.0/authorize", response_class=HTMLResponse)
def authorize_page(
    tenant: str,
    request: Request,
    service: Service,
    client_id: str,
    redirect_uri: str,
    response_type: str = "code",
) -> HTMLResponse:
    """The sign-in page (``response_type=code``)."""
    found = _tenant(service, tenant)
    params = {k: v for k, v in request.query_params.items() if k in _FLOW_PARAMS}
    params.update(client_id=client_id, redirect_uri=redirect_uri)
    if response_type != "code":
        raise OAuthError(
            "unsupported_response_type", 700054, "Only response_type=code is supported."
        )
    _check_flow(service, found, params)
    secure = request.url.scheme == "https"
    # A browser keeps its key across pages (two tabs signing in at once both work).
    key = csrf.browser_key(request.cookies, secure) or csrf.new_key()
    html = page.render(
        tenant_name=found.display_name, action=str(request.url.path), params=params,
        csrf_token=csrf.token_for(key, found.id, params),
    )  # fmt: skip
    response = HTMLResponse(html, headers=page.HEADERS)
    csrf.set_key_cookie(response, key, secure)
    return response


@router.post("/{tenant}/oauth2/v2.0/authorize", response_class=HTMLResponse, response_model=None)
async def authorize_submit(tenant: str, request: Request, service: Service) -> Response:
    """The filled page: a redirect with a code, or the page again with an error."""
    found = _tenant(service, tenant)
    form = await request.form()
    params = {k: str(form[k]) for k in _FLOW_PARAMS if isinstance(form.get(k), str)}
    _check_flow(service, found, params)
    key = csrf.browser_key(request.cookies, request.url.scheme == "https")
    token = form.get(csrf.FIELD)
    posted = token if isinstance(token, str) else ""
    if key is None or not csrf.is_valid(key, found.id, params, posted):
        # Checked before the password: a forged post neither signs in nor counts to lockout.
        html = page.render_rejected(tenant_name=found.display_name)
        return HTMLResponse(html, status_code=403, headers=page.HEADERS)
    if str(form.get("step") or "") in otp_signin.STEPS:
        texts = {name: str(form.get(name) or "") for name in ("login", "step", "code")}
        answer = await otp_signin.answer(service, found, params, key, texts, str(request.url.path))
        return (
            answer if isinstance(answer, Response) else _signed_in(service, found, params, answer)
        )
    login, password = str(form.get("login") or ""), str(form.get("passwd") or "")
    verdict = await run_in_threadpool(verify_password, service, found.id, login, password)
    if verdict.outcome is not Outcome.SUCCESS or verdict.user is None:
        html = page.render(
            tenant_name=found.display_name, action=str(request.url.path), params=params,
            csrf_token=csrf.token_for(key, found.id, params),
            login=login, error=page.error_text(verdict.outcome),
        )  # fmt: skip
        return HTMLResponse(html, status_code=200, headers=page.HEADERS)
    return _signed_in(service, found, params, verdict.user["id"])


def _signed_in(
    service: CloudService, found: Tenant, params: dict[str, str], user_id: str
) -> Response:
    """The redirect back to the application, with an authorization code for ``user_id``."""
    code = signin_of(service).codes.issue(
        CodeGrant(
            found.id,
            user_id,
            params["client_id"],
            params["redirect_uri"],
            tuple(params.get("scope", "openid").split()),
            params.get("code_challenge", ""),
            params.get("code_challenge_method", "S256"),
            params.get("nonce") or None,
        )
    )
    answer = {"code": code, **({"state": params["state"]} if "state" in params else {})}
    return RedirectResponse(f"{params['redirect_uri']}?{urlencode(answer)}", status_code=302)


@router.get("/common/userrealm/{username}")
def user_realm(username: str) -> JSONResponse:
    """Home-realm discovery as MSAL asks it: every account here is managed (no federation)."""
    domain = username.rpartition("@")[2]
    return JSONResponse({"ver": "1.0", "account_type": "Managed", "domain_name": domain})
