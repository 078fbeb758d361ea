from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from hybridsync import __version__
from hybridsync.cli import app


def test_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"hybridsync {__version__}"


def test_console_script_runs_as_a_module_entry_point() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "from hybridsync.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "expr" in completed.stdout
