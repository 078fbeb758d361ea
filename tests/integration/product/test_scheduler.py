"""The scheduler: cycles on an interval, rule changes picked up, the lock, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.integration.product.conftest import invoke

from hybridsync.cli.cycles import parse_interval
from hybridsync.cli.runlock import sync_lock
from hybridsync.cli.scheduler import Scheduler, effective_interval
from hybridsync.wiring import build_from_file


class FakeWait:
    """Records each wait and stops the scheduler after ``ticks`` cycles."""

    def __init__(self, scheduler: Scheduler, ticks: int, between: list[object]) -> None:
        self.scheduler, self.ticks, self.between = scheduler, ticks, between
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.delays.append(seconds)
        if len(self.delays) < len(self.between) + 1:
            action = self.between[len(self.delays) - 1]
            if callable(action):
                action()
        return len(self.delays) >= self.ticks


def history(config: Path) -> list[dict[str, object]]:
    code, output = invoke("history", "-c", str(config), "--json", "--limit", "100")
    assert code == 0, output
    runs: list[dict[str, object]] = json.loads(output)
    return runs


def test_intervals_parse_and_never_go_below_one_minute() -> None:
    assert parse_interval("30m") == 1800
    assert parse_interval("1h30m") == 5400
    assert parse_interval("90s") == 90
    assert parse_interval("15") == 900
    assert effective_interval(parse_interval("10s")) == 60
    for bad in ("", "soon", "5x", "1h 30m", "-5m"):
        with pytest.raises(ValueError, match="not an interval"):
            parse_interval(bad)


def test_first_tick_is_initial_then_deltas_and_a_rule_change_runs_a_full_sync(
    workspace: Path,
) -> None:
    def change_rules() -> None:
        text = workspace.read_text("utf-8")
        workspace.write_text(text.replace('"@partners.contoso.com"', '"@fabrikam.com"'), "utf-8")

    scheduler = Scheduler(workspace, interval=600)
    waiter = FakeWait(scheduler, ticks=3, between=[None, change_rules])
    scheduler.wait = waiter
    scheduler.run()
    assert len(scheduler.statuses) == 3
    assert all(0 < d <= 600 for d in waiter.delays)
    profiles = [(r["connector"], r["profile"]) for r in reversed(history(workspace))]
    first, second, third = profiles[:5], profiles[5:10], profiles[10:]
    assert first == [
        ("ad", "full-import"), ("cloud", "full-import"), ("ad", "full-sync"),
        ("cloud", "full-sync"), ("cloud", "export"),
    ]  # fmt: skip
    assert ("ad", "delta-sync") in second
    assert ("ad", "full-sync") in third  # the userType rule changed: a full sync
    exports = [r for r in history(workspace) if r["profile"] == "export"]
    assert exports[0]["counts"].get("update", 0) > 0  # partners became members


def test_a_tick_skips_while_another_sync_holds_the_lock(workspace: Path) -> None:
    built = build_from_file(workspace)
    store = built.config.store_file()
    assert store is not None
    built.close()
    scheduler = Scheduler(workspace, max_cycles=1)
    with sync_lock(store, "manual run"):
        scheduler.run()
        code, output = invoke("run", "delta", "-c", str(workspace))
    assert scheduler.statuses == ["skipped"]
    assert code == 2
    assert "another sync is in progress" in output
    assert history(workspace) == []


def test_a_stop_during_a_cycle_ends_the_run_after_its_batch_and_leaves_the_rest(
    workspace: Path,
) -> None:
    scheduler = Scheduler(workspace, interval=600)
    scheduler.wait = lambda seconds: pytest.fail("must not wait after a stop")
    built = build_from_file(workspace)
    original_cycle = type(built.engine).cycle
    built.close()

    def stop_during_the_first_run(engine: Any, kind: str, **options: Any) -> Any:
        control = engine.context.control
        assert control.stop is scheduler.stop  # the scheduler's stop reaches the engine
        # SIGTERM arrives while the first batch of the first run is being imported.
        control.progress = lambda progress: scheduler.stop.set()
        return original_cycle(engine, kind, **options)

    type(built.engine).cycle = stop_during_the_first_run  # type: ignore[method-assign]
    try:
        scheduler.run()
    finally:
        type(built.engine).cycle = original_cycle  # type: ignore[method-assign]
    assert scheduler.statuses == ["stopped-by-request"]
    recorded = history(workspace)
    assert [(r["profile"], r["status"]) for r in recorded] == [
        ("full-import", "stopped-by-request")
    ]
    # The next cycle completes the work: everything is exported.
    follow = Scheduler(workspace, max_cycles=1)
    follow.run()
    assert follow.statuses == ["success"]
    exports = [r for r in history(workspace) if r["profile"] == "export"]
    assert exports[0]["counts"]["add"] == 20


def test_cli_rejects_bad_intervals_and_configuration(workspace: Path, tmp_path: Path) -> None:
    code, output = invoke("scheduler", "-c", str(workspace), "--interval", "often")
    assert code == 3
    assert "not an interval" in output
    code, output = invoke("scheduler", "-c", str(tmp_path / "missing.toml"))
    assert code == 3
    assert "configuration error" in output


def test_sigterm_stops_the_daemon_between_cycles_with_status_0(workspace: Path) -> None:
    command = [
        sys.executable, "-c", "from hybridsync.cli import main; main()",
        "--log-format", "json", "scheduler", "-c", str(workspace), "--interval", "1m",
    ]  # fmt: skip
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    ) as daemon:
        assert daemon.stderr is not None
        events = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events.append(json.loads(daemon.stderr.readline()))
            if events[-1]["event"] == "scheduler.sleeping":
                break
        daemon.send_signal(signal.SIGTERM)
        rest = daemon.stderr.read()
        assert daemon.wait(timeout=30) == 0
    names = [e["event"] for e in events] + [json.loads(x)["event"] for x in rest.splitlines()]
    assert names[0] == "scheduler.started"
    assert "scheduler.cycle_finished" in names
    assert names[-2:] == ["scheduler.stopping", "scheduler.stopped"]
