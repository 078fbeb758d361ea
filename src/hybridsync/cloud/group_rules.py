"""The group resource: its properties and the validation rules Graph applies to writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hybridsync.cloud.errors import (
    ON_PREMISES_MASTERED,
    GraphError,
    bad_request,
    invalid_value,
    invalid_values,
)
from hybridsync.cloud.properties import check_required, matches_type, not_writable
from hybridsync.cloud.user_rules import check_mail_nickname

GROUP_WRITABLE: dict[str, type] = {
    "displayName": str,
    "description": str,
    "mailEnabled": bool,
    "mailNickname": str,
    "securityEnabled": bool,
    "groupTypes": list,
    "visibility": str,
}
# Written only by an application holding the synchronization role (as for users).
GROUP_SYNC_WRITABLE: dict[str, type] = {
    "onPremisesSecurityIdentifier": str,
    "onPremisesSamAccountName": str,
    "onPremisesDomainName": str,
    "onPremisesNetBiosName": str,
}
GROUP_READ_ONLY = frozenset(
    {
        "id", "createdDateTime", "deletedDateTime", "mail", "onPremisesSyncEnabled",
        "onPremisesLastSyncDateTime", *GROUP_SYNC_WRITABLE,
    }
)  # fmt: skip
GROUP_REQUIRED = ("displayName", "mailEnabled", "mailNickname", "securityEnabled")
GROUP_PROPERTIES = (
    "id", "createdDateTime", "mail", *GROUP_WRITABLE, "onPremisesSyncEnabled",
    "onPremisesLastSyncDateTime", *GROUP_SYNC_WRITABLE,
)  # fmt: skip
_SID = re.compile(r"^S-1-\d+(-\d+){1,14}$")
_SAM_MAX = 256


def check_group_body(body: Mapping[str, Any], *, creating: bool, sync_writer: bool) -> None:
    """Names, types and values of a create or update body (400 on the first problem)."""
    for name, value in body.items():
        expected = GROUP_WRITABLE.get(name) or (
            GROUP_SYNC_WRITABLE.get(name) if sync_writer else None
        )
        if expected is None:
            raise not_writable(name, GROUP_READ_ONLY)
        if value is not None and not matches_type(value, expected):
            raise invalid_values(name)
    if creating:
        check_required(body, GROUP_REQUIRED)
    _check_values(body)


def _check_values(body: Mapping[str, Any]) -> None:
    if "mailNickname" in body:
        try:
            check_mail_nickname(body["mailNickname"])
        except GraphError:
            raise invalid_value("mailNickname", "Group") from None
    display_name = body.get("displayName")
    if display_name is not None and (len(display_name) > 256 or not display_name.strip()):
        raise invalid_value("displayName", "Group")
    if any(not isinstance(kind, str) for kind in body.get("groupTypes") or []):
        raise invalid_values("groupTypes")
    sid = body.get("onPremisesSecurityIdentifier")
    if sid is not None and not _SID.match(sid):
        raise invalid_value("onPremisesSecurityIdentifier", "Group")
    for name in ("onPremisesSamAccountName", "onPremisesDomainName", "onPremisesNetBiosName"):
        value = body.get(name)
        if value is not None and (not value.strip() or len(value) > _SAM_MAX):
            raise invalid_value(name, "Group")


def check_not_mastered_on_premises(group: Mapping[str, Any]) -> None:
    """An object synced from AD changes in AD only: a group's properties, members and
    existence, a user's manager (the synchronization role is not checked)."""
    if group.get("onPremisesSyncEnabled"):
        raise bad_request(ON_PREMISES_MASTERED)


def present_group(group: Mapping[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    names = select or GROUP_PROPERTIES
    shown = {name: group.get(name) for name in names}
    if "groupTypes" in shown:
        shown["groupTypes"] = shown["groupTypes"] or []
    return {"id": group["id"], **shown}
