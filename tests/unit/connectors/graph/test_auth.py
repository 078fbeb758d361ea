"""Tokens through msal itself, with the authority served by an httpx.MockTransport."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.unit.connectors.graph.fake_graph import FakeGraph, error
from tests.unit.connectors.graph.support import Sleeps, add, config

from hybridsync.connectors.graph import GraphConnector
from hybridsync.connectors.graph.auth import MsalTokenSource
from hybridsync.core.ports import ExportOutcome
from hybridsync.errors import FatalConnectorError

AUTHORITY = "https://login.test/tenant-1"
BAD_SECRET = "AADSTS7000215: Invalid client secret provided."
EXPIRED = "Access token has expired or is not yet valid."


@dataclass
class Authority:
    """A tenant's OpenID configuration and token endpoint."""

    secret: str = "s3cret"
    issued: list[str] = field(default_factory=list)
    forms: list[dict[str, list[str]]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response | None:
        if request.url.host != "login.test":
            return None
        if request.url.path.endswith("/openid-configuration"):
            return httpx.Response(200, json=self.discovery())
        form = parse_qs(request.content.decode())
        self.forms.append(form)
        if form.get("client_secret") != [self.secret]:
            return httpx.Response(
                401,
                json={
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        token = f"access-{len(self.issued) + 1}"
        self.issued.append(token)
        return httpx.Response(
            200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": token}
        )

    @staticmethod
    def discovery() -> dict[str, Any]:
        return {
            "issuer": f"{AUTHORITY}/v2.0",
            "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
            "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
        }


def transport(authority: Authority, graph: FakeGraph) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return authority(request) or graph(request)

    return httpx.MockTransport(handler)


def test_msal_gets_a_token_once_and_serves_it_from_its_cache() -> None:
    authority = Authority()
    with httpx.Client(transport=transport(authority, FakeGraph())) as http:
        source = MsalTokenSource(config(), http)
        assert source.token() == "access-1"
        assert source.token() == "access-1"
        assert source.token(refresh=True) == "access-2"
    form = authority.forms[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["https://graph.microsoft.com/.default"]
    assert form["client_id"] == ["app-1"]


def test_the_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPH_SECRET", "from-env")
    authority = Authority(secret="from-env")
    with httpx.Client(transport=transport(authority, FakeGraph())) as http:
        source = MsalTokenSource(config(client_secret=None, client_secret_env="GRAPH_SECRET"), http)
        assert source.token() == "access-1"


def test_a_wrong_secret_stops_the_run_without_showing_the_secret() -> None:
    with httpx.Client(transport=transport(Authority(secret="other"), FakeGraph())) as http:
        source = MsalTokenSource(config(), http)
        with pytest.raises(FatalConnectorError, match="invalid_client") as raised:
            source.token()
    assert "s3cret" not in str(raised.value)


def test_an_expired_token_refused_by_graph_is_replaced_through_msal() -> None:
    authority = Authority()
    graph = FakeGraph()
    refused = {"access-1"}

    def handler(request: httpx.Request) -> httpx.Response:
        answer = authority(request)
        if answer is not None:
            return answer
        if request.headers["Authorization"].removeprefix("Bearer ") in refused:
            return httpx.Response(
                401,
                json=error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token has expired or is not yet valid.",
                ),
            )
        return graph(request)

    sleeps = Sleeps()
    with GraphConnector(
        config(), transport=httpx.MockTransport(handler), sleep=sleeps, clock=sleeps.clock
    ) as connector:
        (result,) = connector.export([add("c1", "QUJD", "ann@contoso.com")])
    assert result.outcome is ExportOutcome.APPLIED
    assert authority.issued == ["access-1", "access-2"]
    sent = [r.headers["Authorization"] for r in graph.requests]
    assert sent[-1] == "Bearer access-2"
    assert json.dumps([r.url.path for r in graph.requests]).count("$batch") == 1


def test_a_certificate_credential_sends_a_signed_assertion_not_a_secret(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "app.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = config(
        client_secret=None,
        certificate={"private_key_file": key_file, "thumbprint": "ab" * 20},
    )
    authority = Authority()
    with (
        httpx.Client(transport=transport(authority, FakeGraph())) as http,
        pytest.raises(FatalConnectorError, match="invalid_client"),
    ):
        MsalTokenSource(settings, http).token()  # the fake authority only knows secrets
    form = authority.forms[0]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assertion = form["client_assertion"][0]
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=["RS256", "PS256"],
        audience=f"{AUTHORITY}/oauth2/v2.0/token",
    )
    assert claims["iss"] == claims["sub"] == "app-1"
