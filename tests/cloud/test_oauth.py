"""Discovery, JWKS and the token endpoint, driven by msal over HTTPS."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import jwt
import msal
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from tests.support.cloud_server import GRAPH_SCOPE, CloudTenant
from tests.support.sessions import closed_after_test

from hybridsync.cloud.db import Database, signing_keys
from hybridsync.cloud.keys import SigningKeys


@pytest.fixture(autouse=True)
def trust_test_ca(tenant: CloudTenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests prefers REQUESTS_CA_BUNDLE over a session's verify=; point both at the test CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tenant.server.ca_path))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def msal_app(
    tenant: CloudTenant, credential: object, client_id: str, **kwargs: object
) -> msal.ConfidentialClientApplication:
    app = msal.ConfidentialClientApplication(
        client_id, client_credential=credential, verify=str(tenant.server.ca_path), **kwargs
    )
    closed_after_test(app.http_client)
    return app


def claims_of(
    tenant: CloudTenant, token: str, audience: str = "https://graph.microsoft.com"
) -> dict[str, object]:
    jwks = jwt.PyJWKClient(
        f"{tenant.authority}/discovery/v2.0/keys",
        ssl_context=ssl.create_default_context(cafile=str(tenant.server.ca_path)),
    )
    key = jwks.get_signing_key_from_jwt(token)
    return dict(jwt.decode(token, key.key, algorithms=["RS256"], audience=audience))


def test_msal_with_tenant_authority(tenant: CloudTenant) -> None:
    app = tenant.sync_app
    client = msal_app(
        tenant,
        app.client_secret,
        app.application.client_id,
        authority=tenant.authority,
        instance_discovery=False,
    )
    result = client.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result["token_type"] == "Bearer"
    claims = claims_of(tenant, result["access_token"])
    assert claims["iss"] == f"{tenant.authority}/v2.0"
    assert claims["tid"] == tenant.id
    assert claims["oid"] == app.application.object_id
    assert claims["azp"] == app.application.client_id
    assert claims["azpacr"] == "1"
    assert sorted(claims["roles"]) == sorted(app.application.roles)  # type: ignore[arg-type]
    assert int(claims["exp"]) - int(claims["iat"]) == 3599  # type: ignore[call-overload]


def test_msal_with_oidc_authority_by_domain(tenant: CloudTenant) -> None:
    app = tenant.admin_app
    authority = f"{tenant.server.base_url}/{tenant.domain}/v2.0"
    client = msal_app(
        tenant, app.client_secret, app.application.client_id, oidc_authority=authority
    )
    result = client.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert claims_of(tenant, result["access_token"])["tid"] == tenant.id


def test_msal_with_a_certificate(tenant: CloudTenant, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sync engine")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    app = tenant.add_app(["User.Read.All"], certificate_pem=cert_pem)
    assert app.client_secret is None
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    credential = {"private_key": key_pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex()}
    client = msal_app(
        tenant,
        credential,
        app.application.client_id,
        authority=tenant.authority,
        instance_discovery=False,
    )
    result = client.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert claims_of(tenant, result["access_token"])["azpacr"] == "2"
    with tenant.client(result["access_token"]) as http:
        assert http.get("/v1.0/users").status_code == 200


@pytest.mark.parametrize(
    ("secret", "client_id", "scope", "error", "code"),
    [
        ("wrong", None, GRAPH_SCOPE, "invalid_client", 7000215),
        (None, "00000000-0000-0000-0000-000000000000", GRAPH_SCOPE, "unauthorized_client", 700016),
        (None, None, "https://elsewhere.example/.default", "invalid_scope", 1002012),
    ],
)
def test_token_errors(
    tenant: CloudTenant,
    secret: str | None,
    client_id: str | None,
    scope: str,
    error: str,
    code: int,
) -> None:
    app = tenant.admin_app
    client = msal_app(
        tenant,
        secret or app.client_secret,
        client_id or app.application.client_id,
        authority=tenant.authority,
        instance_discovery=False,
    )
    result = client.acquire_token_for_client(scopes=[scope])
    assert result["error"] == error
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}: ")


def test_unknown_tenant_is_refused_at_discovery(tenant: CloudTenant) -> None:
    app = tenant.admin_app
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal_app(
            tenant,
            app.client_secret,
            app.application.client_id,
            authority=f"{tenant.server.base_url}/nowhere.example",
            instance_discovery=False,
        )


def test_token_for_the_service_itself(tenant: CloudTenant) -> None:
    token = tenant.app_token(tenant.admin_app, scope=f"{tenant.server.base_url}/.default")
    assert (
        claims_of(tenant, token, audience=tenant.server.base_url)["aud"] == tenant.server.base_url
    )
    with tenant.client(token) as http:
        assert http.get("/v1.0/users").status_code == 200


def test_client_secret_by_basic_authentication(tenant: CloudTenant) -> None:
    app = tenant.admin_app
    with tenant.client() as http:
        answer = http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
            auth=(app.application.client_id, app.client_secret or ""),
        )
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 3599


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[SigningKeys]:
    db = Database(f"sqlite:///{tmp_path / 'keys.db'}")
    yield SigningKeys(db, SecretStr("master"), dt.timedelta(hours=1))
    db.close()


def test_rotation_keeps_old_keys_until_their_tokens_expire(keys: SigningKeys) -> None:
    old = keys.active()
    new = keys.rotate()
    assert keys.active().kid == new.kid != old.kid
    assert {k["kid"] for k in keys.jwks("iss")["keys"]} == {old.kid, new.kid}
    with keys._db.write() as conn:  # the old key was retired more than a token lifetime ago
        conn.execute(
            sa.update(signing_keys)
            .where(signing_keys.c.kid == old.kid)
            .values(retired=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
    keys._cache = None
    assert [k["kid"] for k in keys.jwks("iss")["keys"]] == [new.kid]


def test_private_keys_are_encrypted_at_rest(keys: SigningKeys) -> None:
    keys.active()
    with keys._db.read() as conn:
        stored = conn.execute(sa.select(signing_keys.c.private_pem)).scalar_one()
    assert b"ENCRYPTED PRIVATE KEY" in stored
