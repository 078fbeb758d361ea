"""Metaverse person attributes <-> Microsoft Graph ``user`` JSON. Pure: no I/O.

Attribute names are Graph property names, matched without regard to case (so
``employeeID`` and ``onPremisesSAMAccountName`` are accepted), plus ``sourceAnchor`` as
the name the metaverse gives ``onPremisesImmutableId``. Values arrive as tuples (see
:mod:`hybridsync.core.values`); every property managed here is single-valued.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hybridsync.core.values import Attributes, AttributeValue, Reference, Values
from hybridsync.errors import ObjectRejectedError
from hybridsync.json_types import JsonObject

STRING_PROPERTIES = (
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "userPrincipalName",
    "userType",
    "onPremisesImmutableId",
    "department",
    "jobTitle",
    "employeeId",
    "companyName",
    "usageLocation",
)
BOOLEAN_PROPERTIES = ("accountEnabled",)
MANAGED_PROPERTIES = BOOLEAN_PROPERTIES + STRING_PROPERTIES

SYNCED_PROPERTIES = (
    # Only the project's cloud directory accepts these (from its synchronization role);
    # Graph offers no way to write them to a real tenant.
    "onPremisesDistinguishedName",
    "onPremisesSamAccountName",
    "onPremisesUserPrincipalName",
    "onPremisesDomainName",
    "onPremisesSecurityIdentifier",
    "proxyAddresses",
)
SYNC_MARKER = "onPremisesSyncEnabled"
GUEST_PROPERTIES = ("creationType", SYNC_MARKER)
"""Read (never written) when cloud guests are imported: who created the user, and
whether it is synced from on-premises (a cloud guest is not)."""
DELETED = "deletedDateTime"
"""Set on a cloud guest read from the recycle bin (soft-deleted, restorable)."""
OBJECT_ID = "id"
MULTI_VALUED = frozenset({"proxyAddresses"})

MANAGER = "manager"
"""The one reference this connector writes: a navigation property, set through its
``$ref`` (``PUT``/``DELETE /users/{id}/manager/$ref``), never in a PATCH body."""
MANAGER_EXPAND = "manager($select=id)"

REQUIRED_ON_CREATE = ("displayName", "userPrincipalName")
NOT_CLEARABLE = frozenset({"accountEnabled", "displayName", "mailNickname", "userPrincipalName"})
IGNORED_ATTRIBUTES = frozenset({"cloudfiltered"})
"""Metaverse attributes that decide scope in the rules and are never written to Graph."""

ALIASES = {"sourceanchor": "onPremisesImmutableId"}
USER_TYPES = {"member": "Member", "guest": "Guest"}

MAIL_NICKNAME_MAX = 64
_MAIL_NICKNAME_FORBIDDEN = re.compile(r'[^\x21-\x7e]|[@()\\\[\]";:<>,]')


@dataclass(frozen=True, slots=True)
class Target:
    """What the target directory accepts.

    Attributes:
        synced_markers: the project's cloud directory: onPremises* properties are written.
        password_on_create: the target requires a password on create (Entra ID does).
    """

    synced_markers: bool = False
    password_on_create: bool = True
    guests: bool = False
    """Cloud guests are imported too: ``creationType``, the sync marker and ``id`` are
    read (``[guests_to_ad]``)."""

    @property
    def properties(self) -> tuple[str, ...]:
        if self.synced_markers:
            return MANAGED_PROPERTIES + SYNCED_PROPERTIES
        return MANAGED_PROPERTIES

    def select(self) -> str:
        """The ``$select`` list for reading users: ``id`` and every managed property."""
        return ",".join(("id", *self.properties, *self.read_only))

    @property
    def read_only(self) -> tuple[str, ...]:
        """Properties read but never written."""
        if self.guests:
            return GUEST_PROPERTIES
        return (SYNC_MARKER,) if self.synced_markers else ()


_SYNCED_KEYS = frozenset(name.lower() for name in SYNCED_PROPERTIES)
_MARKER_KEY = SYNC_MARKER.lower()
_READ_ONLY_KEYS = frozenset({"creationtype", OBJECT_ID, DELETED.lower()})


def _canonical_names(target: Target) -> dict[str, str]:
    names = {name.lower(): name for name in target.properties}
    names.update(ALIASES)
    return names


def property_name(attribute: str, target: Target) -> str | None:
    """The Graph property an attribute is written to; ``None`` for scope-only attributes.

    Raises:
        ObjectRejectedError: the attribute is not a property this connector manages.
    """
    key = attribute.lower()
    if key in IGNORED_ATTRIBUTES or key == _MARKER_KEY or key in _READ_ONLY_KEYS:
        # The marker is the connector's own (set on create); it comes
        # back here only as an unconfirmed value re-sent before an import confirmed it.
        return None
    if not target.synced_markers and key in _SYNCED_KEYS:
        # The same rules serve both targets; Graph cannot write these to a real tenant.
        return None
    name = _canonical_names(target).get(key)
    if name is None:
        raise ObjectRejectedError(
            f"{attribute}: not a user property this connector writes "
            f"(managed: {', '.join(target.properties)})"
        )
    return name


def _single(name: str, values: Values) -> AttributeValue | None:
    if len(values) > 1:
        raise ObjectRejectedError(f"{name}: {len(values)} values for a single-valued property")
    return values[0] if values else None


def _as_bool(name: str, value: AttributeValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ObjectRejectedError(f"{name}: {value!r} is not a boolean")


def _as_string(name: str, value: AttributeValue) -> str:
    if isinstance(value, bytes):
        if name == "onPremisesImmutableId":
            # A binary source anchor becomes its base64 text, as Entra Connect does.
            return base64.b64encode(value).decode("ascii")
        raise ObjectRejectedError(f"{name}: binary value for a string property")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_user_type(value: str) -> str:
    """``Member`` or ``Guest``, whatever the case of the source value.

    Raises:
        ObjectRejectedError: any other value (the message quotes it).
    """
    normalized = USER_TYPES.get(value.strip().lower())
    if normalized is None:
        raise ObjectRejectedError(f"userType: {value!r} is neither 'Member' nor 'Guest'")
    return normalized


def mail_nickname(value: str) -> str:
    """A valid mail alias from any text: forbidden characters dropped, <= 64 characters.

    Graph documents the alias rules for groups (ASCII, none of ``@ ( ) \\ [ ] " ; : < > ,``
    and no space) and rejects the same characters for users; IdFix adds no leading dot.
    """
    cleaned = _MAIL_NICKNAME_FORBIDDEN.sub("", value).lstrip(".")
    return cleaned[:MAIL_NICKNAME_MAX]


def nickname_from_upn(upn: str) -> str:
    return mail_nickname(upn.split("@", 1)[0])


def _graph_value(name: str, value: AttributeValue | None) -> Any:
    if value is None and name == "userType":
        # Graph takes no null here; a user whose type is unset is a Member (the type a
        # create without userType gets).
        return "Member"
    if value is None:
        if name in NOT_CLEARABLE:
            raise ObjectRejectedError(f"{name}: cannot be cleared in the cloud directory")
        return None
    if name in BOOLEAN_PROPERTIES:
        return _as_bool(name, value)
    text = _as_string(name, value)
    if name == "userType":
        return normalize_user_type(text)
    if name == "mailNickname":
        nickname = mail_nickname(text)
        if not nickname:
            raise ObjectRejectedError(f"mailNickname: {text!r} has no valid character")
        return nickname
    return text


def patch_body(changes: Iterable[tuple[str, Values]], target: Target) -> JsonObject:
    """The minimal PATCH body: only the given attributes, empty values as ``null``.

    ``mailNickname`` is required by the cloud, so clearing it sends the one derived from
    the new UPN when the UPN changes too, and nothing otherwise (the cloud keeps its
    alias). Properties only the project's directory takes are left out for Entra ID.

    Raises:
        ObjectRejectedError: an attribute or value Graph would refuse (names it).
    """
    changes = list(changes)
    body: JsonObject = {}
    for attribute, values in changes:
        name = property_name(attribute, target)
        if name in MULTI_VALUED:
            body[name] = [_as_string(name, value) for value in values]
        elif name == "mailNickname" and not values:
            continue  # required by the cloud: derived on create, never cleared (see below)
        elif name is not None:
            body[name] = _graph_value(name, _single(name, values))
    if "mailNickname" not in body and "userPrincipalName" in body and _clears_nickname(changes):
        body["mailNickname"] = nickname_from_upn(str(body["userPrincipalName"]))
    return body


def _clears_nickname(changes: Iterable[tuple[str, Values]]) -> bool:
    return any(name.lower() == "mailnickname" and not values for name, values in changes)


def create_body(attributes: Attributes, target: Target) -> JsonObject:
    """The ``POST /users`` body for a new user.

    ``accountEnabled`` defaults to true and ``mailNickname`` to the UPN's local part.
    A random password is added only when the target requires one; it is never returned
    to the caller in any other form, so it is never stored or logged.

    Raises:
        ObjectRejectedError: a required property is missing or a value is refused.
    """
    # A new user has nothing to clear: absent attributes are simply not sent.
    body = patch_body(((k, v) for k, v in attributes.items() if v), target)
    for name in REQUIRED_ON_CREATE:
        if not body.get(name):
            raise ObjectRejectedError(f"{name}: required to create a cloud user but empty")
    body.setdefault("accountEnabled", True)
    if "mailNickname" not in body:
        nickname = nickname_from_upn(body["userPrincipalName"])
        if not nickname:
            raise ObjectRejectedError("mailNickname: cannot derive one from userPrincipalName")
        body["mailNickname"] = nickname
    if target.synced_markers:
        body[SYNC_MARKER] = True
    if target.password_on_create:
        body["passwordProfile"] = {
            "password": random_password(),
            "forceChangePasswordNextSignIn": False,
        }
    return body


_PASSWORD_SYMBOLS = "@#$%^&*-_!+=[]{}|:',.?/`~();<>"


def random_password(length: int = 32) -> str:
    """A random password meeting the cloud policy (all four character classes)."""
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, _PASSWORD_SYMBOLS)
    alphabet = "".join(classes)
    chars = [secrets.choice(chars) for chars in classes]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def immutable_id(attributes: Attributes) -> str | None:
    """The source anchor an add carries, as the text Graph stores."""
    for attribute, values in attributes.items():
        if ALIASES.get(attribute.lower(), attribute) == "onPremisesImmutableId" and values:
            return _as_string("onPremisesImmutableId", values[0])
    return None


def user_principal_name(attributes: Attributes) -> str | None:
    for attribute, values in attributes.items():
        if attribute.lower() == "userprincipalname" and values:
            return str(values[0])
    return None


def dn_for(user: Mapping[str, Any]) -> str:
    """The connector-space DN of a cloud user.

    Like Entra Connect's connector for Entra ID: ``CN={<hex of the UTF-8 immutable id>}``;
    a cloud-only user (no immutable id) gets ``CN={<object id>}``.
    """
    anchor = user.get("onPremisesImmutableId")
    if anchor:
        return "CN={" + str(anchor).encode("utf-8").hex().upper() + "}"
    return "CN={" + str(user["id"]) + "}"


def attributes_from_user(user: Mapping[str, Any], target: Target) -> dict[str, Values]:
    """The attributes of a Graph user object: only the properties present in the JSON.

    A property present with ``null`` becomes an empty tuple (cleared).
    """
    attributes = present_properties(user, (*target.properties, *target.read_only))
    if target.guests:
        attributes[OBJECT_ID] = (str(user["id"]),)
    return attributes


def present_properties(entity: Mapping[str, Any], names: Iterable[str]) -> dict[str, Values]:
    """Each of ``names`` present in a Graph entity's JSON, as values (``null``: cleared)."""
    attributes: dict[str, Values] = {}
    for name in names:
        if name in entity:
            value = entity[name]
            if isinstance(value, list):
                attributes[name] = tuple(value)
            else:
                attributes[name] = () if value is None else (value,)
    return attributes


