"""The admin server: uvicorn in a thread of the ``serve`` process."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import uvicorn
from starlette.routing import BaseRoute

from hybridsync.cli.admin.app import LOOPBACK_NAMES, admin_app
from hybridsync.cli.admin.settings import AdminConfigError, AdminSettings
from hybridsync.cli.admin.state import AdminState
from hybridsync.cloud.server import listening_socket
from hybridsync.errors import HybridsyncError

__all__ = ["AdminServer"]

_START_SECONDS = 10.0


class AdminServer:
    """Serves ``state`` at ``settings``' address until :meth:`stop`."""

    def __init__(
        self,
        settings: AdminSettings,
        state: AdminState,
        pages: Sequence[BaseRoute] = (),
        *,
        api: bool = True,
    ) -> None:
        """``api=False``: the console's own address (``pages`` alone)."""
        self._option = "--admin" if api else "--console"
        try:
            self._sock = listening_socket(settings.host, settings.port)
        except HybridsyncError as exc:
            raise AdminConfigError(f"{self._option}: {exc}") from None
        self.port: int = self._sock.getsockname()[1]
        self.url = settings.with_port(self.port).url
        """With the bound port (``--admin 127.0.0.1:0`` binds a free one)."""
        config = uvicorn.Config(
            admin_app(
                state, settings.token, LOOPBACK_NAMES if settings.loopback else None, pages, api
            ),
            host=settings.host,
            port=self.port,
            ssl_certfile=None if settings.certificate is None else str(settings.certificate),
            ssl_keyfile=None if settings.private_key is None else str(settings.private_key),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="admin-server", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> None:
        """Serve from now on; the address is answering when this returns."""
        self._thread.start()
        deadline = time.monotonic() + _START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise AdminConfigError(f"{self._option}: the server did not start (see the log)")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=2)
        if self._thread.is_alive():  # an idle keep-alive client must not hold the exit
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._sock.close()
