"""SIGTERM and SIGINT for the long-running commands: finish the batch, then stop.

The first signal only sets the stop event the engine checks after each committed batch
(``RunControl``): the run in progress ends with ``stopped-by-request`` and the command
exits. A second signal stops at once (``KeyboardInterrupt``); the batch in flight rolls
back and the next run completes the work, as after a crash.

The daemons (``scheduler``, ``phs loop``, ``agent run``) use ``stopped_by_signals``: after
a requested stop they exit with status 0, after a second signal with 2 (``STOPPED``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import typer

from hybridsync.cli import exit_codes


def _log() -> Any:
    """The logger, imported when something is logged (structlog is slow to import)."""
    import structlog

    return structlog.get_logger("hybridsync.stopping")


SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: threading.Event, *, event: str = "stopping") -> Iterator[None]:
    """Within the block, SIGTERM or SIGINT sets ``stop`` (logged as ``event``)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals; its caller handles them
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        _log().info(event, signal=signal.Signals(signum).name)
        stop.set()

    previous: dict[int, Any] = {number: signal.signal(number, handle) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def stopped_by_signals(stop: threading.Event, *, name: str) -> Iterator[None]:
    """``stop_on_signals`` for a daemon: the first signal sets ``stop`` (``<name>.stopping``)
    and the block ends normally (exit status 0); a second one stops at once
    (``<name>.interrupted``, exit status ``STOPPED``)."""
    try:
        with stop_on_signals(stop, event=f"{name}.stopping"):
            yield
    except KeyboardInterrupt:
        _log().warning(f"{name}.interrupted")
        raise typer.Exit(exit_codes.STOPPED) from None
