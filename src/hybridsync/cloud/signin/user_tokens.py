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
import json
import secrets
import uuid
from typing import Any

import jwt

from hybridsync.cloud.consent import GRAPH_RESOURCE, GrantedScopes
from hybridsync.cloud.keys import utcnow
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.service import signin_of
from hybridsync.cloud.signin.store import RefreshGrant
from hybridsync.cloud.tokens import issuer_of

REFRESH_LIFETIME = dt.timedelta(days=90)
GROUPS_CLAIM_LIMIT = 200


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
    identity = {
        **_identity_claims(base_url, tenant_id, user),
        **_group_claims(service, base_url, tenant_id, user["id"]),
    }
    access = {
        **identity,
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
        id_claims = {**identity, "aud": client_id, **({"nonce": nonce} if nonce else {})}
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
    service: CloudService, base_url: str, tenant_id: str, user_id: str
) -> dict[str, Any]:
    """``groups``: the ids of the user's groups, so a resource can admit members of a group
    (partner guests included) without calling Graph. Past 200 groups, Entra's overage form:
    the claim points at Graph's memberOf instead."""
    ids = [str(group["id"]) for group in service.groups.member_of(tenant_id, user_id)]
    if len(ids) <= GROUPS_CLAIM_LIMIT:
        return {"groups": ids}
    return {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": f"{base_url}/v1.0/users/{user_id}/memberOf"}},
    }


def _sign(
    service: CloudService,
    base_url: str,
    tenant_id: str,
    claims: dict[str, Any],
    lifetime: dt.timedelta,
) -> str:
    key = service.keys.active()
    now = utcnow()
    payload = {
        **claims,
        "iss": issuer_of(base_url, tenant_id),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "ver": "2.0",
        "uti": uuid.uuid4().hex,
    }
    return jwt.encode(
        payload, key.private_key, algorithm="RS256", headers={"kid": key.kid, "x5t": key.kid}
    )


def _b64url_json(value: dict[str, str]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
