"""An Entra-compatible cloud directory and identity provider (a product of its own).

It serves a subset of Microsoft Graph v1.0 and the OAuth 2.0 / OpenID Connect endpoints of
a Microsoft Entra tenant, so Microsoft's own client libraries work against it. It imports
nothing of the sync engine.
"""

from __future__ import annotations

from hybridsync.cloud.app import create_app
from hybridsync.cloud.authz import SYNC_ROLE
from hybridsync.cloud.principal import Principal, PrincipalKind
from hybridsync.cloud.service import CloudService, CloudSettings
from hybridsync.cloud.throttle import Quota, RateLimits, ThrottleSettings

__all__ = [
    "SYNC_ROLE",
    "CloudService",
    "CloudSettings",
    "Principal",
    "PrincipalKind",
    "Quota",
    "RateLimits",
    "ThrottleSettings",
    "create_app",
]
