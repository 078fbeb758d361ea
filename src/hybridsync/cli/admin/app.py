"""The admin address's routes (Starlette): probes, the JSON API and ``/metrics``.

| route | token | answer |
|---|---|---|
| ``GET /healthz`` | no | 200 while the process serves |
| ``GET /readyz`` | no | 200 ready, 503 with the failed checks |
| ``GET /metrics`` | yes | Prometheus text format |
| ``GET /api/status`` | yes | ``status --json`` and the last cycle |
| ``GET /api/runs?limit=N`` | yes | the latest runs (``history --json``) |
| ``GET /api/runs/{id}/errors`` | yes | a run and its object errors |
| ``POST /api/sync`` | yes | ``{"connector": NAME}``: check it now; 202 |
| ``POST /api/sync-object`` | yes | ``{"key": KEY, ...}`` (below): sync it now; 200 |

``POST /api/sync-object`` syncs one object (``key``: its DN, UPN or anchor; ``connector``
is optional, the first source by default; ``allow_deletes``: ``true`` allows, this once, a
delete over the deletion threshold) and answers the step report of
``hybridsync sync OBJECT --json``. What stops it is answered as ``{"error", "kind"}`` with
the HTTP status of ``hybridsync.cli.admin.problems`` (the command's exit status is read
from the same table).

"token: yes" applies when a token is configured (always off loopback): a request without
it, or with another, gets 401 and learns nothing else.

On loopback without a token, a web page the host's browser opens is the attacker: a
request whose ``Host`` is not a loopback name (DNS rebinding) gets 400, and
``POST /api/sync`` and ``/api/sync-object`` take only ``application/json`` (which a page
cannot send to another origin without a preflight, which is not answered), at most 4 KiB.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybridsync.cli.admin.metrics import CONTENT_TYPE
from hybridsync.cli.admin.problems import problem_of
from hybridsync.cli.admin.state import AdminState, NotRunning, UnknownConnector
from hybridsync.errors import HybridsyncError

__all__ = ["MAX_RUNS", "admin_app"]

MAX_RUNS = 1000
MAX_BODY = 4096
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_RUNS = 20
Handler = Callable[[Request], Awaitable[Response]]


def admin_app(
    state: AdminState,
    token: str | None,
    hosts: frozenset[str] | None = None,
    pages: Sequence[BaseRoute] = (),
    api: bool = True,
) -> Starlette:
    """``hosts``: the only ``Host`` names answered (``None``: any); ``pages``: the
    console's routes (they sign their users in themselves: the token does not apply);
    ``api=False``: the pages alone (the console's own address)."""
    guarded = _Guard(token)
    routes = [
        Route("/healthz", _healthz),
        Route("/readyz", _handler(state, _readyz)),
        Route("/metrics", guarded(_handler(state, _metrics))),
        Route("/api/status", guarded(_handler(state, _status))),
        Route("/api/runs", guarded(_handler(state, _runs))),
        Route("/api/runs/{run_id}/errors", guarded(_handler(state, _run_errors))),
        Route("/api/sync", guarded(_handler(state, _sync)), methods=["POST"]),
        Route("/api/sync-object", guarded(_handler(state, _sync_object)), methods=["POST"]),
    ]
    app = Starlette(routes=[*(routes if api else []), *pages])
    if hosts is not None:
        app.add_middleware(_OnlyHosts, hosts=hosts)
    return app


class _OnlyHosts:
    """Answers 400 to a request for another host name (ASGI middleware)."""

    def __init__(self, app: Any, hosts: frozenset[str]) -> None:
        self._app, self._hosts = app, hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _host_name(Request(scope)) not in self._hosts:
            answer = JSONResponse({"error": "unexpected Host header"}, status_code=400)
            await answer(scope, receive, send)
            return
        await self._app(scope, receive, send)


def _host_name(request: Request) -> str:
    """The Host header without its port (``[::1]:8765`` -> ``::1``)."""
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if ":" in host else host


class _Guard:
    """Wraps a handler so that it answers only with the configured bearer token."""

    def __init__(self, token: str | None) -> None:
        self._expected = None if token is None else token.encode()

    def __call__(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if self._expected is not None and not self._allowed(request):
                return JSONResponse(
                    {"error": "a bearer token is required (Authorization: Bearer ...)"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await handler(request)

        return guarded

    def _allowed(self, request: Request) -> bool:
        assert self._expected is not None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Compared in constant time: the answer's timing tells nothing of the token.
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self._expected
        )


def _handler(state: AdminState, work: Callable[[AdminState, Request, Any], Response]) -> Handler:
    """Runs ``work`` in a worker thread (it reads the store) and turns an unavailable
    store or service into 503 with the reason, never a 500."""

    async def handle(request: Request) -> Response:
        body = b""
        if request.method == "POST":
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return JSONResponse({"error": "send application/json"}, status_code=415)
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    return JSONResponse({"error": "the body is too large"}, status_code=413)
        try:
            return await run_in_threadpool(work, state, request, body)
        except NotRunning as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        except HybridsyncError as exc:
            return JSONResponse({"error": f"the store cannot be read: {exc}"}, status_code=503)

    return handle


async def _healthz(request: Request) -> Response:
    return JSONResponse({"alive": True})


def _readyz(state: AdminState, request: Request, body: Any) -> Response:
    verdict = state.readiness()
    return JSONResponse(verdict.as_dict(), status_code=200 if verdict.ready else 503)


def _metrics(state: AdminState, request: Request, body: Any) -> Response:
    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE)


def _status(state: AdminState, request: Request, body: Any) -> Response:
    return JSONResponse(state.status())


def _runs(state: AdminState, request: Request, body: Any) -> Response:
    text = request.query_params.get("limit", str(_DEFAULT_RUNS))
    if not text.isdigit() or not 1 <= int(text) <= MAX_RUNS:
        return JSONResponse({"error": f"limit: a whole number from 1 to {MAX_RUNS}"}, 400)
    return JSONResponse(state.runs(int(text)))


def _run_errors(state: AdminState, request: Request, body: Any) -> Response:
    run_id = request.path_params["run_id"]
    run = state.run_errors(run_id)
    if run is None:
        return JSONResponse({"error": f"no run with id {run_id!r}"}, status_code=404)
    return JSONResponse(run)


def _sync(state: AdminState, request: Request, body: bytes) -> Response:
    connector = _json_object(body).get("connector")
    if not isinstance(connector, str) or not connector:
        return JSONResponse({"error": 'the body must be {"connector": "<name>"}'}, 400)
    try:
        state.wake(connector)
    except UnknownConnector as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse({"connector": connector, "accepted": True}, status_code=202)


MAX_KEY = 1024


def _sync_object(state: AdminState, request: Request, body: bytes) -> Response:
    data = _json_object(body)
    key, connector = data.get("key"), data.get("connector")
    allow_deletes = data.get("allow_deletes", False)
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        message = (
            f'the body must be {{"key": "<DN, UPN or anchor>"}} (at most {MAX_KEY} characters)'
        )
        return _problem("bad-request", message, 400)
    if connector is not None and not isinstance(connector, str):
        return _problem("bad-request", '"connector" must be a connector name', 400)
    if not isinstance(allow_deletes, bool):
        return _problem("bad-request", '"allow_deletes" must be true or false', 400)
    try:
        return JSONResponse(state.sync_object(key, connector, allow_deletes=allow_deletes))
    except HybridsyncError as exc:
        problem = problem_of(exc)
        if problem is None:
            raise
        return _problem(problem.kind, str(exc), problem.http_status)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _problem(kind: str, message: str, status: int) -> Response:
    return JSONResponse({"error": message, "kind": kind}, status_code=status)
