"""The user grants of the token endpoint: password (ROPC), authorization code, refresh token.

Each grant issues the Graph scopes it asked for only when the tenant consented to them for
that application (``hybridsync.cloud.consent.granted_scopes``); a refresh token never yields
more than its original grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hybridsync.cloud.consent import GrantedScopes, granted_scopes
from hybridsync.cloud.errors import GraphError, OAuthError
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.codes import challenge_matches
from hybridsync.cloud.signin.outcomes import Outcome, oauth_error
from hybridsync.cloud.signin.service import signin_of
from hybridsync.cloud.signin.user_tokens import token_response
from hybridsync.cloud.signin.verify import verify_password
from hybridsync.cloud.tenancy import Application

USER_GRANTS = frozenset({"password", "authorization_code", "refresh_token"})


class TokenForm(BaseModel):
    """The token endpoint's form fields (OAuth 2.0 and Entra's); a field not sent is empty."""

    grant_type: str = ""
    scope: str = ""
    client_id: str = ""
    client_secret: str = ""
    client_assertion_type: str = ""
    client_assertion: str = ""
    username: str = ""
    password: str = ""
    code: str = ""
    code_verifier: str = ""
    redirect_uri: str = ""
    refresh_token: str = ""


@dataclass(frozen=True, slots=True)
class GrantRequest:
    """A user grant's request: the form, and the tenant and client it was authenticated for."""

    tenant_id: str
    client_id: str
    base_url: str
    form: TokenForm


@dataclass(frozen=True, slots=True)
class _Granted:
    """What a grant established: the user, the scopes granted, the nonce for the id token."""

    user: dict[str, Any]
    scopes: GrantedScopes
    nonce: str | None = None


def user_grant(service: CloudService, app: Application, grant: GrantRequest) -> dict[str, Any]:
    """The token response of a user grant by ``app`` (its client already authenticated)."""
    if grant.form.grant_type == "password":
        granted = _password(service, app, grant)
    elif grant.form.grant_type == "authorization_code":
        granted = _code(service, app, grant)
    else:
        granted = _refresh(service, app, grant)
    return token_response(
        service, base_url=grant.base_url, tenant_id=grant.tenant_id, client_id=grant.client_id,
        user=granted.user, scopes=granted.scopes, nonce=granted.nonce,
    )  # fmt: skip


def _scopes(
    service: CloudService,
    app: Application,
    requested: tuple[str, ...],
    within: frozenset[str] | None = None,
) -> GrantedScopes:
    registration = service.clients.registration(app)
    return granted_scopes(app, registration, requested, within=within)


def _password(service: CloudService, app: Application, grant: GrantRequest) -> _Granted:
    if not grant.form.username or not grant.form.password:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameters: 'username', 'password'.",
        )
    # Consent is checked before the password: a refused scope costs no password check
    # and counts to no lockout.
    scopes = _scopes(service, app, tuple(grant.form.scope.split()))
    verdict = verify_password(service, grant.tenant_id, grant.form.username, grant.form.password)
    if verdict.outcome is not Outcome.SUCCESS or verdict.user is None:
        raise oauth_error(verdict.outcome)
    return _Granted(verdict.user, scopes)


def _code(service: CloudService, app: Application, grant: GrantRequest) -> _Granted:
    found = signin_of(service).codes.redeem(grant.form.code)
    if (
        found is None
        or found.tenant_id != grant.tenant_id
        or found.client_id != grant.client_id
        or found.redirect_uri != grant.form.redirect_uri
    ):
        raise OAuthError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired, was already"
            " redeemed, or was issued for another client or redirect URI.",
        )
    if not challenge_matches(found, grant.form.code_verifier):
        raise OAuthError(
            "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge."
        )
    scopes = _scopes(service, app, found.scopes)
    user = _current_user(service, grant.tenant_id, found.user_id)
    return _Granted(user, scopes, found.nonce)


def _refresh(service: CloudService, app: Application, grant: GrantRequest) -> _Granted:
    found = signin_of(service).store.redeem_refresh(grant.form.refresh_token, utcnow())
    if found is None or found.tenant_id != grant.tenant_id or found.client_id != grant.client_id:
        raise OAuthError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired, was already"
            " redeemed, or was issued for another client.",
        )
    original = _scopes(service, app, found.scopes)
    requested = tuple(grant.form.scope.split()) or found.scopes
    if "offline_access" not in requested:
        requested = (*requested, "offline_access")
    scopes = _scopes(service, app, requested, within=frozenset(original.graph))
    user = _current_user(service, grant.tenant_id, found.user_id)
    return _Granted(user, scopes)


def _current_user(service: CloudService, tenant_id: str, user_id: str) -> dict[str, Any]:
    """The user as now: a deleted or disabled user's code or refresh token is worthless."""
    try:
        user = service.users.get(tenant_id, user_id)
    except GraphError as exc:
        raise oauth_error(Outcome.INVALID_CREDENTIALS) from exc
    if user.get("accountEnabled") is False:
        raise oauth_error(Outcome.DISABLED)
    return user
