"""The operations console: server-rendered pages under ``/console`` of the admin address.

| page | who | what |
|---|---|---|
| ``/console/`` | reader | connectors' health, cycles, staging, thresholds, PHS, 30-day charts |
| ``/console/connectors`` | reader | watermarks, counts, pending imports and exports |
| ``/console/runs`` | reader | the history, filtered and paged; a run's errors, searched |
| ``/console/objects`` | reader | search; an object's lineage and pending export |
| ``/console/plan`` | reader | the pending exports; operators apply exactly this plan |
| ``/console/rules`` | reader | the loaded rules by direction and precedence |
| ``/console/audit`` | reader | what operators did |

A reader is whoever's ID token names a configured reader role (``wids``) or group
(``groups``); an operator likewise, and may also apply plans, override the deletion
threshold once and sync an object now. Anyone else signed in gets 403; nobody signed in
is sent to sign in. Every POST carries its session's CSRF token, or gets 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import structlog
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hybridsync.cli.admin.state import AdminState, NotRunning
from hybridsync.cli.console import views
from hybridsync.cli.console.data import ConsoleData
from hybridsync.cli.console.oidc import OidcClient, SignInError
from hybridsync.cli.console.sessions import (
    COOKIE,
    FLOW_COOKIE,
    FLOW_SECONDS,
    Session,
    Sessions,
    access_level,
)
from hybridsync.config.console import ConsoleConfig
from hybridsync.errors import HybridsyncError

__all__ = ["Console", "console_routes"]

log = structlog.get_logger(__name__)
PREFIX = "/console"
MAX_FORM = 16 * 1024
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
_STATIC = {"console.css": "text/css", "console.js": "text/javascript"}

Page = Callable[["Console", Request, Session], Awaitable[Response]]


@dataclass
class Console:
    """What the pages need: the service's state, the store, sign-in and the templates."""

    config: ConsoleConfig
    state: AdminState
    data: ConsoleData
    oidc: OidcClient
    sessions: Sessions
    cycle_seconds: float
    templates: Environment

    def render(
        self,
        request: Request,
        template: str,
        session: Session | None,
        http_status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            session=session, path=request.url.path, prefix=PREFIX, **values
        )
        return HTMLResponse(html, status_code=http_status, headers=HEADERS)


