"""The progress display names the connector, phase and reason of a retry wait while it
lasts: overlapping waits show the latest, and the line goes when the last wait ends."""

from __future__ import annotations

import io

from rich.console import Console

from hybridsync.cli.progress import ProgressBars
from hybridsync.core.ports import RetryWait
from hybridsync.engine import Profile, RunReport
from hybridsync.engine.control import RunControl


def _drawn(console: Console, bars: ProgressBars) -> str:
    """What the display shows right now, as plain text."""
    with console.capture() as capture:
        console.print(bars)
    return capture.get()


def test_a_wait_shows_under_the_bars_until_it_ends() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    bars = ProgressBars(console)
    control = RunControl(progress=bars)
    report = RunReport("cloud", Profile.EXPORT, run_id="r1")
    control.begin(report)
    waits = control.waits_of(report)
    first = RetryWait("POST /v1.0/$batch: cannot connect to graph.contoso.com", 2, 8, 2.1)
    second = RetryWait("3 writes refused (429 TooManyRequests)", 1, 8, 4.0)

    waits.waiting(first)
    assert (
        "cloud export: waiting 2.1 s before retry 2 of 8 "
        "(POST /v1.0/$batch: cannot connect to graph.contoso.com)"
    ) in _drawn(console, bars)

    waits.waiting(second)  # another export worker waits as well: the latest is shown
    drawn = _drawn(console, bars)
    assert "cloud export: waiting 4.0 s before retry 1 of 8 (3 writes refused" in drawn
    assert "cannot connect" not in drawn

    waits.waited(second)
    assert "waiting 2.1 s before retry 2 of 8" in _drawn(console, bars)

    waits.waited(first)
    drawn = _drawn(console, bars)
    assert "cloud export" in drawn
    assert "waiting" not in drawn


def test_a_run_ending_mid_wait_leaves_no_wait_behind() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    bars = ProgressBars(console)
    control = RunControl(progress=bars)
    report = RunReport("cloud", Profile.FULL_IMPORT, run_id="r2")
    control.begin(report)
    control.waits_of(report).waiting(RetryWait("GET /v1.0/users: 503", 1, 8, 1.0))
    assert "cloud full-import: waiting 1.0 s before retry 1 of 8" in _drawn(console, bars)

    control.end(report)
    assert "waiting" not in _drawn(console, bars)
