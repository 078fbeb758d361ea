"""Crash points: the crash-and-resume tests kill the process at the N-th one.

Set ``HYBRIDSYNC_KILL_AT=N`` and the engine kills its own process with SIGKILL (no
cleanup, no flush) when it reaches its N-th checkpoint. Checkpoints sit between every
pair of steps whose order matters: before and after each commit, before and after each
call to a connector.
"""

from __future__ import annotations

import os
import signal

_KILL_AT = int(os.environ.get("HYBRIDSYNC_KILL_AT", "0") or 0)
_reached = [0]


def checkpoint() -> None:
    if not _KILL_AT:
        return
    _reached[0] += 1
    if _reached[0] >= _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


def reached() -> int:
    return _reached[0]
