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

"token: yes" applies when a token is configured (always off loopback): a request without
it, or with another, gets 401 and learns nothing else.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hybridsync.cli.admin.metrics import CONTENT_TYPE
from hybridsync.cli.admin.state import AdminState, NotRunning, UnknownConnector
from hybridsync.errors import HybridsyncError

__all__ = ["MAX_RUNS", "admin_app"]

MAX_RUNS = 1000
_DEFAULT_RUNS = 20
Handler = Callable[[Request], Awaitable[Response]]


def admin_app(state: AdminState, token: str | None) -> Starlette:
    guarded = _Guard(token)
    routes = [
        Route("/healthz", _healthz),
        Route("/readyz", _handler(state, _readyz)),
        Route("/metrics", guarded(_handler(state, _metrics))),
        Route("/api/status", guarded(_handler(state, _status))),
        Route("/api/runs", guarded(_handler(state, _runs))),
        Route("/api/runs/{run_id}/errors", guarded(_handler(state, _run_errors))),
        Route("/api/sync", guarded(_handler(state, _sync)), methods=["POST"]),
    ]
    return Starlette(routes=routes)


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
        body = await request.body() if request.method == "POST" else b""
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
    try:
        data = json.loads(body or b"null")
    except ValueError:
        data = None
    connector = data.get("connector") if isinstance(data, dict) else None
    if not isinstance(connector, str) or not connector:
        return JSONResponse({"error": 'the body must be {"connector": "<name>"}'}, 400)
    try:
        state.wake(connector)
    except UnknownConnector as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse({"connector": connector, "accepted": True}, status_code=202)
