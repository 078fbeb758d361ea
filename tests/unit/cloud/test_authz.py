"""The authorization decision as a table: fast, and covering what the HTTPS tests sample."""

from __future__ import annotations

from typing import Any

import pytest

from hybridsync.cloud.authz import (
    GUEST_RESTRICTED,
    Action,
    Target,
    action_for_update,
    is_allowed,
)
from hybridsync.cloud.principal import Principal, PrincipalKind
from hybridsync.cloud.roles import (
    AUTHENTICATION_ADMINISTRATOR,
    DIRECTORY_READERS,
    GLOBAL_ADMINISTRATOR,
    GROUPS_ADMINISTRATOR,
    GUEST_INVITER,
    HELPDESK_ADMINISTRATOR,
    HYBRID_IDENTITY_ADMINISTRATOR,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    PRIVILEGED_ROLE_ADMINISTRATOR,
    ROLES,
    USER_ADMINISTRATOR,
    find_role,
)

POLICY: dict[str, Any] = {"allowInvitesFrom": "everyone", "guestUserRoleId": GUEST_RESTRICTED}
ALL_SCOPES = frozenset({"Directory.ReadWrite.All", "User.ReadWrite", "User.Invite.All"})


def user(*roles: str, guest: bool = False, scopes: frozenset[str] = ALL_SCOPES) -> Principal:
    return Principal(
        PrincipalKind.USER, "t", "me", "client", scopes=scopes, is_guest=guest,
        directory_roles=frozenset(roles),
    )  # fmt: skip


def reset(*target_roles: str) -> Target:
    return Target("victim", frozenset(target_roles), frozenset({"passwordProfile"}))


# Microsoft's "who can reset passwords" matrix, for the roles served here.
RESETTERS = (
    HELPDESK_ADMINISTRATOR, AUTHENTICATION_ADMINISTRATOR, USER_ADMINISTRATOR,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR,
)  # fmt: skip
MATRIX = {
    None: RESETTERS,
    DIRECTORY_READERS: RESETTERS,
    GUEST_INVITER: RESETTERS,
    HELPDESK_ADMINISTRATOR: (
        HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
        GLOBAL_ADMINISTRATOR,
    ),
    AUTHENTICATION_ADMINISTRATOR: (
        AUTHENTICATION_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
        GLOBAL_ADMINISTRATOR,
    ),
    GROUPS_ADMINISTRATOR: (
        USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR,
    ),
    USER_ADMINISTRATOR: (
        USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR,
    ),
    **{
        role: (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR)
        for role in (
            GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR,
            PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR,
        )
    },
}  # fmt: skip


@pytest.mark.parametrize("target_role", list(MATRIX))
@pytest.mark.parametrize("actor_role", sorted(ROLES))
def test_who_can_reset_whose_password(actor_role: str, target_role: str | None) -> None:
    target = reset(*([target_role] if target_role else []))
    allowed = is_allowed(user(actor_role), Action.USER_RESET_PASSWORD, POLICY, target)
    assert allowed == (actor_role in MATRIX[target_role])


def test_a_target_must_be_managed_in_every_role_it_holds() -> None:
    target = reset(HELPDESK_ADMINISTRATOR, GROUPS_ADMINISTRATOR)
    assert not is_allowed(user(HELPDESK_ADMINISTRATOR), Action.USER_RESET_PASSWORD, POLICY, target)
    assert is_allowed(user(USER_ADMINISTRATOR), Action.USER_RESET_PASSWORD, POLICY, target)


def test_only_sensitive_properties_of_role_holders_need_the_matrix() -> None:
    admin = user(USER_ADMINISTRATOR)
    boss = frozenset({GLOBAL_ADMINISTRATOR})
    title = Target("victim", boss, frozenset({"jobTitle"}))
    for sensitive in ("accountEnabled", "userPrincipalName", "mail", "onPremisesImmutableId"):
        target = Target("victim", boss, frozenset({sensitive}))
        assert not is_allowed(admin, Action.USER_WRITE, POLICY, target), sensitive
    assert not is_allowed(admin, Action.USER_WRITE, POLICY, Target("victim", boss, deleting=True))
    assert is_allowed(admin, Action.USER_WRITE, POLICY, title)


def test_scopes_and_the_user_must_both_allow() -> None:
    member = user()
    assert not is_allowed(member, Action.USER_WRITE, POLICY, Target("victim"))
    assert not is_allowed(member, Action.POLICY_WRITE, POLICY)
    no_scope = user(GLOBAL_ADMINISTRATOR, scopes=frozenset({"User.Read"}))
    assert not is_allowed(no_scope, Action.USER_LIST, POLICY)
    assert is_allowed(no_scope, Action.USER_READ, POLICY, Target("me"))  # User.Read: oneself


def test_self_service_stops_at_sensitive_properties() -> None:
    me = user(scopes=frozenset({"User.ReadWrite"}))
    assert is_allowed(
        me, Action.USER_WRITE, POLICY, Target("me", properties=frozenset({"mobilePhone"}))
    )
    for name in ("userType", "accountEnabled", "passwordProfile", "jobTitle", "displayName"):
        target = Target("me", properties=frozenset({name}))
        assert not is_allowed(me, Action.USER_WRITE, POLICY, target), name


@pytest.mark.parametrize(
    ("setting", "member", "guest", "inviter", "global_admin"),
    [
        ("none", False, False, False, False),
        ("adminsAndGuestInviters", False, False, True, True),
        ("adminsGuestInvitersAndAllMembers", True, False, True, True),
        ("everyone", True, True, True, True),
    ],
)
def test_allow_invites_from(
    setting: str, member: bool, guest: bool, inviter: bool, global_admin: bool
) -> None:
    policy = {**POLICY, "allowInvitesFrom": setting}
    decide = lambda p: is_allowed(p, Action.USER_INVITE, policy)  # noqa: E731
    assert decide(user()) is member
    assert decide(user(guest=True)) is guest
    assert decide(user(GUEST_INVITER, guest=True)) is inviter
    assert decide(user(GLOBAL_ADMINISTRATOR)) is global_admin


def test_a_guest_holding_a_role_has_its_rights() -> None:
    assert not is_allowed(user(guest=True), Action.USER_LIST, POLICY)
    assert is_allowed(user(DIRECTORY_READERS, guest=True), Action.USER_LIST, POLICY)


def test_applications_keep_their_permissions() -> None:
    app = Principal(PrincipalKind.APP, "t", "sp", "client", roles=frozenset({"User.ReadWrite.All"}))
    assert is_allowed(app, Action.USER_RESET_PASSWORD, POLICY, reset(GLOBAL_ADMINISTRATOR))
    assert not is_allowed(app, Action.ROLE_ASSIGN, POLICY)


def test_a_password_only_patch_is_a_reset() -> None:
    assert action_for_update(frozenset({"passwordProfile"})) is Action.USER_RESET_PASSWORD
    both = frozenset({"passwordProfile", "displayName"})
    assert action_for_update(both) is Action.USER_WRITE


def test_roles_are_found_by_name_or_template_id() -> None:
    assert find_role("user administrator") is ROLES[USER_ADMINISTRATOR]
    assert find_role(GLOBAL_ADMINISTRATOR) is ROLES[GLOBAL_ADMINISTRATOR]
    assert find_role("Janitor") is None
