"""The ASGI application: routers, request ids, and errors in Graph's envelope."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hybridsync.cloud.api import (
    applications,
    batch,
    deleted,
    delta,
    groups,
    invitations,
    managers,
    membership,
    membership_delta,
    oauth,
    password_hash_sync,
    policy,
    roles,
    users,
)
from hybridsync.cloud.api.wire import graph_error_response, oauth_error_response
from hybridsync.cloud.door import Door
from hybridsync.cloud.errors import GraphError, OAuthError
from hybridsync.cloud.middleware import HttpMiddleware
from hybridsync.cloud.service import CloudService, CloudSettings
from hybridsync.cloud.signin import policy_routes as signin_policy
from hybridsync.cloud.signin import redemption as signin_redemption
from hybridsync.cloud.signin import routes as signin_routes

_ROUTED = (
    oauth, delta, membership_delta, users, batch, invitations, deleted, groups, membership,
    managers, policy, password_hash_sync, applications, roles,
)  # fmt: skip
_SIGN_IN = (signin_routes, signin_policy, signin_redemption)
ROUTERS = tuple(module.router for module in (*_ROUTED, *_SIGN_IN))
_STATUS_CODES = {404: "BadRequest", 405: "Request_BadRequest", 415: "UnsupportedMediaType"}


def create_app(settings: CloudSettings | CloudService) -> FastAPI:
    """Build the service (an existing ``CloudService`` can be shared with the caller)."""
    service = settings if isinstance(settings, CloudService) else CloudService(settings)
    app = FastAPI(
        title="hybridsync cloud directory",
        version="1.0",
        description="An Entra-compatible directory: a Microsoft Graph v1.0 subset and OAuth 2.0.",
    )
    app.state.service = service
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Door)  # inside _RequestIds: its refusals carry request ids too
    app.add_middleware(_SignInRateLimit, service=service)  # before any body is read
    app.add_middleware(_RequestIds)
    app.add_exception_handler(GraphError, _graph_error)
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


class _RequestIds(HttpMiddleware):
    """Give every request a ``request-id``; echo ``client-request-id``; mark OData answers.

    It only edits the response start message.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        client_id = Headers(scope=scope).get("client-request-id", request_id)
        odata_path = str(scope.get("path", "")).startswith("/v1.0")

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["request-id"] = request_id
                headers["client-request-id"] = client_id
                if odata_path:
                    headers["OData-Version"] = "4.0"
            await send(message)

        await self.app(scope, receive, send_with_ids)


_SIGN_IN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/(?:token|authorize)$")


class _SignInRateLimit(HttpMiddleware):
    """429 with ``Retry-After`` for token and sign-in posts over the rate limits.

    Counted per client address and per tenant before the request is read or any password
    checked, so a flood costs the service almost nothing.
    """

    def __init__(self, app: ASGIApp, service: CloudService) -> None:
        super().__init__(app)
        self.service = service

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _SIGN_IN_PATH.match(str(scope.get("path", "")))
        if scope.get("method") != "POST" or found is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else ""
        wait = self.service.limiter.sign_in_wait(found["tenant"], address)
        if wait is None:
            await self.app(scope, receive, send)
            return
        err = OAuthError(
            "temporarily_unavailable", 90055,
            "There are too many incoming requests. Please try again later.",
            status=429, retry_after=wait,
        )  # fmt: skip
        await oauth_error_response(Request(scope), err)(scope, receive, send)


async def _graph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    return graph_error_response(request, exc)


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    target = _first_target(exc.errors())
    message = (
        "One or more properties contains invalid values."
        if target == "body"
        else (f"Invalid value for query option or header '{target}'.")
    )
    return graph_error_response(request, GraphError(400, "Request_BadRequest", message))


def _first_target(errors: Any) -> str:
    for error in errors:
        location: tuple[Any, ...] = tuple(error.get("loc") or ())
        if location[:1] == ("body",):
            return "body"
        if len(location) > 1:
            return str(location[1])
    return "body"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        segment = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        err = GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
    elif exc.status_code == 405:
        err = GraphError(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    else:
        err = GraphError(
            exc.status_code, _STATUS_CODES.get(exc.status_code, "BadRequest"), str(exc.detail)
        )
    return graph_error_response(request, err)