def is_manager(attribute: str) -> bool:
    return attribute.lower() == MANAGER


def manager_from_user(user: Mapping[str, Any]) -> Values:
    """The manager of a user read with ``$expand=manager``: none when it has none."""
    manager = user.get(MANAGER)
    return (Reference(str(manager["id"])),) if isinstance(manager, dict) else ()


def manager_from_delta(user: Mapping[str, Any]) -> Values:
    """The manager a ``/users/delta`` item carries (``manager@delta``, asked for by
    selecting ``manager``): none when it was removed or the item names none."""
    entries = user.get(f"{MANAGER}@delta")
    if not isinstance(entries, list) or not entries:
        return ()
    entry = entries[-1]
    if not isinstance(entry, dict) or "@removed" in entry or "id" not in entry:
        return ()
    return (Reference(str(entry["id"])),)


def is_complete(user: Mapping[str, Any], target: Target) -> bool:
    """Whether a delta item carries every selected property (not only the changed ones)."""
    return all(name in user for name in target.properties)


def is_cloud_guest(user: Mapping[str, Any]) -> bool:
    """A guest created in the cloud by invitation, not synced from on-premises."""
    return (
        str(user.get("userType") or "").lower() == "guest"
        and str(user.get("creationType") or "").lower() == "invitation"
        and user.get(SYNC_MARKER) is not True
    )
