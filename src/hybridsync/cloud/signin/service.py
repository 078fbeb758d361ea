"""The sign-in parts of one cloud service, created on first use and kept beside it."""

from __future__ import annotations

import weakref

from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.agents import AgentRegistry
from hybridsync.cloud.signin.codes import AuthorizationCodes
from hybridsync.cloud.signin.converted import ConvertedUsers
from hybridsync.cloud.signin.lockout import Lockout
from hybridsync.cloud.signin.otp import OneTimePasscodes
from hybridsync.cloud.signin.pta import PassThroughQueue
from hybridsync.cloud.signin.store import SignInStore


class SignIn:
    def __init__(self, service: CloudService) -> None:
        self.store = SignInStore(service.db)
        self.lockout = Lockout()
        self.agents = AgentRegistry(self.store, service.settings.master_key)
        self.pta = PassThroughQueue(self.agents)
        self.codes = AuthorizationCodes()
        self.converted = ConvertedUsers(service.db)
        self.otp = OneTimePasscodes(service.db, service.settings.master_key.get_secret_value())


_instances: weakref.WeakKeyDictionary[CloudService, SignIn] = weakref.WeakKeyDictionary()


def signin_of(service: CloudService) -> SignIn:
    """The service's sign-in state (one per service: lockout counts and the queue are shared)."""
    found = _instances.get(service)
    if found is None:
        found = _instances[service] = SignIn(service)
    return found
