"""Quotas answered with 429 and ``Retry-After``: fixed windows per key.

Two families:

- write quotas per (tenant, app), per tenant and per app (:class:`ThrottleSettings`):
  Graph's published directory write limits are the ``graph`` preset, off unless asked for;
  tests use tiny quotas so clients' back-off can be exercised for real;
- rate limits (:class:`RateLimits`), on by default: the token endpoint and the sign-in page
  per (tenant, client address) and per tenant, and Graph reads per (tenant, app) and per
  tenant.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from hybridsync.cloud.errors import CloudSetupError, GraphError


class Quota(BaseModel):
    requests: int
    seconds: float


GraphQuotas = tuple[Quota | None, Quota | None, Quota | None]
"""The quotas of Graph's three throttle scopes: the app in the tenant, the tenant, the app."""


class ThrottleSettings(BaseModel):
    """Write quotas; any of them may be ``None`` (unlimited)."""

    app_tenant_writes: Quota | None = None
    tenant_writes: Quota | None = None
    app_writes: Quota | None = None

    @property
    def graph_quotas(self) -> GraphQuotas:
        return self.app_tenant_writes, self.tenant_writes, self.app_writes

    @classmethod
    def graph_preset(cls) -> ThrottleSettings:
        """Microsoft Graph's identity write limits (concepts/throttling-limits)."""
        return cls(
            app_tenant_writes=Quota(requests=3000, seconds=150),
            tenant_writes=Quota(requests=18000, seconds=300),
            app_writes=Quota(requests=35000, seconds=300),
        )


class RateLimits(BaseModel):
    """Request rates; any of them may be ``None`` (unlimited).

    Graph publishes a read quota per app and tenant (3,500 resource units per 10 s for a
    small tenant; a read costs at least one unit): that is the default here, one unit per
    read. Entra publishes no figure for its token endpoint nor a read quota per tenant; the
    defaults below are ours, well above any legitimate client's rate.
    """

    token_per_client: Quota | None = Quota(requests=200, seconds=10)
    token_per_tenant: Quota | None = Quota(requests=2000, seconds=10)
    reads_per_app: Quota | None = Quota(requests=3500, seconds=10)
    reads_per_tenant: Quota | None = Quota(requests=20000, seconds=10)

    @property
    def graph_read_quotas(self) -> GraphQuotas:
        return self.reads_per_app, self.reads_per_tenant, None

    def with_overrides(self, specs: list[str]) -> RateLimits:
        """These limits with ``NAME=REQUESTS/SECONDS`` or ``NAME=off`` applied (the
        ``--rate-limit`` option of ``cloud serve``)."""
        changes: dict[str, Quota | None] = {}
        for spec in specs:
            name, _, value = spec.partition("=")
            name = name.strip().replace("-", "_")
            if name not in RateLimits.model_fields:
                known = ", ".join(RateLimits.model_fields)
                raise CloudSetupError(f"unknown rate limit {name!r} (known: {known})")
            changes[name] = _quota(name, value.strip())
        return self.model_copy(update=changes)


def _quota(name: str, value: str) -> Quota | None:
    if value.lower() == "off":
        return None
    requests, _, seconds = value.partition("/")
    try:
        quota = Quota(requests=int(requests), seconds=float(seconds))
    except ValueError:
        quota = None
    if quota is None or quota.requests < 1 or not 0 < quota.seconds <= 86400:
        raise CloudSetupError(
            f"rate limit {name}: {value!r} is not REQUESTS/SECONDS (e.g. 200/10) or off"
        )
    return quota


@dataclass(slots=True)
class _Window:
    start: float
    count: int


Scope = tuple[str, str, Quota | None]
"""(scope name, key, quota): one window to count in."""
MAX_WINDOWS = 100_000
"""Windows kept at most; expired ones are forgotten first (made-up keys stay bounded)."""


class Windows:
    """Fixed windows counted together: all charged, or none and the wait until one frees."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def charge(self, scopes: list[Scope]) -> tuple[str, float] | None:
        """Count one request in every scope; or the first full scope and its wait (uncounted)."""
        with self._lock:
            now = self._clock()
            live = [(name, key, quota) for name, key, quota in scopes if quota is not None]
            for name, key, quota in live:
                window = self._window(name, key, quota, now)
                if window.count >= quota.requests:
                    return name, window.start + quota.seconds - now
            for name, key, quota in live:
                self._window(name, key, quota, now).count += 1
            return None

    def _window(self, name: str, key: str, quota: Quota, now: float) -> _Window:
        window = self._windows.get((name, key))
        if window is None or now - window.start >= quota.seconds:
            if window is None and len(self._windows) >= MAX_WINDOWS:
                self._forget_expired(now)
            window = self._windows[(name, key)] = _Window(now, 0)
        return window

    def _forget_expired(self, now: float) -> None:
        # Windows are at most a few minutes long: an hour-old window is over whatever it was.
        for key, window in list(self._windows.items()):
            if now - window.start >= 3600:
                del self._windows[key]


class Throttle:
    def __init__(self, settings: ThrottleSettings, clock: Callable[[], float] = time.monotonic):
        self._settings = settings
        self._windows = Windows(clock)

    def charge_write(self, tenant_id: str, app_id: str) -> None:
        """Count one write, or raise 429 if a quota is used up (nothing is counted then)."""
        _charge_graph(self._windows, "Write", tenant_id, app_id, self._settings.graph_quotas)


class RateLimiter:
    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._windows = Windows(clock)

    def charge_read(self, tenant_id: str, app_id: str) -> None:
        """Count one Graph read by an authenticated caller, or raise 429."""
        _charge_graph(self._windows, "Read", tenant_id, app_id, self.limits.graph_read_quotas)

    def sign_in_wait(self, tenant: str, client_address: str) -> int | None:
        """Count one token or sign-in request; the seconds to wait when over a limit.

        ``tenant`` is the path's tenant segment as sent (an id or a domain name): counting
        happens before anything is looked up.
        """
        full = self._windows.charge(
            [
                ("Client", f"{tenant.casefold()}/{client_address}", self.limits.token_per_client),
                ("Tenant", tenant.casefold(), self.limits.token_per_tenant),
            ]
        )
        return None if full is None else retry_after(full[1])


def retry_after(wait: float) -> int:
    """Whole seconds, at least one (clients sleep this long before trying again)."""
    return max(1, math.ceil(wait))


def _charge_graph(
    windows: Windows,
    kind: str,
    tenant_id: str,
    app_id: str,
    quotas: GraphQuotas,
) -> None:
    """Count one Graph ``kind`` request ("Write" or "Read") in Graph's three throttle scopes;
    429 when one of them is full (nothing is counted then)."""
    per_app_in_tenant, per_tenant, per_app = quotas
    full = windows.charge(
        [
            ("Tenant_Application", f"{app_id}/{tenant_id}", per_app_in_tenant),
            ("Tenant", tenant_id, per_tenant),
            ("Application", app_id, per_app),
        ]
    )
    if full is not None:
        raise _throttled(*full, kind, app_id, tenant_id)


def _throttled(scope: str, wait: float, kind: str, app_id: str, tenant_id: str) -> GraphError:
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        headers={
            "Retry-After": str(retry_after(wait)),
            "x-ms-throttle-scope": f"{scope}/{kind}/{app_id}/{tenant_id}",
            "x-ms-throttle-information": (
                "WriteLimitExceeded" if kind == "Write" else "ResourceUnitLimitExceeded"
            ),
        },
    )
