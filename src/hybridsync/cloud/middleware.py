"""The shape of the service's own ASGI middlewares: HTTP requests are theirs, the rest passes.

Plain ASGI classes rather than Starlette's ``BaseHTTPMiddleware``: they see the request before
its body is read and edit only the messages they mean to, so streaming is left intact.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """Calls :meth:`handle` for each HTTP request; lifespan and websocket scopes pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, or hand it on to ``self.app``."""
        raise NotImplementedError
