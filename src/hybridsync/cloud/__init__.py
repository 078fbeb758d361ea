"""An Entra-compatible cloud directory and identity provider (a product of its own).

It serves a subset of Microsoft Graph v1.0 and the OAuth 2.0 / OpenID Connect endpoints of
a Microsoft Entra tenant, so Microsoft's own client libraries work against it. It imports
nothing of the sync engine.
"""

from __future__ import annotations

import typing

from hybridsync.lazy import lazy_getattr

if typing.TYPE_CHECKING:
    from hybridsync.cloud.app import create_app
    from hybridsync.cloud.authz import SYNC_ROLE
    from hybridsync.cloud.principal import Principal, PrincipalKind
    from hybridsync.cloud.service import CloudService, CloudSettings
    from hybridsync.cloud.throttle import Quota, RateLimits, ThrottleSettings

_HOMES = {
    "create_app": "app",
    "SYNC_ROLE": "authz",
    "Principal": "principal",
    "PrincipalKind": "principal",
    "CloudService": "service",
    "CloudSettings": "service",
    "Quota": "throttle",
    "RateLimits": "throttle",
    "ThrottleSettings": "throttle",
}
"""Each name the package exports and its module, imported on first use: a light module
of the package (its errors, its setting names) must not load the web application."""
__getattr__ = lazy_getattr(__name__, _HOMES)


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
