"""The console as an OpenID Connect client: authorization code with PKCE.

The issuer's discovery document names its endpoints and keys. An ID token is accepted
only when its signature verifies with a key of the issuer's JWKS (RS256 only: a token
cannot choose ``none`` or an HMAC with the public key as its secret), its ``iss`` is the
configured issuer, its ``aud`` the console's client id, it has not expired, and its
``nonce`` is the one this sign-in sent.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from hybridsync.config.console import ConsoleConfig
from hybridsync.errors import HybridsyncError

__all__ = ["Flow", "OidcClient", "SignInError"]

_TIMEOUT = 10.0
_KEYS_MAX_AGE = 3600.0
_LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256"]


class SignInError(HybridsyncError):
    """A sign-in that cannot be accepted (the message says why; no secret in it)."""


@dataclass(frozen=True, slots=True)
class Flow:
    """One sign-in in progress: what the browser is sent with, and what checks its return."""

    state: str
    nonce: str
    verifier: str
    return_to: str
    started: float
    browser: str = ""
    """The value of the flow cookie set in the browser that started the sign-in."""
    client: str = ""
    """The address the sign-in was started from (a cap per address)."""


class OidcClient:
    def __init__(self, config: ConsoleConfig, secret: str | None) -> None:
        self._config = config
        self._secret = secret
        self._verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(config.ca_file))
            if config.ca_file is not None
            else True
        )
        self._lock = threading.Lock()
        self._discovery: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._keys_read = 0.0

    def start(self, return_to: str) -> tuple[Flow, str]:
        """A new flow and the authorization URL to send the browser to."""
        flow = Flow(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            return_to=return_to,
            started=time.monotonic(),
            browser=secrets.token_urlsafe(32),
        )
        challenge = base64.urlsafe_b64encode(hashlib.sha256(flow.verifier.encode()).digest())
        query = {
            "client_id": self._config.client_id,
            "response_type": "code",
            "redirect_uri": self._config.redirect_uri,
            "scope": "openid profile",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "response_mode": "query",
        }
        endpoint = self._document()["authorization_endpoint"]
        return flow, f"{endpoint}?{urlencode(query)}"

    def finish(self, flow: Flow, code: str) -> dict[str, Any]:
        """The validated ID token's claims for the code the browser brought back.

        Raises:
            SignInError: the token endpoint refused the code, or the ID token is not valid.
        """
        form = {
            "grant_type": "authorization_code",
            "client_id": self._config.client_id,
            "code": code,
            "redirect_uri": self._config.redirect_uri,
            "code_verifier": flow.verifier,
            "scope": "openid profile",
        }
        if self._secret is not None:
            form["client_secret"] = self._secret
        answer = self._http("post", self._document()["token_endpoint"], data=form)
        if answer.status_code != 200:
            raise SignInError(f"the identity provider refused the code ({answer.status_code})")
        token = answer.json().get("id_token")
        if not isinstance(token, str):
            raise SignInError("the identity provider sent no ID token")
        claims = self.validate(token)
        if not secrets.compare_digest(str(claims.get("nonce", "")), flow.nonce):
            raise SignInError("the ID token's nonce is not this sign-in's")
        return claims

    def validate(self, token: str) -> dict[str, Any]:
        """The claims of an ID token whose signature, issuer, audience and expiry hold."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise SignInError(f"the ID token is not a JWT: {exc}") from None
        if header.get("alg") not in ALGORITHMS:
            raise SignInError(f"the ID token's algorithm {header.get('alg')!r} is not accepted")
        key = self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._config.client_id,
                issuer=self._config.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInError(f"the ID token is not valid: {exc}") from None
        return claims

    # --- the issuer's documents ------------------------------------------------------------

    def _document(self) -> dict[str, Any]:
        with self._lock:
            if self._discovery is None:
                url = self._config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                answer = self._http("get", url)
                if answer.status_code != 200:
                    raise SignInError(f"{url}: answered {answer.status_code}")
                document = answer.json()
                if document.get("issuer") != self._config.issuer:
                    raise SignInError(
                        f"{url} names the issuer {document.get('issuer')!r}, "
                        f"not the configured {self._config.issuer!r}"
                    )
                _require_https(url, document)
                self._discovery = document
            return self._discovery

    def _key(self, kid: str) -> Any:
        """The signing key ``kid``; the JWKS is read again once when it does not have it
        (the issuer rolled its keys)."""
        for refresh in (False, True):
            keys = self._jwks(refresh)
            for key in keys.keys:
                if key.key_id == kid:
                    return key.key
        raise SignInError(f"the issuer has no signing key {kid!r}")

    def _jwks(self, refresh: bool) -> jwt.PyJWKSet:
        document = self._document()
        with self._lock:
            stale = time.monotonic() - self._keys_read > _KEYS_MAX_AGE
            if self._keys is None or refresh or stale:
                answer = self._http("get", document["jwks_uri"])
                if answer.status_code != 200:
                    raise SignInError(f"{document['jwks_uri']}: answered {answer.status_code}")
                self._keys = jwt.PyJWKSet.from_dict(answer.json())
                self._keys_read = time.monotonic()
            return self._keys

    def _http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            with httpx.Client(verify=self._verify, timeout=_TIMEOUT, trust_env=False) as http:
                return http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise SignInError(f"the identity provider cannot be reached: {exc}") from None


def _require_https(url: str, document: dict[str, Any]) -> None:
    """The endpoints the console trusts (keys, tokens) are reached over HTTPS only: a
    plain-HTTP one would let the network hand the console keys or tokens of its own."""
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith("https://"):
            raise SignInError(f"{url}: {name} {value!r} is not an https:// URL")
