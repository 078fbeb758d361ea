"""The user resource: its properties and the validation rules Graph applies to writes."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Set
from typing import Any

from hybridsync.cloud.errors import (
    ON_PREMISES_MASTERED,
    ErrorDetail,
    GraphError,
    bad_request,
    invalid_value,
    invalid_values,
)
from hybridsync.cloud.properties import check_required as check_required_values
from hybridsync.cloud.properties import matches_type, not_writable

WRITABLE: dict[str, type | tuple[type, ...]] = {
    "accountEnabled": bool,
    "displayName": str,
    "mailNickname": str,
    "passwordProfile": dict,
    "passwordPolicies": str,
    "userPrincipalName": str,
    "givenName": str,
    "surname": str,
    "mail": str,
    "otherMails": list,
    "userType": str,
    "identities": list,
    "onPremisesImmutableId": str,
    "employeeId": str,
    "employeeType": str,
    "companyName": str,
    "department": str,
    "jobTitle": str,
    "usageLocation": str,
    "businessPhones": list,
    "mobilePhone": str,
    "officeLocation": str,
    "preferredLanguage": str,
    "city": str,
    "country": str,
    "state": str,
    "streetAddress": str,
    "postalCode": str,
    "onPremisesExtensionAttributes": dict,
}
# Written only by an application holding the synchronization role.
SYNC_WRITABLE: dict[str, type | tuple[type, ...]] = {
    "onPremisesSyncEnabled": bool,
    "onPremisesDistinguishedName": str,
    "onPremisesDomainName": str,
    "onPremisesSamAccountName": str,
    "onPremisesUserPrincipalName": str,
    "onPremisesSecurityIdentifier": str,
    "proxyAddresses": list,
}
# What a write-back from on-premises sets on a cloud user (a cloud guest's shadow account
# in AD, as Cloud Sync writes it): the user stays mastered in the cloud.
WRITE_BACK = frozenset(
    {"onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesSamAccountName",
     "onPremisesUserPrincipalName", "onPremisesSecurityIdentifier"}
)  # fmt: skip


def marks_synced(existing: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """Whether a synchronization role's write makes the user synced: any write but the
    write-back of an account's properties onto a user that is not synced already."""
    if existing.get("onPremisesSyncEnabled") is True:
        return True
    return not (changes and set(changes) <= WRITE_BACK)


READ_ONLY = frozenset(
    {
        "id", "createdDateTime", "deletedDateTime", "creationType", "externalUserState",
        "externalUserStateChangeDateTime", "onPremisesLastSyncDateTime",
        "onPremisesProvisioningErrors", *SYNC_WRITABLE,
    }
)  # fmt: skip
# What a cloud application may still change on a user mastered on-premises.
CLOUD_WRITABLE_WHEN_SYNCED = frozenset({"usageLocation", "preferredLanguage"})
SELECTABLE = frozenset(WRITABLE) - {"passwordProfile"} | READ_ONLY | {"passwordProfile"}
DEFAULT_PROPERTIES = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)  # fmt: skip
FILTERABLE = {
    name: name
    for name in (
        "id", "userPrincipalName", "displayName", "mail", "accountEnabled", "userType",
        "onPremisesImmutableId", "givenName", "surname", "otherMails", "proxyAddresses",
        "employeeId", "creationType", "externalUserState", "jobTitle", "department",
        "companyName", "onPremisesSyncEnabled", "mailNickname", "usageLocation",
        "onPremisesSamAccountName", "createdDateTime", "country", "city", "state",
    )
} | {"__resource__": "User"}  # fmt: skip
REQUIRED_ON_CREATE = ("accountEnabled", "displayName", "mailNickname", "userPrincipalName")
MAX_LENGTHS = {
    "displayName": 256, "mailNickname": 64, "givenName": 64, "surname": 64, "employeeId": 16,
    "companyName": 64, "department": 64, "jobTitle": 128, "mail": 256, "city": 128,
    "onPremisesImmutableId": 59,
}  # fmt: skip

_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+$")
_NICKNAME_FORBIDDEN = set('@()\\[]";:<>, ')
_PASSWORD_SYMBOLS = set("@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> ")


def check_property_names(body: Mapping[str, Any], *, sync_writer: bool) -> None:
    for name in body:
        if name not in WRITABLE and not (sync_writer and name in SYNC_WRITABLE):
            raise not_writable(name, READ_ONLY)


