"""A daemon's JSON log lines (``hybridsync --log-format json``), read as they come."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import IO, Any

import pytest


class Events:
    """The daemon's JSON log lines, read by a thread so a wait can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[dict[str, Any]] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                self._lines.put(line)
        except (OSError, ValueError):  # the test closed the stream: the daemon is gone
            pass
        self._lines.put(None)

    def caught_up(self) -> list[dict[str, Any]]:
        """Every event logged so far, without waiting for more."""
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return self.seen
            if line is None:  # the process ended: leave the mark for ``until``
                self._lines.put(None)
                return self.seen
            try:
                self.seen.append(json.loads(line))
            except ValueError:
                self.seen.append({"event": "(not JSON)", "line": line.rstrip()})

    def until(self, wanted: str, timeout: float = 120, **fields: Any) -> None:
        """Read events until one named ``wanted`` with ``fields``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"the process ended before {wanted} {fields}: {self.seen}")
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.seen.append(event)
            if event.get("event") == wanted and all(event.get(k) == v for k, v in fields.items()):
                return
        pytest.fail(f"no {wanted} {fields} within {timeout}s: {self.seen}")
