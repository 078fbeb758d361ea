"""Ids for new connector-space and metaverse objects.

Time-ordered (a nanosecond clock, then this process's random tag and a counter), in the
UUID text form: new rows land at the end of the store's primary-key B-trees instead of
at random pages, which keeps inserting 100,000 objects linear. The counter keeps ids
unique within a process, the tag (random, drawn once) between processes; neither reads
the system's random source per id (a system call each, three per object of a first sync).
"""

from __future__ import annotations

import itertools
import os
import threading
import time

_TAG = os.urandom(4).hex()
_COUNTER = itertools.count()
_LOCK = threading.Lock()


def new_id() -> str:
    with _LOCK:  # itertools.count is not atomic across threads on every Python build
        number = next(_COUNTER) & 0xFFFFFFFF
    text = f"{time.time_ns():016x}{_TAG}{number:08x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"
