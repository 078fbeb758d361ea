"""A synchronous httpx transport that calls an ASGI application in-process.

httpx ships ``ASGITransport`` for async clients only; the Graph connector is a sync
client with worker threads. This transport runs the application on an event loop in a
helper thread (an anyio blocking portal) and hands each request to it: no socket, no
port, no TLS handshake, the same HTTP semantics as over the network.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import anyio.from_thread
import httpx


class InProcessTransport(httpx.BaseTransport):
    """Send every request to ``app`` (an ASGI callable) inside this process.

    Thread-safe: the connector's workers may send at the same time. ``close`` stops
    the helper thread; the transport starts it again when it is used afterwards.
    """

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._lock = threading.Lock()
        self._stack: contextlib.ExitStack | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None

    def _running_portal(self) -> anyio.from_thread.BlockingPortal:
        with self._lock:
            if self._portal is None:
                stack = contextlib.ExitStack()
                self._portal = stack.enter_context(anyio.from_thread.start_blocking_portal())
                self._stack = stack
            return self._portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        portal = self._running_portal()
        status, headers, content = portal.call(self._send, request, body)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _send(
        self, request: httpx.Request, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        # A fresh request whose body stream is async-readable, as ASGITransport needs.
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await self._asgi.handle_async_request(copy)
        content = await response.aread()
        return response.status_code, list(response.headers.raw), content

    def close(self) -> None:
        with self._lock:
            stack, self._stack, self._portal = self._stack, None, None
        if stack is not None:
            stack.close()
