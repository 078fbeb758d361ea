"""Access tokens from msal's client-credentials flow, cached and refreshed.

msal talks to the authority through the connector's own ``httpx.Client`` (same TLS
settings, same transport in tests), adapted to the small interface msal documents in
``msal.oauth2cli.http``.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from typing import Any, Protocol

import httpx
import msal
from msal.application import extract_certs
from msal.oauth2cli.assertion import JwtAssertionCreator

from hybridsync.connectors.graph.config import GraphConfig
from hybridsync.connectors.graph.errors import OutcomeUnknown, RequestNotSent, transport_errors
from hybridsync.errors import FatalConnectorError, TransientConnectorError

TRANSIENT_TOKEN_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


class TokenSource(Protocol):
    def token(self, *, refresh: bool = False) -> str:
        """A bearer token; ``refresh`` drops the cached one first (it was refused)."""
        ...


def _form(data: Mapping[str, Any] | None) -> dict[str, str] | None:
    """msal puts the client assertion in as bytes; httpx would send their repr."""
    if data is None:
        return None
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}


class _MsalHttpClient:
    """msal's ``HttpClient`` over httpx (msal sends ``data`` as a dict or a string)."""

    def __init__(self, client: httpx.Client):
        self._client = client

    def post(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | str | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        content = {"content": data} if isinstance(data, str) else {"data": _form(data)}
        try:
            with transport_errors("token request"):
                return self._client.post(url, params=params, headers=headers, **content)
        except OutcomeUnknown as exc:
            # Asking for a token twice is harmless, and the Graph request that needed
            # it was not sent: say so, or a create would be reported as unknown.
            raise RequestNotSent(str(exc)) from exc

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        with transport_errors("authority discovery"):
            return self._client.get(url, params=params, headers=headers)

    def close(self) -> None:
        """The httpx client belongs to the connector, which closes it."""


class MsalTokenSource:
    """Tokens for one application, through ``msal.ConfidentialClientApplication``.

    msal caches the token and answers from its cache until shortly before expiry; a
    token the service refuses (401) is removed from the cache so the next call gets a
    fresh one.
    """

    def __init__(self, config: GraphConfig, http: httpx.Client):
        self._config = config
        self._http = http
        self._app: Any = None
        self._lock = threading.Lock()

    def _credential(self) -> Any:
        secret = self._config.secret()
        if secret is not None:
            return secret.get_secret_value()
        certificate = self._config.certificate
        assert certificate is not None  # the config model guarantees one credential
        headers: dict[str, Any] = {}
        if certificate.public_certificate_file is not None:
            pem = certificate.public_certificate_file.read_text(encoding="utf-8")
            headers["x5c"] = extract_certs(pem)
        creator = JwtAssertionCreator(
            certificate.private_key_file.read_text(encoding="utf-8"),
            algorithm="RS256",
            sha1_thumbprint=certificate.thumbprint,
            headers=headers,
        )
        audience = f"{self._config.authority.rstrip('/')}/oauth2/v2.0/token"
        client_id = self._config.client_id

        def fresh_assertion() -> str:
            # A new assertion (new jti) for every token request: msal's own would be
            # reused for minutes, and a directory that refuses replayed assertions (as
            # hybridsync's does) would then refuse the refresh that follows a 401.
            signed = creator.create_normal_assertion(audience=audience, issuer=client_id)
            return signed.decode() if isinstance(signed, bytes) else str(signed)

        return {"client_assertion": fresh_assertion}

    def _application(self) -> Any:
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self._config.client_id,
                    client_credential=self._credential(),
                    authority=self._config.authority,
                    instance_discovery=self._config.instance_discovery,
                    http_client=_MsalHttpClient(self._http),
                )
            except (ValueError, msal.exceptions.MsalError) as exc:
                raise FatalConnectorError(
                    f"authority {self._config.authority} refused: {exc}"
                ) from exc
        return self._app

    def token(self, *, refresh: bool = False) -> str:
        with self._lock:
            result = self._acquire(refresh)
        if "access_token" in result:
            return str(result["access_token"])
        error = str(result.get("error", "unknown_error"))
        description = str(result.get("error_description", "")).splitlines()[0:1]
        message = f"{self._who}: {error} {' '.join(description)}"
        if error in TRANSIENT_TOKEN_ERRORS:
            raise TransientConnectorError(message)
        raise FatalConnectorError(message)

    @property
    def _who(self) -> str:
        return f"token for client {self._config.client_id}"

    def _acquire(self, refresh: bool) -> dict[str, Any]:
        app = self._application()
        if refresh:
            cache = app.token_cache
            for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(entry)
        try:
            return dict(app.acquire_token_for_client(scopes=[self._config.scope]))
        except (ValueError, msal.exceptions.MsalError) as exc:
            raise FatalConnectorError(f"{self._who}: {exc}") from exc


class BearerAuth(httpx.Auth):
    """Adds the bearer token; on a 401 gets a fresh token and sends once more."""

    def __init__(self, tokens: TokenSource):
        self._tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._tokens.token()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self._tokens.token(refresh=True)}"
            yield request
