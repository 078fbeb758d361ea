"""A write budget that keeps the connector under the target's write quotas.

Graph throttles directory writes per app and tenant (for example 3,000 requests in
2 min 30 s). Waiting before sending costs the same time as being throttled, but without
429 answers, retries and the penalty Graph adds for retrying too early.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hybridsync.connectors.graph.config import WriteQuota


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Where an export stands; given to the progress callback after every batch."""

    done: int
    total: int
    eta_seconds: float | None
    """Estimated seconds until the last change is written; ``None`` before any data."""
    throttled: int = 0
    """Answers with 429/503 seen so far."""


class _Window:
    """One quota: completion times of the writes in the last ``span`` seconds."""

    def __init__(self, quota: WriteQuota):
        self.quota = quota
        # The service counts a write when it processes it, somewhere between our
        # sending it and our reading the answer. A write therefore occupies the window
        # while in flight and counts from its answer on; the margin absorbs clock skew.
        self.span = quota.per_seconds * 1.02 + 0.2
        self.writes: deque[float] = deque()

    def wait_for(self, count: int, in_flight: int, now: float) -> float | None:
        """Seconds until ``count`` more writes fit; ``None``: only in-flight writes can
        make room (wait for one to finish)."""
        while self.writes and self.writes[0] <= now - self.span:
            self.writes.popleft()
        excess = len(self.writes) + in_flight + count - self.quota.requests
        if excess <= 0:
            return 0.0
        if excess > len(self.writes):
            return None
        return self.writes[excess - 1] + self.span - now

    def record(self, count: int, now: float) -> None:
        self.writes.extend([now] * count)


class WriteBudget:
    """Blocks writers until their writes fit in every configured quota.

    Thread-safe: several batch workers share one budget. Call :meth:`acquire` before
    sending writes and :meth:`release` once their answer (or failure) is in.
    """

    def __init__(
        self,
        quotas: Sequence[WriteQuota],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._windows = [_Window(quota) for quota in quotas]
        self._clock = clock
        self._sleep = sleep
        self._finished = threading.Condition()
        self._in_flight = 0
        self.waited = 0.0

    def acquire(self, count: int) -> None:
        """Wait until ``count`` writes may be sent, then count them as in flight."""
        if count > min((w.quota.requests for w in self._windows), default=count):
            raise ValueError(f"{count} writes at once exceed a configured write quota")
        while True:
            with self._finished:
                delay = self._delay(count)
                if delay is None:
                    self._finished.wait()
                    continue
                if delay <= 0:
                    self._in_flight += count
                    return
            self.waited += delay
            self._sleep(delay)

    def most_at_once(self, limit: int) -> int:
        """The most writes one :meth:`acquire` may ask for, at most ``limit``: a group
        change may take more requests than the smallest quota allows at once."""
        return min([limit, *(w.quota.requests for w in self._windows)])

    def _delay(self, count: int) -> float | None:
        now = self._clock()
        delays = [w.wait_for(count, self._in_flight, now) for w in self._windows]
        if any(delay is None for delay in delays):
            return None
        return max((delay for delay in delays if delay is not None), default=0.0)

    def release(self, count: int) -> None:
        """The answer to ``count`` writes is in: they count from now on."""
        with self._finished:
            self._in_flight -= count
            now = self._clock()
            for window in self._windows:
                window.record(count, now)
            self._finished.notify_all()

    def sustained_rate(self) -> float | None:
        """Writes per second the quotas allow in the long run (``None``: no quota)."""
        rates = [w.quota.requests / w.quota.per_seconds for w in self._windows]
        return min(rates) if rates else None


class ProgressMeter:
    """Turns completed batches into :class:`ExportProgress` with an ETA."""

    def __init__(
        self,
        total: int,
        budget: WriteBudget,
        callback: Callable[[ExportProgress], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._total = total
        self._budget = budget
        self._callback = callback
        self._clock = clock
        self._started = clock()
        self._done = 0
        self._throttled = 0
        self._lock = threading.Lock()

    def advance(self, done: int, throttled: int = 0) -> None:
        with self._lock:
            self._done += done
            self._throttled += throttled
            progress = ExportProgress(self._done, self._total, self._eta(), self._throttled)
        if self._callback is not None:
            self._callback(progress)

    def _eta(self) -> float | None:
        remaining = self._total - self._done
        if remaining <= 0:
            return 0.0
        elapsed = self._clock() - self._started
        rates = []
        if self._done and elapsed > 0:
            rates.append(self._done / elapsed)
        quota_rate = self._budget.sustained_rate()
        if quota_rate is not None:
            rates.append(quota_rate)
        if not rates:
            return None
        return remaining / min(rates)
