"""Write-quota emulation: fixed windows per (tenant, app), per tenant and per app.

Graph's published directory write limits are the ``graph`` preset; tests use tiny quotas
so clients' back-off can be exercised for real (429 with ``Retry-After``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from hybridsync.cloud.errors import GraphError


class Quota(BaseModel):
    requests: int
    seconds: float


class ThrottleSettings(BaseModel):
    """Write quotas; any of them may be ``None`` (unlimited)."""

    app_tenant_writes: Quota | None = None
    tenant_writes: Quota | None = None
    app_writes: Quota | None = None

    @classmethod
    def graph_preset(cls) -> ThrottleSettings:
        """Microsoft Graph's identity write limits (concepts/throttling-limits)."""
        return cls(
            app_tenant_writes=Quota(requests=3000, seconds=150),
            tenant_writes=Quota(requests=18000, seconds=300),
            app_writes=Quota(requests=35000, seconds=300),
        )


@dataclass(slots=True)
class _Window:
    start: float
    count: int


class Throttle:
    def __init__(self, settings: ThrottleSettings, clock: Callable[[], float] = time.monotonic):
        self._settings = settings
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def charge_write(self, tenant_id: str, app_id: str) -> None:
        """Count one write, or raise 429 if a quota is used up (nothing is counted then)."""
        scopes = [
            ("Tenant_Application", f"{app_id}/{tenant_id}", self._settings.app_tenant_writes),
            ("Tenant", tenant_id, self._settings.tenant_writes),
            ("Application", app_id, self._settings.app_writes),
        ]
        with self._lock:
            now = self._clock()
            live = [(name, key, quota) for name, key, quota in scopes if quota is not None]
            for name, key, quota in live:
                window = self._window(name, key, quota, now)
                if window.count >= quota.requests:
                    raise _throttled(name, app_id, tenant_id, window.start + quota.seconds - now)
            for name, key, quota in live:
                self._window(name, key, quota, now).count += 1

    def _window(self, name: str, key: str, quota: Quota, now: float) -> _Window:
        window = self._windows.get((name, key))
        if window is None or now - window.start >= quota.seconds:
            window = self._windows[(name, key)] = _Window(now, 0)
        return window


def _throttled(scope: str, app_id: str, tenant_id: str, wait: float) -> GraphError:
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        headers={
            "Retry-After": str(max(1, math.ceil(wait))),
            "x-ms-throttle-scope": f"{scope}/Write/{app_id}/{tenant_id}",
            "x-ms-throttle-information": "WriteLimitExceeded",
        },
    )
