"""The systemd unit examples: their commands run, and they stop the way the docs say."""

from __future__ import annotations

import configparser
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from tests.support.daemon import Events

UNITS = REPO_ROOT / "docs" / "systemd"
SCHEDULER = "hybridsync-scheduler.service"
SERVICE = "hybridsync.service"
BINARY = str(Path(sys.executable).parent / "hybridsync")


def unit(name: str = SCHEDULER) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text(encoding="utf-8"))
    return parser


def demo_argv(name: str, tmp_path: Path) -> list[str]:
    """The unit's command, on a demo folder's configuration."""
    command = shlex.split(unit(name)["Service"]["ExecStart"])
    assert command[0].endswith("/bin/hybridsync")
    demo = subprocess.run(
        [BINARY, "demo", "--data-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    config = str(tmp_path / "demo" / "hybridsync.toml")
    return [BINARY, *(config if a.endswith("hybridsync.toml") else a for a in command[1:])]


@pytest.mark.parametrize("name", [SCHEDULER, SERVICE])
def test_the_unit_stops_gracefully_and_does_not_restart_on_a_configuration_error(
    name: str,
) -> None:
    service = unit(name)["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["TimeoutStopSec"] == "15min"
    assert service["RestartPreventExitStatus"] == "3"
    assert service["User"] != "root"
    assert service["NoNewPrivileges"] == "yes"


def test_the_exec_start_command_runs_with_our_paths(tmp_path: Path) -> None:
    argv = demo_argv(SCHEDULER, tmp_path)
    done = subprocess.run(
        [*argv, "--max-cycles", "1"], capture_output=True, text=True, check=False,
        timeout=120, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"event": "scheduler.cycle_finished"' in done.stderr


def test_the_service_unit_runs_a_cycle_and_stops_on_sigterm(tmp_path: Path) -> None:
    # A port of the test's own: the default admin port may be taken on a shared machine.
    argv = [*demo_argv(SERVICE, tmp_path), "--admin", "127.0.0.1:0"]
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stderr is not None
    events = Events(process.stderr)
    try:
        events.until("scheduler.cycle_finished", timeout=120)
        process.send_signal(signal.SIGTERM)
        events.until("serve.stopped", timeout=60)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(60)
        process.stderr.close()
