"""The ``groups`` claim, as Entra emits it from an application registration's settings.

``groupMembershipClaims`` chooses which of the user's groups (nesting included) the ID and
access tokens carry: ``None`` (no claim, the default), ``SecurityGroup`` (security groups),
``All`` (every group) or ``ApplicationGroup`` (the groups assigned to the application). The
optional claim ``groups`` of ``optionalClaims.idToken`` / ``accessToken`` chooses the format
of groups synced from AD through ``additionalProperties``: ``sam_account_name``,
``dns_domain_and_sam_account_name`` (``contoso.com\\sam``),
``netbios_domain_and_sam_account_name`` (``CONTOSO\\sam``); ``cloud_displayname`` names
cloud-only groups by display name. Any other group is named by its object id.

Past 200 groups a JWT carries no ``groups`` claim but Entra's overage pointer instead:
``_claim_names`` / ``_claim_sources`` naming the Graph call that lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hybridsync.cloud.db import Database, application_claims, applications
from hybridsync.cloud.errors import bad_request, invalid_value, not_found
from hybridsync.cloud.groups_claim_names import GROUP_FORMATS, MEMBERSHIP_CLAIMS, SAM_FORMATS
from hybridsync.cloud.membership import DirectoryObject, Memberships

TOKEN_KINDS = ("idToken", "accessToken", "saml2Token")
OVERAGE_LIMIT = 200
SETTINGS = ("groupMembershipClaims", "optionalClaims")


def default_settings() -> dict[str, Any]:
    return {"groupMembershipClaims": None, "optionalClaims": None, "assignedGroups": []}


class ApplicationClaims:
    """The token settings of each application registration (kept beside the registration)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def registration(self, tenant_id: str, ref: str) -> dict[str, Any]:
        """Graph's ``application``: by object id (``/applications/{id}``) or client id."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(applications).where(
                    applications.c.tenant_id == tenant_id,
                    sa.or_(applications.c.object_id == ref, applications.c.client_id == ref),
                )
            ).first()
            if row is None:
                raise not_found(ref)
            settings = conn.execute(
                sa.select(application_claims.c.settings).where(
                    application_claims.c.client_id == row.client_id
                )
            ).scalar()
        return {
            "id": row.object_id,
            "appId": row.client_id,
            "displayName": row.display_name,
            **(dict(settings) if settings else default_settings()),
        }

    def settings(self, client_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            found = conn.execute(
                sa.select(application_claims.c.settings).where(
                    application_claims.c.client_id == client_id
                )
            ).scalar()
        return dict(found) if found else default_settings()

    def update(self, tenant_id: str, ref: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply checked ``changes`` (see ``check_changes``) and return the new settings."""
        current = self.registration(tenant_id, ref)
        settings = {key: current[key] for key in default_settings()} | dict(changes)
        with self._db.write() as conn:
            conn.execute(
                sa.delete(application_claims).where(
                    application_claims.c.client_id == current["appId"]
                )
            )
            conn.execute(
                sa.insert(application_claims).values(client_id=current["appId"], settings=settings)
            )
        return settings


def check_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH body of ``/applications/{id}``: only the token settings are writable here."""
    for name in body:
        if name not in SETTINGS:
            raise bad_request(
                f"Property '{name}' is not supported on this application by this service."
            )
    if "groupMembershipClaims" in body:
        value = body["groupMembershipClaims"]
        if value is not None and value not in MEMBERSHIP_CLAIMS:
            raise invalid_value("groupMembershipClaims", "Application")
    if "optionalClaims" in body:
        _check_optional_claims(body["optionalClaims"])
    return dict(body)


def _check_optional_claims(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or set(value) - set(TOKEN_KINDS):
        raise invalid_value("optionalClaims", "Application")
    for claims in value.values():
        if not isinstance(claims, list) or not all(_claim_is_valid(c) for c in claims):
            raise invalid_value("optionalClaims", "Application")


def _claim_is_valid(claim: Any) -> bool:
    if not isinstance(claim, dict) or not isinstance(claim.get("name"), str):
        return False
    extra = claim.get("additionalProperties") or []
    if not isinstance(extra, list) or not all(isinstance(p, str) for p in extra):
        return False
    return claim["name"] != "groups" or set(extra) <= set(GROUP_FORMATS)


def group_formats(settings: Mapping[str, Any], token_kind: str) -> tuple[str, ...]:
    """The ``additionalProperties`` of the optional ``groups`` claim for ``token_kind``."""
    optional = settings.get("optionalClaims") or {}
    for claim in optional.get(token_kind) or []:
        if claim.get("name") == "groups":
            return tuple(claim.get("additionalProperties") or ())
    return ()


def groups_claims(
    memberships: Memberships,
    settings: Mapping[str, Any],
    *,
    tenant_id: str,
    user_id: str,
    token_kind: str,
    graph_url: str,
) -> dict[str, Any]:
    """The claims a token of ``token_kind`` carries about the user's groups (maybe none)."""
    kind = settings.get("groupMembershipClaims")
    if kind in (None, "None"):
        return {}
    found = _emitted(memberships.transitive_member_of(tenant_id, user_id), settings, str(kind))
    if len(found) > OVERAGE_LIMIT:
        return {
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {
                "src1": {"endpoint": f"{graph_url}/v1.0/users/{user_id}/getMemberObjects"}
            },
        }
    formats = group_formats(settings, token_kind)
    return {"groups": [claim_value(group.data, formats) for group in found]}


def _emitted(
    groups: Sequence[DirectoryObject], settings: Mapping[str, Any], kind: str
) -> list[DirectoryObject]:
    if kind == "SecurityGroup":
        return [g for g in groups if g.data.get("securityEnabled")]
    if kind == "ApplicationGroup":
        assigned = set(settings.get("assignedGroups") or ())
        return [g for g in groups if g.id in assigned]
    return list(groups)


def claim_value(group: Mapping[str, Any], formats: Sequence[str]) -> str:
    """How one group is named in the claim (object id unless a format applies to it)."""
    sam = group.get("onPremisesSamAccountName")
    chosen = next((f for f in formats if f in SAM_FORMATS), None)
    if group.get("onPremisesSyncEnabled") and sam and chosen:
        if chosen == "dns_domain_and_sam_account_name" and group.get("onPremisesDomainName"):
            return f"{group['onPremisesDomainName']}\\{sam}"
        if chosen == "netbios_domain_and_sam_account_name" and group.get("onPremisesNetBiosName"):
            return f"{group['onPremisesNetBiosName']}\\{sam}"
        return str(sam)
    if not group.get("onPremisesSyncEnabled") and "cloud_displayname" in formats:
        return str(group.get("displayName") or group["id"])
    return str(group["id"])
