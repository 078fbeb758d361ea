"""The service tells ``on_cycle`` when the wake that started a small cycle arrived (the
admin address's wake-to-export histogram), and nothing for other cycles."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from hybridsync.engine import CycleReport
from hybridsync.engine.service import ServiceSettings, SyncService

WAIT = 30.0


def test_a_small_cycle_knows_when_its_wake_arrived(world: Any) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    stop = threading.Event()
    seen: queue.Queue[tuple[CycleReport, float | None]] = queue.Queue()
    settings = ServiceSettings(poll_seconds=3600.0, cycle_seconds=3600.0, settle_seconds=0.01)
    service = SyncService(built.engine, settings, stop, first_cycle="initial",
                          on_cycle=lambda cycle: seen.put((cycle, service.woken_at)))  # fmt: skip
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        first, woken_at = seen.get(timeout=WAIT)
        assert first.kind == "initial"
        assert woken_at is None  # no wake started it
        world.put(world.user("ann", department="Finance"))
        before = time.monotonic()
        service.wake("ad")  # as POST /api/sync does
        small, woken_at = seen.get(timeout=WAIT)
        assert woken_at is not None
        assert before <= woken_at <= time.monotonic()
        assert any(run.counts.get("update") for run in small.runs)
    finally:
        stop.set()
        service.wake("ad")
        thread.join(WAIT)
    assert not thread.is_alive()
    assert service.woken_at is None  # reset once its cycle is over
