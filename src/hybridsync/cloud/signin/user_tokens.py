"""The token response of a user sign-in: access token, ID token, refresh token, client_info.

Both tokens are signed with the service's signing keys, so the Graph routes validate the
access token as any other. Claims follow Entra v2: ``oid``, ``tid``, ``upn``,
``preferred_username``, ``name``, ``idp`` (the issuer: these users authenticate here),
``acct`` (0 member, 1 guest), ``groups``, ``wids`` (the user's directory roles), ``scp``
(the consented scopes the grant decided) and ``roles``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import secrets
from typing import Any

from hybridsync.cloud.consent import GRAPH_RESOURCE, GrantedScopes
from hybridsync.cloud.groups_claim import groups_claims
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.service import signin_of
from hybridsync.cloud.signin.store import RefreshGrant
from hybridsync.cloud.tokens import issuer_of

REFRESH_LIFETIME = dt.timedelta(days=90)


def token_response(
    service: CloudService,
    *,
    base_url: str,
    tenant_id: str,
    client_id: str,
    user: dict[str, Any],
    scopes: GrantedScopes,
    nonce: str | None = None,
) -> dict[str, Any]:
    lifetime = service.issuer.lifetime
    identity = _identity_claims(base_url, tenant_id, user)
    groups = functools.partial(_group_claims, service, base_url, tenant_id, client_id, user["id"])
    access = {
        **identity,
        **groups("accessToken"),
        "aud": GRAPH_RESOURCE,
        "azp": client_id,
        "appid": client_id,
        "idtyp": "user",
        "scp": " ".join(scopes.graph),
        "roles": [],
        "wids": sorted(service.role_assignments.roles_of(tenant_id, user["id"])),
    }
    answer: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(f"{GRAPH_RESOURCE}/{s}" for s in scopes.graph),
        "expires_in": int(lifetime.total_seconds()),
        "ext_expires_in": int(lifetime.total_seconds()),
        "access_token": _sign(service, base_url, tenant_id, access, lifetime),
        "client_info": _b64url_json({"uid": user["id"], "utid": tenant_id}),
    }
    if "openid" in scopes.oidc:
        id_claims = {
            **identity,
            **groups("idToken"),
            "aud": client_id,
            # As Entra: an application's ID token names the user's directory roles too.
            "wids": access["wids"],
            **({"nonce": nonce} if nonce else {}),
        }
        answer["id_token"] = _sign(service, base_url, tenant_id, id_claims, lifetime)
    if "offline_access" in scopes.oidc:
        refresh = secrets.token_urlsafe(48)
        grant = RefreshGrant(tenant_id, user["id"], client_id, scopes.all)
        signin_of(service).store.save_refresh(refresh, grant, utcnow() + REFRESH_LIFETIME)
        answer["refresh_token"] = refresh
    return answer


def _identity_claims(base_url: str, tenant_id: str, user: dict[str, Any]) -> dict[str, Any]:
    upn = user.get("userPrincipalName")
    return {
        "tid": tenant_id,
        "oid": user["id"],
        "sub": user["id"],
        "upn": upn,
        "preferred_username": upn,
        "name": user.get("displayName"),
        "idp": issuer_of(base_url, tenant_id),
        "acct": 1 if user.get("userType") == "Guest" else 0,
    }


def _group_claims(
    service: CloudService,
    base_url: str,
    tenant_id: str,
    client_id: str,
    user_id: str,
    token_kind: str,
) -> dict[str, Any]:
    """``groups`` (or Entra's overage pointer) as the application's registration asks."""
    return groups_claims(
        service.memberships,
        service.app_claims.settings(client_id),
        tenant_id=tenant_id,
        user_id=user_id,
        token_kind=token_kind,
        graph_url=base_url,
    )


def _sign(
    service: CloudService,
    base_url: str,
    tenant_id: str,
    claims: dict[str, Any],
    lifetime: dt.timedelta,
) -> str:
    return service.keys.sign(claims, issuer=issuer_of(base_url, tenant_id), lifetime=lifetime)


def _b64url_json(value: dict[str, str]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
