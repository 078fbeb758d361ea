"""What ``scheduler`` and ``serve`` share: building from the file, the first cycle's kind,
interval parsing, and the per-run and per-cycle log events.

Both daemons log a cycle with the same events (``scheduler.run``, ``scheduler.note``,
``scheduler.cycle_finished``), so one log query or alert serves either way of running;
each names its own logger.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybridsync.cli import exit_codes
from hybridsync.cli.sync import exit_code

if TYPE_CHECKING:
    # The engine and its wiring (SQLAlchemy, the connectors) load when a daemon starts.
    from hybridsync.engine import CycleReport
    from hybridsync.wiring import Built

__all__ = ["PHS_STOP_SECONDS", "build_from_file", "cycle_kind", "log_cycle", "logger",
           "parse_interval"]  # fmt: skip

PHS_STOP_SECONDS = 120.0
"""How long a stop waits for a password hash sync run in progress to finish."""

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


def logger(name: str) -> Any:
    """The logger ``hybridsync.<name>``, imported when something is logged (structlog is
    slow to import)."""
    import structlog

    return structlog.get_logger(f"hybridsync.{name}")


def parse_interval(text: str) -> float:
    """Seconds in ``30m``, ``1h``, ``1h30m``, ``90s`` or plain minutes (``15``)."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text) * 60.0
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not an interval: {text!r} (examples: 30m, 1h, 1h30m, 90s)")
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


def build_from_file(path: Path) -> Built:
    """The engine's objects from the configuration (the wiring, imported here: a help
    screen need not load SQLAlchemy and the connectors)."""
    from hybridsync.wiring import build_from_file as build

    return build(path)


def cycle_kind(built: Built) -> str:
    """``initial`` until every connector has been imported once, then ``delta``."""
    store = built.store
    fresh = any(store.connector_state(name).watermark is None for name in built.connectors)
    return "initial" if fresh else "delta"


def log_cycle(log: Any, cycle: CycleReport) -> None:
    """One event per run, one per note, and the cycle's end (a warning unless it succeeded)."""
    for run in cycle.runs:
        event: dict[str, Any] = {
            "run_id": run.run_id,
            "connector": run.connector,
            "profile": run.profile.value,
            "status": run.status,
            "counts": dict(run.counts),
            "errors": len(run.errors),
        }
        if run.message:
            event["message"] = run.message
        log.info("scheduler.run", **event)
    for note in cycle.notes:
        log.info("scheduler.note", note=note)
    level = log.info if exit_code(cycle.status) == exit_codes.SUCCESS else log.warning
    level("scheduler.cycle_finished", cycle=cycle.kind, status=cycle.status)
