"""Access tokens: issuing (RS256, Entra v2 claims) and validating bearer tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import jwt

from hybridsync.cloud.errors import unauthenticated
from hybridsync.cloud.keys import SigningKeys

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def issuer_of(base_url: str, tenant_id: str) -> str:
    return f"{base_url}/{tenant_id}/v2.0"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenIssuer:
    def __init__(self, keys: SigningKeys, lifetime: dt.timedelta) -> None:
        self._keys = keys
        self.lifetime = lifetime

    def issue_app_token(
        self,
        *,
        base_url: str,
        tenant_id: str,
        client_id: str,
        object_id: str,
        roles: tuple[str, ...],
        audience: str,
        credential_kind: str,
    ) -> IssuedToken:
        claims = {
            "aud": audience,
            "tid": tenant_id,
            "oid": object_id,
            "sub": object_id,
            "azp": client_id,
            "appid": client_id,
            "azpacr": credential_kind,
            "idtyp": "app",
            "roles": list(roles),
        }
        return self._sign(base_url, tenant_id, claims)

    def issue_user_token(
        self,
        *,
        base_url: str,
        tenant_id: str,
        client_id: str,
        user: dict[str, Any],
        scopes: tuple[str, ...],
        audience: str = GRAPH_RESOURCE,
        lifetime: dt.timedelta | None = None,
    ) -> IssuedToken:
        """A delegated token for ``user`` (the sign-in grants call this)."""
        claims = {
            "aud": audience,
            "tid": tenant_id,
            "oid": user["id"],
            "sub": user["id"],
            "azp": client_id,
            "appid": client_id,
            "idtyp": "user",
            "scp": " ".join(scopes),
            "acct": 1 if user.get("userType") == "Guest" else 0,
            "preferred_username": user.get("userPrincipalName"),
            "name": user.get("displayName"),
        }
        return self._sign(base_url, tenant_id, claims, lifetime)

    def _sign(
        self,
        base_url: str,
        tenant_id: str,
        claims: dict[str, Any],
        lifetime: dt.timedelta | None = None,
    ) -> IssuedToken:
        lifetime = self.lifetime if lifetime is None else lifetime
        token = self._keys.sign(claims, issuer=issuer_of(base_url, tenant_id), lifetime=lifetime)
        return IssuedToken(token, int(lifetime.total_seconds()))

    def validate(self, token: str, *, base_url: str, audiences: set[str]) -> dict[str, Any]:
        """The token's claims, or 401 ``InvalidAuthenticationToken``."""
        if not token:
            raise unauthenticated("Access token is empty.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise unauthenticated("CompactToken parsing failed with error code: 80049217") from exc
        key = self._keys.find(str(header.get("kid", "")))
        if key is None:
            raise unauthenticated("Access token validation failure. Invalid signing key.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                audience=list(audiences),
                options={"require": ["exp", "iss", "aud", "tid", "oid"]},
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
            raise unauthenticated("Access token has expired or is not yet valid.") from exc
        except jwt.InvalidAudienceError as exc:
            raise unauthenticated("Access token validation failure. Invalid audience.") from exc
        except jwt.PyJWTError as exc:
            raise unauthenticated("Access token validation failure.") from exc
        if claims["iss"] != issuer_of(base_url, str(claims["tid"])):
            raise unauthenticated("Access token validation failure. Invalid issuer.")
        return claims
