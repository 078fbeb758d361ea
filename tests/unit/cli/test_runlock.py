"""The sync lock: one holder at a time, across processes; released when the holder dies."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hybridsync.cli.runlock import SyncInProgress, lock_path, sync_lock

HOLD = """
import sys, time
from pathlib import Path
from hybridsync.cli.runlock import sync_lock
with sync_lock(Path(sys.argv[1]), "test holder"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_holder_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    store = tmp_path / "hybridsync.db"
    with sync_lock(store, "first"), pytest.raises(SyncInProgress) as refused:  # noqa: SIM117
        with sync_lock(store, "second"):
            pass
    assert refused.value.path == lock_path(store)
    assert "pid " in refused.value.holder
    with sync_lock(store, "after release"):
        pass


def test_another_process_holding_it_blocks_us_until_it_dies(tmp_path: Path) -> None:
    store = tmp_path / "hybridsync.db"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(SyncInProgress, match=f"pid {holder.pid}"), sync_lock(store, "me"):
                pass
        finally:
            holder.kill()
    deadline = time.monotonic() + 10
    while True:  # the OS releases a dead process's lock; no stale lock file to clean up
        try:
            with sync_lock(store, "me"):
                break
        except SyncInProgress:
            assert time.monotonic() < deadline
            time.sleep(0.05)
