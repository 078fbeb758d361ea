"""What a caller may ask to do: the actions that authorization decides on."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    USER_READ = "user.read"
    USER_LIST = "user.list"
    USER_WRITE = "user.write"
    USER_RESET_PASSWORD = "user.resetPassword"
    USER_INVITE = "user.invite"
    GROUP_READ = "group.read"
    GROUP_LIST = "group.list"
    GROUP_WRITE = "group.write"
    POLICY_READ = "policy.read"
    POLICY_WRITE = "policy.write"
    SIGNIN_POLICY_WRITE = "signInPolicy.write"
    ROLE_READ = "role.read"
    ROLE_ASSIGN = "role.assign"
    APPLICATION_READ = "application.read"
    APPLICATION_WRITE = "application.write"
