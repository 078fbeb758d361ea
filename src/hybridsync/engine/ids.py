"""Ids for new connector-space and metaverse objects.

Time-ordered (a nanosecond clock, then random bits), in the UUID text form: new rows
land at the end of the store's primary-key B-trees instead of at random pages, which
keeps inserting 100,000 objects linear.
"""

from __future__ import annotations

import os
import time


def new_id() -> str:
    text = f"{time.time_ns():016x}{os.urandom(8).hex()}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"
