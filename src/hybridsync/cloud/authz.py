"""Every authorization decision of the cloud directory, taken from a ``Principal``.

Applications are authorized by their application permissions (``roles``). A signed-in user's
request (delegated) is allowed only when both hold: the token's consented scopes (``scp``)
grant the action, and the user may do it: by the default user permissions (members read the
directory unless ``allowedToReadOtherUsers`` is off; guests what the guest access level
allows), by a directory role (``hybridsync.cloud.roles``), or because it is about themselves.
Changing the password or a sensitive property of a user who holds a role also needs a role
that manages that user's roles (Microsoft's "who can reset passwords" matrix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hybridsync.cloud.actions import Action
from hybridsync.cloud.errors import access_denied
from hybridsync.cloud.principal import Principal
from hybridsync.cloud.roles import INVITING_ADMINS, actions_of, may_manage

__all__ = ["Action", "Target", "UserView", "authorize", "is_allowed", "user_view"]

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

# Entra's "sensitive actions": changing these on a user who holds a role needs a role at
# least as privileged (deleting such a user too).
SENSITIVE_PROPERTIES = frozenset(
    {
        "accountEnabled", "businessPhones", "mobilePhone", "onPremisesImmutableId",
        "otherMails", "passwordProfile", "userPrincipalName", "mail",
    }
)  # fmt: skip
# A password reset may set these too (self-service password reset needs them).
RESET_PROPERTIES = frozenset({"passwordProfile", "businessPhones", "mobilePhone", "otherMails"})
SELF_WRITABLE = frozenset({"businessPhones", "mobilePhone", "officeLocation", "preferredLanguage"})
"""What a signed-in user may change on their own profile, as in Graph: contact details and
preferences, never identity (displayName, userPrincipalName), type (userType), status
(accountEnabled) or anything an administrator or the sync owns."""


class UserView(Enum):
    """How much of another user a caller may see: everything, or the limited guest view."""

    FULL = "full"
    LIMITED = "limited"


@dataclass(frozen=True, slots=True)
class Target:
    """The user a request is about: for self-service and for the sensitive-action rules.

    Attributes:
        user_id: the target user's object id.
        directory_roles: the template ids of the target's directory roles.
        properties: the properties a write changes (empty for a read).
        deleting: the request deletes (or restores) the user.
    """

    user_id: str
    directory_roles: frozenset[str] = frozenset()
    properties: frozenset[str] = frozenset()
    deleting: bool = False

    @property
    def is_sensitive(self) -> bool:
        touched = self.deleting or bool(self.properties & SENSITIVE_PROPERTIES)
        return touched and bool(self.directory_roles)


_USER_READERS = {
    "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All",
    "Directory.ReadWrite.All", SYNC_ROLE,
}  # fmt: skip
_USER_WRITERS = {"User.ReadWrite.All", "Directory.ReadWrite.All", SYNC_ROLE}
_GROUP_READERS = {
    "Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All",
    "Directory.Read.All", "Directory.ReadWrite.All",
}  # fmt: skip
_GROUP_WRITERS = {"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.ReadWrite.All"}
_POLICY_WRITERS = {"Policy.ReadWrite.Authorization"}
_ROLE_READERS = {
    "RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All", "Directory.ReadWrite.All",
}  # fmt: skip

GRANTING_PERMISSIONS: Mapping[Action, frozenset[str]] = {
    Action.USER_READ: frozenset(_USER_READERS),
    Action.USER_LIST: frozenset(_USER_READERS),
    Action.USER_WRITE: frozenset(_USER_WRITERS),
    Action.USER_RESET_PASSWORD: frozenset(_USER_WRITERS | {"User-PasswordProfile.ReadWrite.All"}),
    Action.USER_INVITE: frozenset(
        {"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
    ),
    Action.GROUP_READ: frozenset(_GROUP_READERS),
    Action.GROUP_LIST: frozenset(_GROUP_READERS),
    Action.GROUP_WRITE: frozenset(_GROUP_WRITERS),
    Action.POLICY_READ: frozenset(
        {"Policy.Read.All", "Policy.ReadWrite.Authorization", "Directory.Read.All"}
    ),
    Action.POLICY_WRITE: frozenset(_POLICY_WRITERS),
    Action.SIGNIN_POLICY_WRITE: frozenset(_POLICY_WRITERS),
    Action.ROLE_READ: frozenset(_ROLE_READERS),
    Action.ROLE_ASSIGN: frozenset({"RoleManagement.ReadWrite.Directory"}),
    Action.APPLICATION_READ: frozenset(
        {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}
    ),
    Action.APPLICATION_WRITE: frozenset({"Application.ReadWrite.All"}),
}

# Delegated scopes that grant an action on the signed-in user's own account only.
_SELF_SCOPES: Mapping[Action, frozenset[str]] = {
    Action.USER_READ: frozenset({"User.Read", "User.ReadWrite"}),
    Action.USER_WRITE: frozenset({"User.ReadWrite"}),
    Action.USER_RESET_PASSWORD: frozenset({"User.ReadWrite"}),
}

KNOWN_APP_ROLES = frozenset().union(*GRANTING_PERMISSIONS.values())
DELEGATED_PERMISSIONS = (KNOWN_APP_ROLES - {SYNC_ROLE}) | frozenset().union(*_SELF_SCOPES.values())
"""Every Graph delegated permission an application may declare and be consented."""

_MEMBER_DEFAULTS = frozenset(
    {
        Action.USER_READ, Action.USER_LIST, Action.GROUP_READ, Action.GROUP_LIST,
        Action.POLICY_READ, Action.ROLE_READ,
    }
)  # fmt: skip
_READING_OTHERS = frozenset({Action.USER_READ, Action.USER_LIST})
_GUEST_DEFAULTS = {
    GUEST_SAME_AS_MEMBER: _MEMBER_DEFAULTS,
    GUEST_LIMITED: frozenset({Action.USER_READ, Action.GROUP_READ}),
    GUEST_RESTRICTED: frozenset({Action.USER_READ}),
}
_INVITES_FOR_MEMBERS = frozenset({"adminsGuestInvitersAndAllMembers", "everyone"})


def guest_level(policy: Mapping[str, Any]) -> str:
    level = str(policy.get("guestUserRoleId", GUEST_LIMITED))
    return level if level in GUEST_LEVELS else GUEST_LIMITED


def authorize(
    principal: Principal, action: Action, policy: Mapping[str, Any], target: Target | None = None
) -> None:
    """Raise 403 ``Authorization_RequestDenied`` unless the principal may do ``action``."""
    if not is_allowed(principal, action, policy, target):
        raise access_denied()


def is_allowed(
    principal: Principal, action: Action, policy: Mapping[str, Any], target: Target | None = None
) -> bool:
    """The one decision. ``target``: the user the request is about, when there is one."""
    if principal.is_app:
        return bool(principal.roles & GRANTING_PERMISSIONS[action])
    return _scope_grants(principal, action, target) and _user_may(principal, action, policy, target)


def _is_self(principal: Principal, target: Target | None) -> bool:
    return target is not None and target.user_id == principal.object_id


def _scope_grants(principal: Principal, action: Action, target: Target | None) -> bool:
    granting = GRANTING_PERMISSIONS[action]
    if _is_self(principal, target):
        granting = granting | _SELF_SCOPES.get(action, frozenset())
    return bool(principal.scopes & granting)


def _user_may(
    principal: Principal, action: Action, policy: Mapping[str, Any], target: Target | None
) -> bool:
    if action is Action.USER_INVITE:
        return _may_invite(principal, policy)
    if target is not None and _is_self(principal, target) and _self_service(action, target):
        return True
    if action in actions_of(principal.directory_roles):
        return (
            target is None
            or not target.is_sensitive
            or may_manage(principal.directory_roles, target.directory_roles)
        )
    return action in _defaults_of(principal, policy)


def _self_service(action: Action, target: Target) -> bool:
    """Everyone reads their own account and edits its contact details and preferences."""
    if action is Action.USER_READ:
        return True
    # A PATCH of phones alone counts as a reset action (see action_for_update); for
    # oneself it is a profile edit all the same.
    return (
        action in (Action.USER_WRITE, Action.USER_RESET_PASSWORD)
        and not target.deleting
        and bool(target.properties)
        and target.properties <= SELF_WRITABLE
    )


def _may_invite(principal: Principal, policy: Mapping[str, Any]) -> bool:
    """``authorizationPolicy.allowInvitesFrom`` decides, for admins too (``none``)."""
    setting = str(policy.get("allowInvitesFrom", "everyone"))
    if setting == "none":
        return False
    if principal.directory_roles & INVITING_ADMINS:
        return True
    if setting == "everyone":
        return True
    return setting in _INVITES_FOR_MEMBERS and not principal.is_guest


def _defaults_of(principal: Principal, policy: Mapping[str, Any]) -> frozenset[Action]:
    defaults = _GUEST_DEFAULTS[guest_level(policy)] if principal.is_guest else _MEMBER_DEFAULTS
    if not _may_read_other_users(policy):
        defaults = defaults - _READING_OTHERS
    return defaults


def _may_read_other_users(policy: Mapping[str, Any]) -> bool:
    permissions = policy.get("defaultUserRolePermissions") or {}
    return permissions.get("allowedToReadOtherUsers", True) is not False


def action_for_update(properties: frozenset[str]) -> Action:
    """A ``PATCH`` that sets only a password (and its recovery data) is a password reset."""
    if properties and properties <= RESET_PROPERTIES:
        return Action.USER_RESET_PASSWORD
    return Action.USER_WRITE


def user_view(principal: Principal, target_id: str, policy: Mapping[str, Any]) -> UserView:
    """How much of user ``target_id`` the principal sees (raises 403 if nothing)."""
    authorize(principal, Action.USER_READ, policy, Target(target_id))
    if principal.is_app or not principal.is_guest or principal.object_id == target_id:
        return UserView.FULL
    if Action.USER_READ in actions_of(principal.directory_roles):
        return UserView.FULL  # a guest holding a role has that role's rights
    level = guest_level(policy)
    if level == GUEST_SAME_AS_MEMBER:
        return UserView.FULL
    if level == GUEST_LIMITED:
        return UserView.LIMITED
    raise access_denied()


def may_write_on_premises_properties(principal: Principal) -> bool:
    """Only applications holding the synchronization role write ``onPremises*`` markers."""
    return principal.is_app and SYNC_ROLE in principal.roles
