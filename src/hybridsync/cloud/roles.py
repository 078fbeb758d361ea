"""The built-in directory roles: Microsoft Entra's template ids, each role a set of actions.

One table (``ROLES``) says what each role may do; one table (``MANAGES``) says whose
password and sensitive properties a role may change (Microsoft's "Who can reset passwords"
and "Who can perform sensitive actions" matrices, restricted to the roles served here).
``hybridsync.cloud.authz`` reads both; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hybridsync.cloud.actions import Action

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
PRIVILEGED_AUTHENTICATION_ADMINISTRATOR = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
AUTHENTICATION_ADMINISTRATOR = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
GROUPS_ADMINISTRATOR = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
GUEST_INVITER = "95e79109-95c0-4d8e-aee3-d01accf2d47b"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HYBRID_IDENTITY_ADMINISTRATOR = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"


@dataclass(frozen=True, slots=True)
class DirectoryRole:
    """A built-in role: its template id (also its role definition id), name and actions."""

    template_id: str
    display_name: str
    description: str
    actions: frozenset[Action]
    is_privileged: bool


_READ_DIRECTORY = frozenset(
    {
        Action.USER_READ, Action.USER_LIST, Action.GROUP_READ, Action.GROUP_LIST,
        Action.POLICY_READ, Action.ROLE_READ,
    }
)  # fmt: skip
_RESET = _READ_DIRECTORY | {Action.USER_RESET_PASSWORD}
_MANAGE_USERS = _RESET | {
    Action.USER_WRITE, Action.USER_INVITE, Action.GROUP_WRITE,
}  # fmt: skip


def _role(
    template_id: str, name: str, description: str, actions: frozenset[Action], *, privileged: bool
) -> DirectoryRole:
    return DirectoryRole(template_id, name, description, actions, privileged)


ROLES: Mapping[str, DirectoryRole] = {
    role.template_id: role
    for role in (
        _role(
            GLOBAL_ADMINISTRATOR, "Global Administrator",
            "Can manage all aspects of the directory.", frozenset(Action), privileged=True,
        ),
        _role(
            PRIVILEGED_ROLE_ADMINISTRATOR, "Privileged Role Administrator",
            "Can manage role assignments and the authorization policy.",
            _READ_DIRECTORY | {Action.ROLE_ASSIGN, Action.POLICY_WRITE}, privileged=True,
        ),
        _role(
            USER_ADMINISTRATOR, "User Administrator",
            "Can manage all aspects of users and groups, including resetting passwords for"
            " limited admins.", _MANAGE_USERS, privileged=True,
        ),
        _role(
            HELPDESK_ADMINISTRATOR, "Helpdesk Administrator",
            "Can reset passwords for non-administrators and Helpdesk Administrators.",
            _RESET, privileged=True,
        ),
        _role(
            PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, "Privileged Authentication Administrator",
            "Can reset passwords and sensitive properties of any user, admins included.",
            _RESET, privileged=True,
        ),
        _role(
            AUTHENTICATION_ADMINISTRATOR, "Authentication Administrator",
            "Can reset passwords for non-administrators and some roles.", _RESET,
            privileged=True,
        ),
        _role(
            GROUPS_ADMINISTRATOR, "Groups Administrator",
            "Members of this role can create and manage groups.",
            _READ_DIRECTORY | {Action.GROUP_WRITE}, privileged=False,
        ),
        _role(
            GUEST_INVITER, "Guest Inviter",
            "Can invite guest users independent of the 'members can invite guests' setting.",
            frozenset({Action.USER_INVITE}), privileged=False,
        ),
        _role(
            DIRECTORY_READERS, "Directory Readers", "Can read basic directory information.",
            _READ_DIRECTORY, privileged=False,
        ),
        _role(
            HYBRID_IDENTITY_ADMINISTRATOR, "Hybrid Identity Administrator",
            "Can manage on-premises synchronization and the sign-in method of synced users.",
            _READ_DIRECTORY | {Action.SIGNIN_POLICY_WRITE}, privileged=True,
        ),
    )
}  # fmt: skip

ALL_ROLES = frozenset(ROLES)

# Whose password (and other sensitive properties) each role may change: the user's roles
# must all be in the set. A user without any role is fair game for every role that may
# reset passwords. Any role missing from a set (Hybrid Identity Administrator, Privileged
# Role Administrator, Global Administrator...) is "all other roles": only the last two rows.
MANAGES: Mapping[str, frozenset[str]] = {
    HELPDESK_ADMINISTRATOR: frozenset({DIRECTORY_READERS, GUEST_INVITER, HELPDESK_ADMINISTRATOR}),
    AUTHENTICATION_ADMINISTRATOR: frozenset(
        {DIRECTORY_READERS, GUEST_INVITER, AUTHENTICATION_ADMINISTRATOR}
    ),
    USER_ADMINISTRATOR: frozenset(
        {
            DIRECTORY_READERS, GUEST_INVITER, HELPDESK_ADMINISTRATOR, GROUPS_ADMINISTRATOR,
            USER_ADMINISTRATOR,
        }
    ),
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: ALL_ROLES,
    GLOBAL_ADMINISTRATOR: ALL_ROLES,
}  # fmt: skip

# The roles that may invite under ``allowInvitesFrom = adminsAndGuestInviters``.
INVITING_ADMINS = frozenset({GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR, GUEST_INVITER})


def find_role(name_or_id: str) -> DirectoryRole | None:
    """A role by template id or display name (any case)."""
    wanted = name_or_id.strip().lower()
    for role in ROLES.values():
        if wanted in (role.template_id, role.display_name.lower()):
            return role
    return None


def actions_of(template_ids: frozenset[str]) -> frozenset[Action]:
    return frozenset().union(*(ROLES[t].actions for t in template_ids if t in ROLES))


def may_manage(actor_roles: frozenset[str], target_roles: frozenset[str]) -> bool:
    """May a holder of ``actor_roles`` change the password or sensitive properties of a
    holder of ``target_roles``? (The caller checked that the actor may do it at all.)"""
    if not target_roles:
        return True
    return any(target_roles <= MANAGES.get(role, frozenset()) for role in actor_roles)
