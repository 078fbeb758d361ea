"""The root group lists every command but imports a command's module only when it runs."""

from __future__ import annotations

import os
import subprocess
import sys

import typer.main
from typer.testing import CliRunner

from hybridsync.cli import COMMAND_MODULES, app, load_all_commands


def test_the_map_names_exactly_the_commands_the_modules_register() -> None:
    load_all_commands()
    registered = set(typer.main.get_group(app).commands)
    assert registered == set(COMMAND_MODULES)


def _modules_after(*args: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``hybridsync ARGS``."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from hybridsync.cli import app\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_run_does_not_load_the_cloud_directory_application() -> None:
    modules = _modules_after("run", "--help")
    assert "hybridsync.cli.run" in modules
    assert not {"fastapi", "hybridsync.cloud", "hybridsync.cli.cloud"} & modules


def test_cloud_serve_does_not_load_the_sync_engine() -> None:
    modules = _modules_after("cloud", "serve", "--help")
    assert "hybridsync.cli.cloud" in modules
    assert not {"hybridsync.engine", "hybridsync.cli.run"} & modules


def test_the_root_help_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from hybridsync.cli import main; main()", "--help"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ")}
    assert set(COMMAND_MODULES) <= listed


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["rnu"])
    assert result.exit_code == 2
    assert "Did you mean 'run'?" in result.output
