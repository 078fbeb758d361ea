"""The service's settings and the object every route reaches its parts through."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, SecretStr
from starlette.requests import Request

from hybridsync.cloud.consent import Clients
from hybridsync.cloud.db import Database
from hybridsync.cloud.directory import UserDirectory
from hybridsync.cloud.groups import GroupDirectory
from hybridsync.cloud.groups_claim import ApplicationClaims
from hybridsync.cloud.keys import SigningKeys
from hybridsync.cloud.mail import SmtpSettings
from hybridsync.cloud.managers import ManagerDirectory
from hybridsync.cloud.membership import Memberships
from hybridsync.cloud.password_hash_sync import SyncedPasswords
from hybridsync.cloud.roles_store import RoleAssignments
from hybridsync.cloud.tenancy import Tenancy
from hybridsync.cloud.throttle import RateLimiter, RateLimits, Throttle, ThrottleSettings
from hybridsync.cloud.tokens import TokenIssuer


class CloudSettings(BaseModel):
    """How the cloud directory runs.

    Attributes:
        database_url: a SQLAlchemy URL (``sqlite:///path/cloud.db`` by default).
        master_key: encrypts the token-signing keys at rest.
        public_url: the base URL clients use (``https://host:port``); when unset, each
            request's own base URL is used, which suits loopback and tests.
        token_lifetime_seconds: access-token lifetime (Entra: about an hour).
        throttle: write quotas answered with 429; ``None`` disables throttling.
        rate_limits: token-endpoint and read rates answered with 429 (on by default).
        smtp: the relay that carries email one-time passcodes (``None``: no mail is sent,
            and an invitation to an existing user cannot be redeemed).
    """

    database_url: str
    master_key: SecretStr
    public_url: str | None = None
    token_lifetime_seconds: int = Field(default=3599, ge=60, le=86400)
    throttle: ThrottleSettings | None = None
    rate_limits: RateLimits = RateLimits()
    smtp: SmtpSettings | None = None


class CloudService:
    def __init__(self, settings: CloudSettings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        lifetime = dt.timedelta(seconds=settings.token_lifetime_seconds)
        self.tenancy = Tenancy(self.db)
        self.keys = SigningKeys(self.db, settings.master_key, lifetime)
        self.issuer = TokenIssuer(self.keys, lifetime)
        self.users = UserDirectory(self.db)
        self.groups = GroupDirectory(self.db)
        self.memberships = Memberships(self.db)
        self.managers = ManagerDirectory(self.db)
        self.app_claims = ApplicationClaims(self.db)
        self.synced_passwords = SyncedPasswords(self.db)
        self.role_assignments = RoleAssignments(self.db)
        self.clients = Clients(self.db)
        self.throttle = Throttle(settings.throttle) if settings.throttle else None
        self.limiter = RateLimiter(settings.rate_limits)

    def base_url(self, request: Request) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    def close(self) -> None:
        self.db.close()