def new_console(
    config: ConsoleConfig,
    state: AdminState,
    data: ConsoleData,
    secret: str | None,
    cycle_seconds: float,
) -> Console:
    templates = Environment(
        loader=PackageLoader("hybridsync.cli.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["urlpart"] = lambda value: quote(str(value), safe="")
    templates.filters["when"] = _when
    return Console(
        config,
        state,
        data,
        OidcClient(config, secret),
        Sessions(config.session_minutes * 60),
        cycle_seconds,
        templates,
    )


def _when(value: object) -> str:
    """An ISO timestamp as ``2026-05-04 13:02:11 UTC`` (its fraction and offset left out)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def console_routes(console: Console) -> list[Route]:
    def page(handler: Page, *, operator: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            return await _guarded(console, request, handler, operator)

        return guarded

    return [
        Route(f"{PREFIX}/static/{{name}}", _static),
        Route(f"{PREFIX}/sign-in", _bind(console, _sign_in)),
        Route(f"{PREFIX}/signed-in", _bind(console, _signed_in)),
        Route(f"{PREFIX}/sign-out", page(_sign_out), methods=["POST"]),
        Route(f"{PREFIX}/", page(views.overview)),
        Route(f"{PREFIX}/live", page(views.live)),
        Route(f"{PREFIX}/connectors", page(views.connectors)),
        Route(f"{PREFIX}/runs", page(views.runs)),
        Route(f"{PREFIX}/runs/{{run_id}}", page(views.run)),
        Route(f"{PREFIX}/objects", page(views.objects)),
        Route(f"{PREFIX}/objects/{{space}}/{{object_id}}", page(views.object_page)),
        Route(
            f"{PREFIX}/objects/{{space}}/{{object_id}}/sync",
            page(views.sync_now, operator=True),
            methods=["POST"],
        ),
        Route(f"{PREFIX}/plan", page(views.plan)),
        Route(f"{PREFIX}/plan/apply", page(views.apply, operator=True), methods=["POST"]),
        Route(f"{PREFIX}/rules", page(views.rules)),
        Route(f"{PREFIX}/audit", page(views.audit)),
    ]


def _bind(
    console: Console, handler: Callable[[Console, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def bound(request: Request) -> Response:
        return await handler(console, request)

    return bound


async def _guarded(console: Console, request: Request, handler: Page, operator: bool) -> Response:
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        if request.method != "GET":
            return console.render(
                request,
                "error.html",
                None,
                401,
                title="Signed out",
                message="Sign in again, then retry.",
            )
        return RedirectResponse(
            f"{PREFIX}/sign-in?next={quote(request.url.path + _query(request), safe='')}",
            status_code=303,
        )
    if session.level is None and handler is not _sign_out:  # (signing out is always let through)
        return console.render(request, "forbidden.html", session, 403)
    if request.method == "POST":
        refused = await _refused_post(console, request, session)
        if refused is not None:
            return refused
    if operator and not session.operator:
        return console.render(
            request,
            "error.html",
            session,
            403,
            title="Operators only",
            message="Only an operator may do this; you may read.",
        )
    try:
        return await handler(console, request, session)
    except NotRunning as exc:
        return console.render(
            request, "error.html", session, 503, title="Service not ready", message=str(exc)
        )
    except HybridsyncError as exc:
        return console.render(
            request, "error.html", session, 503, title="Cannot answer now", message=str(exc)
        )


async def _refused_post(console: Console, request: Request, session: Session) -> Response | None:
    """403 unless the form is a small URL-encoded one carrying the session's CSRF token.

    The body is read up to :data:`MAX_FORM` bytes whatever its ``Content-Length`` says (a
    chunked body has none)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        return console.render(
            request,
            "error.html",
            session,
            415,
            title="Not a form",
            message="Send the page's own form.",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return console.render(
                request,
                "error.html",
                session,
                413,
                title="Too large",
                message="The form is too large.",
            )
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    request.state.form = form
    token = form.get("csrf")
    if token is None or not session.csrf_matches(token):
        return console.render(
            request,
            "error.html",
            session,
            403,
            title="Refused",
            message="The form's security token is missing or wrong: reload the page and try again.",
        )
    return None


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


def _local_path(target: str) -> str:
    """``target`` if it is a path of the console, else the overview (no open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{PREFIX}/") or "\\" in target:
        return f"{PREFIX}/"
    return target


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:
        return Response("not found", status_code=404)
    text = resources.files("hybridsync.cli.console").joinpath("static", name).read_bytes()
    return Response(
        text,
        media_type=_STATIC[name],
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )


async def _sign_in(console: Console, request: Request) -> Response:
    try:
        flow, url = await run_in_threadpool(
            console.oidc.start, _local_path(request.query_params.get("next", ""))
        )
    except SignInError as exc:
        return console.render(
            request, "error.html", None, 503, title="Sign-in unavailable", message=str(exc)
        )
    if not console.sessions.begin(flow, request.client.host if request.client else ""):
        return console.render(
            request, "error.html", None, 503, title="Sign-in unavailable",
            message="Too many sign-ins are in progress; try again in a few minutes.",
        )  # fmt: skip
    answer = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    answer.set_cookie(
        FLOW_COOKIE, flow.browser, max_age=int(FLOW_SECONDS), path="/", secure=True,
        httponly=True, samesite="lax",
    )  # fmt: skip
    return answer


def _without_flow_cookie(answer: Response) -> Response:
    answer.delete_cookie(FLOW_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return answer


async def _signed_in(console: Console, request: Request) -> Response:
    return _without_flow_cookie(await _finish_sign_in(console, request))


async def _finish_sign_in(console: Console, request: Request) -> Response:
    params = request.query_params
    # A flow counts only in the browser that started it: an attacker's own state and code,
    # sent to a victim's browser, would otherwise sign the victim in as the attacker.
    flow = console.sessions.take_flow(params.get("state", ""), request.cookies.get(FLOW_COOKIE))
    if flow is None:
        return console.render(
            request,
            "error.html",
            None,
            400,
            title="Sign-in expired",
            message="This sign-in is unknown, was used already, or was started in another browser.",
            retry=True,
        )
    if "error" in params or "code" not in params:
        # The query string is anybody's to write: its words are logged, never shown.
        log.info(
            "console.sign_in_refused",
            error=params.get("error", "")[:100],
            description=params.get("error_description", "")[:300],
        )
        return console.render(
            request,
            "error.html",
            None,
            401,
            title="Not signed in",
            message="The identity provider did not sign you in.",
            retry=True,
        )
    try:
        claims = await run_in_threadpool(console.oidc.finish, flow, params["code"])
    except SignInError as exc:
        return console.render(
            request, "error.html", None, 401, title="Not signed in", message=str(exc), retry=True
        )
    config = console.config
    level = access_level(
        claims,
        reader_roles=config.reader_roles,
        operator_roles=config.operator_roles,
        reader_groups=config.reader_groups,
        operator_groups=config.operator_groups,
    )
    user = str(claims.get("preferred_username") or claims.get("upn") or claims["sub"])
    name = str(claims.get("name") or user)
    session_id = console.sessions.open(user, name, level, audit_actor(claims, user))
    answer = RedirectResponse(flow.return_to, 303, headers={"Cache-Control": "no-store"})
    answer.set_cookie(
        COOKIE,
        session_id,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
        max_age=int(config.session_minutes * 60),
    )
    return answer


def audit_actor(claims: dict[str, Any], user: str) -> str:
    """Who the audit log names: the UPN, and beside it the object and tenant ids, which
    (unlike a UPN) are never reused for another person."""
    ids = [f"{claim}={claims[claim]}" for claim in ("oid", "tid") if claims.get(claim)]
    return f"{user} ({', '.join(ids)})" if ids else user


async def _sign_out(console: Console, request: Request, session: Session) -> Response:
    console.sessions.close(request.cookies.get(COOKIE))
    answer = console.render(
        request,
        "error.html",
        None,
        200,
        title="Signed out",
        message="You are signed out.",
        retry=True,
    )
    answer.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return answer


def console_app(console: Console) -> Starlette:
    """The console alone (its own address); the admin address mounts its routes."""
    return Starlette(routes=console_routes(console))
