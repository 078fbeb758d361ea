"""Smart lockout, as Entra documents it.

- 10 counted failures lock the account for 60 seconds; the first failure after a lockout
  has ended locks it again, each time for twice as long. A success resets everything.
- A wrong password repeated exactly counts once (the last three wrong passwords are
  remembered, as keyed digests that live only in this process).
- Familiar and unfamiliar sources are counted apart: a source (client address) that once
  signed in as the user is familiar, and failures from unfamiliar sources never lock the
  account for a familiar one.
- A guess takes its place in the count *before* its password is checked, atomically, so
  parallel guesses never check more passwords than the threshold allows.
- Names that do not exist are counted and lock like real accounts, so a lockout answer
  never tells which names are real.

State is in memory, per service process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

THRESHOLD = 10
FIRST_LOCKOUT_SECONDS = 60.0
REMEMBERED_WRONG_PASSWORDS = 3
FAMILIAR_SOURCES_PER_ACCOUNT = 32
MAX_TRACKED_ACCOUNTS = 100_000
"""Idle counters beyond this are forgotten first (a flood of made-up names stays bounded)."""

REQUEST_SOURCE: ContextVar[str] = ContextVar("hybridsync_signin_source", default="")
"""The client address of the request being served (set by the application's middleware)."""


@dataclass
class _Counter:
    failures: int = 0
    in_flight: int = 0
    lockouts: int = 0
    locked_until: float = 0.0
    wrong: deque[bytes] = field(default_factory=lambda: deque(maxlen=REMEMBERED_WRONG_PASSWORDS))


@dataclass(frozen=True, slots=True)
class Attempt:
    """One admitted or refused guess; pass it back to :meth:`Lockout.finish`."""

    key: tuple[str, str, bool]
    source: str
    fingerprint: bytes
    admitted: bool


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
        self._pepper = secrets.token_bytes(32)
        self._counters: OrderedDict[tuple[str, str, bool], _Counter] = OrderedDict()
        self._familiar: dict[tuple[str, str], OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def begin(self, tenant_id: str, account: str, source: str, password: str) -> Attempt:
        """Take a place in the account's count, or be refused because it is locked/full."""
        fingerprint = hmac.new(self._pepper, password.encode("utf-8", "replace"), hashlib.sha256)
        with self._lock:
            familiar = source in self._familiar.get((tenant_id, account), {})
            key = (tenant_id, account, familiar)
            counter = self._counter(key)
            admitted = not self._locked(counter) and self._room(counter) > 0
            if admitted:
                counter.in_flight += 1
        return Attempt(key, source, fingerprint.digest(), admitted)

    def finish(self, attempt: Attempt, *, succeeded: bool, failed: bool) -> None:
        """Record how an admitted guess ended (neither: the check could not decide)."""
        if not attempt.admitted:
            return
        with self._lock:
            counter = self._counter(attempt.key)
            counter.in_flight -= 1
            if succeeded:
                self._succeeded(attempt, counter)
            elif failed and attempt.fingerprint not in counter.wrong:
                counter.wrong.append(attempt.fingerprint)
                counter.failures += 1
                if counter.failures >= self._allowance(counter):
                    duration = self.first_lockout_seconds * 2**counter.lockouts
                    counter.locked_until = self._clock() + duration
                    counter.lockouts += 1
                    counter.failures = 0

    def is_locked(self, tenant_id: str, account: str, source: str = "") -> bool:
        with self._lock:
            familiar = source in self._familiar.get((tenant_id, account), {})
            counter = self._counters.get((tenant_id, account, familiar))
            return counter is not None and self._locked(counter)

    def _succeeded(self, attempt: Attempt, counter: _Counter) -> None:
        counter.failures = counter.lockouts = 0
        counter.wrong.clear()
        tenant_id, account, _ = attempt.key
        sources = self._familiar.setdefault((tenant_id, account), OrderedDict())
        sources[attempt.source] = None
        sources.move_to_end(attempt.source)
        while len(sources) > FAMILIAR_SOURCES_PER_ACCOUNT:
            sources.popitem(last=False)

    def _locked(self, counter: _Counter) -> bool:
        return counter.locked_until > self._clock()

    def _allowance(self, counter: _Counter) -> int:
        # After a lockout the next failure locks again (Entra: "locks out again").
        return 1 if counter.lockouts else self.threshold

    def _room(self, counter: _Counter) -> int:
        return self._allowance(counter) - counter.failures - counter.in_flight

    def _counter(self, key: tuple[str, str, bool]) -> _Counter:
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = _Counter()
            self._forget_idle()
        self._counters.move_to_end(key)
        return counter

    def _forget_idle(self) -> None:
        if len(self._counters) <= MAX_TRACKED_ACCOUNTS:
            return
        # Forget a batch at once, oldest first, so a flood of names costs one scan per batch.
        goal = MAX_TRACKED_ACCOUNTS - MAX_TRACKED_ACCOUNTS // 100
        for key, counter in list(self._counters.items()):
            if len(self._counters) <= goal:
                break
            if counter.in_flight == 0 and not self._locked(counter):
                del self._counters[key]
