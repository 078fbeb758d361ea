"""The embedded cloud directory: ``hybridsync.cloud`` in this process, no server to start.

A connector of type ``embedded-cloud`` is the Graph connector talking to the cloud
directory's ASGI application through :class:`InProcessTransport`: the same requests,
token flow and validation as against a served directory or Entra ID, without a socket.
The directory keeps its data in a folder laid out as ``hybridsync cloud init`` does
(``cloud.db``, ``master.key``), plus the sync application's credentials
(``sync-app.json``, owner-only), all created on first use. ``hybridsync cloud serve
--data-dir <folder>`` serves the same directory over HTTPS to browse it.

Only the wiring layer joins the two: connectors never import ``cloud``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hybridsync.cloud import CloudService
from hybridsync.cloud.local import MASTER_KEY, initialize, settings_for
from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES, Tenant
from hybridsync.connectors.graph import GraphConfig, GraphConnector
from hybridsync.errors import ConfigError, HybridsyncError, os_error_reason
from hybridsync.wiring.asgi import InProcessTransport
from hybridsync.wiring.embedded_config import EmbeddedCloudConfig

BASE_URL = "https://embedded-cloud.invalid"
"""Never resolved: every request goes to the in-process application."""

SYNC_APP_NAME = "hybridsync sync engine"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@dataclass(slots=True)
class EmbeddedCloud:
    """One cloud directory in a data folder, with its tenant and the sync app's credentials."""

    data_dir: Path
    service: CloudService
    tenant: Tenant
    client_id: str
    client_secret: SecretStr

    @classmethod
    def open(cls, data_dir: Path, tenant: str, domains: list[str] | None = None) -> EmbeddedCloud:
        """Open the directory in ``data_dir``, creating the folder, tenant and app if new."""
        try:
            if not (data_dir / MASTER_KEY).exists():
                initialize(data_dir)
            service = CloudService(settings_for(data_dir))
        except OSError as exc:
            raise ConfigError(
                f"cannot use the cloud data folder: {os_error_reason(exc)}", source=str(data_dir)
            ) from exc
        try:
            found = service.tenancy.find_tenant(tenant)
            if found is None:
                found = service.tenancy.create_tenant(tenant, domains or [])
            client_id, secret = _sync_app(data_dir, service, found)
        except HybridsyncError:
            service.close()
            raise
        return cls(data_dir, service, found, client_id, SecretStr(secret))

    def graph_config(self, name: str) -> GraphConfig:
        return GraphConfig(
            name=name,
            base_url=f"{BASE_URL}/v1.0",
            authority=f"{BASE_URL}/{self.tenant.id}",
            client_id=self.client_id,
            client_secret=self.client_secret,
            target="hybridsync",
        )

    def users(self) -> Iterator[dict[str, Any]]:
        """The tenant's live users, as Graph JSON."""
        return self.service.users.scan(self.tenant.id)

    def close(self) -> None:
        self.service.close()


def _sync_app(data_dir: Path, service: CloudService, tenant: Tenant) -> tuple[str, str]:
    """The sync app's credentials, registered once; the secret is kept only in this file."""
    path = data_dir / "sync-app.json"
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        app = service.tenancy.application(saved["client_id"])
        if app is not None and app.tenant_id == tenant.id:
            return str(saved["client_id"]), str(saved["client_secret"])
    new = service.tenancy.add_application(tenant.id, SYNC_APP_NAME, DEFAULT_SYNC_APP_ROLES)
    secret = new.client_secret or ""
    saved = {"tenant_id": tenant.id, "client_id": new.application.client_id}
    _write_private(path, json.dumps(saved | {"client_secret": secret}))
    return new.application.client_id, secret


class _AppOnFirstRequest:
    """The directory's web application, built when the first request comes: a command
    that sends none (``status``, ``history``) need not load FastAPI and its routes."""

    def __init__(self, service: CloudService) -> None:
        self._service = service
        self._app: Any = None
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._built()(scope, receive, send)

    def _built(self) -> Any:
        with self._lock:
            if self._app is None:
                from hybridsync.cloud import create_app

                self._app = create_app(self._service)
            return self._app


class EmbeddedCloudConnector(GraphConnector):
    """The Graph connector bound to an embedded directory; closing it closes both."""

    def __init__(self, cloud: EmbeddedCloud, name: str) -> None:
        self.cloud = cloud
        self._transport = InProcessTransport(_AppOnFirstRequest(cloud.service))
        super().__init__(cloud.graph_config(name), transport=self._transport)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._transport.close()
            self.cloud.close()


def build_embedded_cloud(config: EmbeddedCloudConfig) -> EmbeddedCloudConnector:
    """Factory of the ``embedded-cloud`` connector type (see wiring/registry.py)."""
    cloud = EmbeddedCloud.open(config.data_dir, config.tenant, config.domains)
    return EmbeddedCloudConnector(cloud, config.name)
