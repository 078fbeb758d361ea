"""Password hash sync uploads to the project's cloud directory (the sync role's extension).

Only the derived wire text is sent (``v1;PPH1_MD4,...;``), over HTTPS with certificate
validation, to ``POST /v1.0/hybridsync/passwordHashes``. Microsoft Graph has no such API:
a connector with ``target = "entra"`` refuses to upload (configuration error). An upload
replaces the stored hash, so resending after a lost answer is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from hybridsync.connectors.graph.auth import BearerAuth, MsalTokenSource, TokenSource
from hybridsync.connectors.graph.client import GraphClient
from hybridsync.connectors.graph.config import GraphConfig
from hybridsync.connectors.graph.errors import parse_error
from hybridsync.connectors.graph.session import http_client, retry_policy
from hybridsync.core.password_hash_sync.targets import HashUpload, UploadResult
from hybridsync.errors import ConfigError, FatalConnectorError

__all__ = ["PATH", "PasswordHashUploader"]

PATH = "/hybridsync/passwordHashes"
CHUNK = 100


class PasswordHashUploader:
    """Implements ``PasswordHashTarget`` for a Graph connector aimed at the project's cloud."""

    def __init__(
        self,
        config: GraphConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        tokens: TokenSource | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.target != "hybridsync":
            raise ConfigError(
                f"connector {config.name}: password hash sync needs target = 'hybridsync' "
                "(Microsoft Graph accepts no password hashes)"
            )
        self._config = config
        self._http = http_client(config, transport)
        self._auth = BearerAuth(tokens or MsalTokenSource(config, self._http))
        policy = retry_policy(config, sleep=sleep)
        self._client = GraphClient(self._http, config.base_url, self._auth, policy)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PasswordHashUploader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def upload_password_hashes(self, uploads: Sequence[HashUpload]) -> Iterator[UploadResult]:
        for start in range(0, len(uploads), CHUNK):
            chunk = uploads[start : start + CHUNK]
            answer = self._post([{"userId": u.cloud_id, "passwordHash": u.wire} for u in chunk])
            yield from _results(chunk, answer)

    def _post(self, items: list[dict[str, str]]) -> Any:
        # An upload replaces the stored hashes: repeatable, so the client's retry loop
        # (throttling with Retry-After, server errors, lost connections) applies as is.
        response = self._client.send_repeatable("POST", PATH, json={"value": items})
        if response.status_code != 200:
            error = parse_error(response.status_code, _json(response))
            raise FatalConnectorError(f"POST {PATH} refused: {error.describe()}")
        return _json(response)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _results(chunk: Sequence[HashUpload], answer: Any) -> Iterator[UploadResult]:
    values = answer.get("value") if isinstance(answer, dict) else None
    by_user = {str(item.get("userId")): item for item in values or () if isinstance(item, dict)}
    for upload in chunk:
        item = by_user.get(upload.cloud_id)
        if item is None:
            yield UploadResult(upload.anchor, f"cloud user {upload.cloud_id}: no answer")
        elif item.get("status") == 204:
            yield UploadResult(upload.anchor)
        else:
            error = item.get("error") or {}
            message = f"{error.get('code', item.get('status'))}: {error.get('message', '')}"
            yield UploadResult(upload.anchor, f"cloud user {upload.cloud_id}: {message}")
