"""The systemd unit example: its command runs, and it stops the way the docs say."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

UNIT = REPO_ROOT / "docs" / "systemd" / "hybridsync-scheduler.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_stops_gracefully_and_does_not_restart_on_a_configuration_error() -> None:
    service = unit()["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["TimeoutStopSec"] == "15min"
    assert service["RestartPreventExitStatus"] == "3"
    assert service["User"] != "root"
    assert service["NoNewPrivileges"] == "yes"


def test_the_exec_start_command_runs_with_our_paths(tmp_path: Path) -> None:
    command = shlex.split(unit()["Service"]["ExecStart"])
    assert command[0].endswith("/bin/hybridsync")
    binary = str(Path(sys.executable).parent / "hybridsync")
    demo = subprocess.run(
        [binary, "demo", "--data-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    config = str(tmp_path / "demo" / "hybridsync.toml")
    argv = [binary, *(config if a.endswith("hybridsync.toml") else a for a in command[1:])]
    done = subprocess.run(
        [*argv, "--max-cycles", "1"], capture_output=True, text=True, check=False,
        timeout=120, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"event": "scheduler.cycle_finished"' in done.stderr
