"""OpenID Connect discovery, JWKS and the token endpoint (client credentials; user grants in
``hybridsync.cloud.signin``)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

import jwt
from cryptography import x509
from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import JSONResponse

from hybridsync.cloud.api.deps import Service
from hybridsync.cloud.errors import OAuthError
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.grants import USER_GRANTS, GrantRequest, TokenForm, user_grant
from hybridsync.cloud.tenancy import Application, Tenant, secret_matches
from hybridsync.cloud.tokens import GRAPH_RESOURCE, issuer_of

router = APIRouter(tags=["oauth2"])
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CACHE_A_DAY = {"Cache-Control": "max-age=86400, private"}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_ASSERTION_LIFETIME = dt.timedelta(hours=1)
MAX_JTI_LENGTH = 256  # the replay store's column
_NO_FORM = TokenForm()  # the body may be left out: every field of it is optional


def _tenant(service: CloudService, tenant: str) -> Tenant:
    found = service.tenancy.find_tenant(tenant)
    if found is None:
        raise OAuthError(
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID"
            " and are signing into the correct cloud.",
        )
    return found


@router.get("/{tenant}/v2.0/.well-known/openid-configuration")
def openid_configuration(tenant: str, request: Request, service: Service) -> JSONResponse:
    found = _tenant(service, tenant)
    base = service.base_url(request)
    root = f"{base}/{found.id}"
    document = {
        "issuer": issuer_of(base, found.id),
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "grant_types_supported": [
            "client_credentials",
            "authorization_code",
            "password",
            "refresh_token",
        ],
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "upn",
            "idp",
            "oid",
            "roles",
            "acct",
        ],
        "tenant_region_scope": None,
        "cloud_instance_name": "hybridsync",
        "msgraph_host": request.url.netloc,
    }
    return JSONResponse(document, headers=CACHE_A_DAY)


@router.get("/{tenant}/discovery/v2.0/keys")
def jwks(tenant: str, request: Request, service: Service) -> JSONResponse:
    found = _tenant(service, tenant)
    document = service.keys.jwks(issuer_of(service.base_url(request), found.id))
    return JSONResponse(document, headers=CACHE_A_DAY)


@router.post("/{tenant}/oauth2/v2.0/token")
def token(
    tenant: str,
    request: Request,
    service: Service,
    form: Annotated[TokenForm, Form()] = _NO_FORM,
) -> JSONResponse:
    found = _tenant(service, tenant)
    base = service.base_url(request)
    basic_id, basic_secret = _basic_credentials(request)
    client_id = form.client_id or basic_id
    if not client_id:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
    app = _application(service, found, client_id)
    credential = ClientCredential(
        form.client_secret or basic_secret, form.client_assertion_type, form.client_assertion
    )
    # Where a client assertion may be addressed: this URL as called, or the tenant's by id.
    audiences = [str(request.url).split("?")[0], f"{base}/{found.id}/oauth2/v2.0/token"]
    if form.grant_type in USER_GRANTS:
        _authenticate_any(service, app, credential, audiences)
        grant = GrantRequest(found.id, app.client_id, base, form)
        return JSONResponse(user_grant(service, app, grant), headers=NO_STORE)
    if form.grant_type != "client_credentials":
        raise OAuthError(
            "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
        )
    kind = _authenticate(service, app, credential, audiences)
    issued = service.issuer.issue_app_token(
        base_url=base,
        tenant_id=found.id,
        client_id=app.client_id,
        object_id=app.object_id,
        roles=app.roles,
        audience=_audience(form.scope, base, request),
        credential_kind=kind,
    )
    return JSONResponse(
        {
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "ext_expires_in": issued.expires_in,
            "access_token": issued.access_token,
        },
        headers=NO_STORE,
    )


def _application(service: CloudService, tenant: Tenant, client_id: str) -> Application:
    app = service.tenancy.application(client_id)
    if app is None or app.tenant_id != tenant.id:
        raise OAuthError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory"
            f" '{tenant.display_name}'.",
        )
    return app


def _basic_credentials(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return unquote(user), unquote(password)


@dataclass(frozen=True, slots=True)
class ClientCredential:
    """What a client sent to prove who it is: a secret, or a signed assertion."""

    secret: str
    assertion_type: str
    assertion: str

    @property
    def present(self) -> bool:
        return bool(self.secret or self.assertion)


def _authenticate_any(
    service: CloudService, app: Application, credential: ClientCredential, audiences: list[str]
) -> None:
    """A user grant: a public client proves nothing (and must not pretend to); a
    confidential client authenticates on every grant, as with client credentials."""
    if not app.is_public_client:
        _authenticate(service, app, credential, audiences)
    elif credential.present:
        raise OAuthError(
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be"
            " presented.",
            status=401,
        )


def _authenticate(
    service: CloudService, app: Application, credential: ClientCredential, audiences: list[str]
) -> str:
    """Check the client credential (an assertion addressed to one of ``audiences``); returns
    ``azpacr`` (1 secret, 2 certificate)."""
    if credential.assertion:
        if credential.assertion_type != ASSERTION_TYPE or not app.certificate_pem:
            raise _invalid_client(700027, "The client assertion is not valid for this application.")
        _check_assertion(service, app, credential.assertion, audiences)
        return "2"
    if not credential.secret:
        raise _invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or"
            " 'client_secret'.",
        )
    if secret_matches(app, credential.secret):
        return "1"
    raise _invalid_client(
        7000215,
        f"Invalid client secret provided. Ensure the secret being sent in the request is the"
        f" client secret value, not the client secret ID, for a secret added to app"
        f" '{app.client_id}'.",
    )


def _check_assertion(
    service: CloudService, app: Application, assertion: str, audiences: list[str]
) -> None:
    certificate = x509.load_pem_x509_certificate(str(app.certificate_pem).encode())
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            certificate.public_key(),  # type: ignore[arg-type]
            algorithms=["RS256", "PS256"],
            audience=audiences,
            options={"require": ["exp", "iss", "sub", "aud", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise _invalid_client(
            700027, f"Client assertion failed signature or claim validation: {exc}"
        ) from exc
    if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
        raise _invalid_client(700027, "Client assertion issuer and subject must be the client id.")
    expires = _assertion_expiry(claims)
    jti = str(claims["jti"])
    if not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise _invalid_client(700027, "The client assertion's jti is empty or too long.")
    if not service.clients.first_use_of_assertion(app.client_id, jti, expires):
        # A captured assertion replayed within its lifetime is worth nothing.
        raise _invalid_client(700027, "The client assertion's jti has already been used.")


def _assertion_expiry(claims: dict[str, Any]) -> dt.datetime:
    """The assertion's expiry; one valid for more than an hour is refused (Entra's limit),
    so that a leaked one is short-lived and the replay store stays small."""
    now = utcnow()
    try:
        expires = dt.datetime.fromtimestamp(float(claims["exp"]), dt.UTC)
        start = claims.get("nbf", claims.get("iat"))
        starts = now if start is None else dt.datetime.fromtimestamp(float(start), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise _invalid_client(700027, "The client assertion has an invalid lifetime.") from exc
    if (
        expires - min(starts, now) > MAX_ASSERTION_LIFETIME
        or expires - now > MAX_ASSERTION_LIFETIME
    ):
        raise _invalid_client(
            700027, "The client assertion is valid for more than an hour: request a new one."
        )
    return expires


def _invalid_client(code: int, description: str) -> OAuthError:
    return OAuthError("invalid_client", code, description, status=401)


def _audience(scope: str, base: str, request: Request) -> str:
    """The resource of a ``<resource>/.default`` scope: Graph or this service itself."""
    scopes = scope.split()
    if not scopes:
        raise OAuthError(
            "invalid_request",
            90014,
            "The request body must contain the following parameter: 'scope'.",
        )
    resources = {s.removesuffix("/.default").rstrip("/") for s in scopes if s.endswith("/.default")}
    own = {GRAPH_RESOURCE, base, f"https://{request.url.hostname}"}
    if len(scopes) != 1 or len(resources) != 1 or not resources <= own:
        raise OAuthError(
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must"
            " have a scope value with /.default suffixed to the resource identifier"
            " (application ID URI).",
        )
    return resources.pop()
