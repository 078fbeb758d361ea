"""Lockout after repeated failures (Entra smart lockout: 10 failures, 1 minute, increasing).

Counted per user in memory, for every method. A successful sign-in resets the count; each
lockout that follows another doubles the lockout time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

THRESHOLD = 10
FIRST_LOCKOUT_SECONDS = 60.0


@dataclass
class _State:
    failures: int = 0
    lockouts: int = 0
    locked_until: float = 0.0


class Lockout:
    def __init__(
        self,
        threshold: int = THRESHOLD,
        first_lockout_seconds: float = FIRST_LOCKOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.first_lockout_seconds = first_lockout_seconds
        self._clock = clock
        self._states: dict[tuple[str, str], _State] = {}
        self._lock = threading.Lock()

    def is_locked(self, tenant_id: str, user_id: str) -> bool:
        with self._lock:
            state = self._states.get((tenant_id, user_id))
            return state is not None and state.locked_until > self._clock()

    def failed(self, tenant_id: str, user_id: str) -> None:
        with self._lock:
            state = self._states.setdefault((tenant_id, user_id), _State())
            state.failures += 1
            if state.failures >= self.threshold:
                duration = self.first_lockout_seconds * 2**state.lockouts
                state.locked_until = self._clock() + duration
                state.lockouts += 1
                state.failures = 0

    def succeeded(self, tenant_id: str, user_id: str) -> None:
        with self._lock:
            state = self._states.get((tenant_id, user_id))
            if state is not None:
                state.failures = 0
