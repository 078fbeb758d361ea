"""Garbage collection while a run works: passes far less often.

A run allocates millions of short-lived containers (attribute maps, value tuples, export
changes) and keeps a batch of them alive at a time. With CPython's default thresholds
(a young pass every 700 allocations) those batches are promoted to the old generation,
which then fills fast enough to trigger full passes over the whole heap again and again:
at 100,000 users that was about a sixth of the initial cycle's CPU time. The objects a
run makes form almost no reference cycles (reference counting frees them), so passes can
be rare without holding memory (a cycle that dies young is still found by the next
young or middle pass). The thresholds are raised while any run is in progress
(runs may overlap in threads: the first raises them, the last restores them).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 100_000
"""Allocations between young-generation passes while a run works (CPython's default: 700)."""
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 100
"""Young passes per middle one, middle passes per full one (CPython's defaults: 10, 10)."""


class _RaisedThresholds:
    """Counts the runs in progress; the first raises the thresholds, the last restores them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved: tuple[int, int, int] = gc.get_threshold()

    def enter(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = gc.get_threshold()
                young, middle, old = self._saved
                gc.set_threshold(
                    max(young, YOUNG_THRESHOLD),
                    max(middle, MIDDLE_THRESHOLD),
                    max(old, OLD_THRESHOLD),
                )
            self._active += 1

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                gc.set_threshold(*self._saved)


_RUNS = _RaisedThresholds()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collection thresholds for the duration of the block."""
    _RUNS.enter()
    try:
        yield
    finally:
        _RUNS.leave()