def check_types(body: Mapping[str, Any]) -> None:
    for name, value in body.items():
        expected = WRITABLE.get(name) or SYNC_WRITABLE.get(name)
        if expected is None or value is None:
            continue
        if not matches_type(value, expected):
            raise invalid_values(name)
        if (
            isinstance(value, list)
            and name != "identities"
            and not all(isinstance(item, str) for item in value)
        ):
            raise invalid_values(name)


def check_required(body: Mapping[str, Any], *, password_required: bool) -> None:
    check_required_values(
        body, [*REQUIRED_ON_CREATE, *(["passwordProfile"] if password_required else [])]
    )


def check_values(body: Mapping[str, Any]) -> None:
    """Per-property rules (lengths, character sets, enumerations)."""
    for name, limit in MAX_LENGTHS.items():
        value = body.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise invalid_value(name)
    if "displayName" in body and not (body["displayName"] or "").strip():
        raise invalid_value("displayName")
    if "mailNickname" in body:
        check_mail_nickname(body["mailNickname"])
    if "userType" in body and body["userType"] not in ("Member", "Guest"):
        raise invalid_value("userType")
    immutable_id = body.get("onPremisesImmutableId")
    if isinstance(immutable_id, str) and (not immutable_id or set(immutable_id) & {"$", "_"}):
        raise invalid_value("onPremisesImmutableId")
    location = body.get("usageLocation")
    if isinstance(location, str) and not re.fullmatch(r"[A-Za-z]{2}", location):
        raise invalid_value("usageLocation")
    if isinstance(body.get("passwordProfile"), dict):
        check_password(body["passwordProfile"], str(body.get("passwordPolicies") or ""))


def check_mail_nickname(value: Any) -> None:
    if (
        not isinstance(value, str)
        or not value
        or value.startswith(".")
        or any(ord(ch) > 127 or ch in _NICKNAME_FORBIDDEN for ch in value)
    ):
        raise invalid_value("mailNickname")


def check_upn(upn: Any, verified_domains: Set[str]) -> None:
    if not isinstance(upn, str) or upn.count("@") != 1:
        raise invalid_values("userPrincipalName")
    local, domain = upn.split("@")
    if (
        not local
        or len(upn) > 113
        or len(local) > 64
        or len(domain) > 48
        or local.endswith(".")
        or not _UPN_LOCAL.match(local)
    ):
        raise invalid_values("userPrincipalName")
    if domain.lower() not in verified_domains:
        message = (
            "The domain portion of the userPrincipalName property is invalid. You must use one"
            " of the verified domain names in your organization."
        )
        raise bad_request(message, ErrorDetail("InvalidValue", message, "userPrincipalName"))


def check_password(profile: Mapping[str, Any], policies: str) -> None:
    password = profile.get("password")
    if password is None:
        return
    if not isinstance(password, str) or not password_is_complex(
        password, strong="DisableStrongPassword" not in policies
    ):
        raise bad_request(
            "The specified password does not comply with password complexity requirements."
            " Please provide a different password."
        )


def password_is_complex(password: str, *, strong: bool = True) -> bool:
    if not 8 <= len(password) <= 256 or not password.isascii():
        return False
    if any(not (ch.isalnum() or ch in _PASSWORD_SYMBOLS) for ch in password):
        return False
    classes = [
        any(ch in string.ascii_lowercase for ch in password),
        any(ch in string.ascii_uppercase for ch in password),
        any(ch in string.digits for ch in password),
        any(ch in _PASSWORD_SYMBOLS for ch in password),
    ]
    return not strong or sum(classes) >= 3


def check_not_mastered_on_premises(existing: Mapping[str, Any], changed: Set[str]) -> None:
    if existing.get("onPremisesSyncEnabled") and changed - CLOUD_WRITABLE_WHEN_SYNCED:
        raise bad_request(ON_PREMISES_MASTERED)


def present(user: Mapping[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    """The wire form of a stored user: the selected (or default) properties, nulls included."""
    names = select or DEFAULT_PROPERTIES
    shown: dict[str, Any] = {}
    for name in names:
        if name == "passwordProfile":
            shown[name] = None
        elif name in ("businessPhones", "otherMails", "proxyAddresses", "identities"):
            shown[name] = user.get(name) or []
        else:
            shown[name] = user.get(name)
    shown.setdefault("id", user["id"])
    return shown


def parse_select(
    raw: str | None, selectable: frozenset[str] = SELECTABLE
) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    for name in names:
        if name not in selectable:
            raise GraphError(
                400,
                "BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.user'.",
            )
    return names
