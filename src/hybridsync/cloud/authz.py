"""Every authorization decision of the cloud directory, taken from a ``Principal``.

Applications are authorized by their application permissions (``roles``). Users are
authorized by their relationship to the tenant: members read the directory; guests get what
the tenant's guest access level (``authorizationPolicy.guestUserRoleId``) allows, whether they
were invited or synced. Writes by users need a delegated scope as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Any

from hybridsync.cloud.errors import access_denied
from hybridsync.cloud.principal import Principal

SYNC_ROLE = "HybridSync.Synchronization.ReadWrite.All"
"""This service's own extension (not a Microsoft permission): write ``onPremises*`` markers."""

GUEST_SAME_AS_MEMBER = "a0b1b346-4d3e-4e8b-98f8-753987be4970"
GUEST_LIMITED = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
GUEST_RESTRICTED = "2af84b1e-32c8-42b7-82bc-daa82404023b"
GUEST_LEVELS = frozenset({GUEST_SAME_AS_MEMBER, GUEST_LIMITED, GUEST_RESTRICTED})

# What a limited guest may read of another user looked up by id.
LIMITED_USER_PROPERTIES = frozenset(
    {"id", "displayName", "mail", "userPrincipalName", "userType", "givenName", "surname"}
)


class Action(StrEnum):
    USER_READ = "user.read"
    USER_LIST = "user.list"
    USER_WRITE = "user.write"
    USER_INVITE = "user.invite"
    GROUP_READ = "group.read"
    GROUP_LIST = "group.list"
    GROUP_WRITE = "group.write"
    POLICY_READ = "policy.read"
    POLICY_WRITE = "policy.write"
    APPLICATION_READ = "application.read"
    APPLICATION_WRITE = "application.write"


class UserView(Enum):
    FULL = "full"
    LIMITED = "limited"


_USER_READERS = {
    "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
    SYNC_ROLE,
}  # fmt: skip
_USER_WRITERS = {"User.ReadWrite.All", "Directory.ReadWrite.All", SYNC_ROLE}
_GROUP_READERS = {
    "Group.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All",
    "Directory.Read.All", "Directory.ReadWrite.All",
}  # fmt: skip
_GROUP_WRITERS = {"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.ReadWrite.All"}

GRANTING_PERMISSIONS: Mapping[Action, frozenset[str]] = {
    Action.USER_READ: frozenset(_USER_READERS),
    Action.USER_LIST: frozenset(_USER_READERS),
    Action.USER_WRITE: frozenset(_USER_WRITERS),
    Action.USER_INVITE: frozenset(
        {"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
    ),
    Action.GROUP_READ: frozenset(_GROUP_READERS),
    Action.GROUP_LIST: frozenset(_GROUP_READERS),
    Action.GROUP_WRITE: frozenset(_GROUP_WRITERS),
    Action.POLICY_READ: frozenset(
        {"Policy.Read.All", "Policy.ReadWrite.Authorization", "Directory.Read.All"}
    ),
    Action.POLICY_WRITE: frozenset({"Policy.ReadWrite.Authorization"}),
    Action.APPLICATION_READ: frozenset(
        {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}
    ),
    Action.APPLICATION_WRITE: frozenset({"Application.ReadWrite.All"}),
}

KNOWN_APP_ROLES = frozenset().union(*GRANTING_PERMISSIONS.values())

_MEMBER_DEFAULTS = frozenset(
    {Action.USER_READ, Action.USER_LIST, Action.GROUP_READ, Action.GROUP_LIST, Action.POLICY_READ}
)
_GUEST_DEFAULTS = {
    GUEST_SAME_AS_MEMBER: _MEMBER_DEFAULTS,
    GUEST_LIMITED: frozenset({Action.USER_READ, Action.GROUP_READ}),
    GUEST_RESTRICTED: frozenset({Action.USER_READ}),
}


def guest_level(policy: Mapping[str, Any]) -> str:
    level = str(policy.get("guestUserRoleId", GUEST_LIMITED))
    return level if level in GUEST_LEVELS else GUEST_LIMITED


def authorize(principal: Principal, action: Action, policy: Mapping[str, Any]) -> None:
    """Raise 403 ``Authorization_RequestDenied`` unless the principal may do ``action``."""
    if not is_allowed(principal, action, policy):
        raise access_denied()


def is_allowed(principal: Principal, action: Action, policy: Mapping[str, Any]) -> bool:
    granting = GRANTING_PERMISSIONS[action]
    if principal.is_app:
        return bool(principal.roles & granting)
    if action not in _defaults_of(principal, policy):
        # A user outside the default role needs a delegated scope (issue: sign-in) and,
        # for a guest, never more than the guest level allows.
        return not principal.is_guest and bool(principal.scopes & granting)
    return True


def _defaults_of(principal: Principal, policy: Mapping[str, Any]) -> frozenset[Action]:
    if principal.is_guest:
        return _GUEST_DEFAULTS[guest_level(policy)]
    return _MEMBER_DEFAULTS


def user_view(principal: Principal, target_id: str, policy: Mapping[str, Any]) -> UserView:
    """How much of user ``target_id`` the principal sees (raises 403 if nothing)."""
    authorize(principal, Action.USER_READ, policy)
    if principal.is_app or not principal.is_guest or principal.object_id == target_id:
        return UserView.FULL
    level = guest_level(policy)
    if level == GUEST_SAME_AS_MEMBER:
        return UserView.FULL
    if level == GUEST_LIMITED:
        return UserView.LIMITED
    raise access_denied()


def may_write_on_premises_properties(principal: Principal) -> bool:
    """Only applications holding the synchronization role write ``onPremises*`` markers."""
    return principal.is_app and SYNC_ROLE in principal.roles
