"""The root group lists every command but imports a command's module only when it runs."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

import hybridsync.cli
from hybridsync.cli import COMMAND_MODULES, COMMAND_SUMMARIES, app


def test_the_map_names_exactly_the_commands_the_modules_register() -> None:
    # Every module of the package, listed in the map or not (a new command module must
    # be added to the map, or ``hybridsync`` would never show it).
    for module in pkgutil.iter_modules(hybridsync.cli.__path__):
        importlib.import_module(f"hybridsync.cli.{module.name}")
    group = typer.main.get_group(app)
    assert set(group.commands) == set(COMMAND_MODULES)
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__
        assert info.callback.__module__ == f"hybridsync.cli.{COMMAND_MODULES[name]}", name
    for group_info in app.registered_groups:
        assert group_info.name is not None
        callbacks = [c.callback for c in group_info.typer_instance.registered_commands]
        modules = {c.__module__ for c in callbacks if c is not None}
        # A group's module may register commands kept in modules of their own (cloud_*).
        home = f"hybridsync.cli.{COMMAND_MODULES[group_info.name]}"
        assert home in modules
        assert all(m == home or m.startswith(f"{home}_") for m in modules), modules


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
    commands = done.stdout.split("\nCommands:\n")[1]
    listed = {line.split()[0] for line in commands.splitlines() if line[2:3].isalpha()}
    assert set(COMMAND_MODULES) <= listed


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["rnu"])
    assert result.exit_code == 2
    assert "Did you mean 'run'?" in result.output


HEAVY = {"sqlalchemy", "httpx", "ldap", "fastapi", "lark"}
"""Libraries that take a noticeable part of a second to import."""


def test_importing_the_cli_root_imports_no_heavy_library() -> None:
    script = "import sys, hybridsync.cli; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert not HEAVY & set(done.stdout.split())


def test_the_root_help_imports_no_command_module() -> None:
    modules = _modules_after("--help")
    commands = {f"hybridsync.cli.{module}" for module in COMMAND_MODULES.values()}
    assert not commands & modules
    assert not HEAVY & modules


HELP_NEVER_LOADS = HEAVY | {"structlog", "msal", "uvicorn", "pydantic", "rich.console"}
"""What no help screen may import: a help screen logs nothing (no structlog), opens no
connection or server, checks no value (typer does with pydantic) and draws no bars."""

_HELP_OF_EVERY_SUBCOMMAND = """
import json, sys
import typer.main
from typer.testing import CliRunner
from hybridsync.cli import app

never = set(json.loads(sys.argv[1]))


def paths(command, path):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from paths(sub, [*path, name])


first = sys.argv[2]
CliRunner().invoke(app, [first, "--help"])
found = {}
for path in paths(typer.main.get_group(app).commands[first], [first]):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    found[" ".join(path)] = sorted(never & set(sys.modules))
print(json.dumps(found))
"""
"""Runs ``COMMAND [SUB ...] --help`` for a command and every subcommand under it, in
one fresh interpreter, and prints what each screen left loaded of the libraries named.
Modules only accumulate, so the first screen to load a library is the one to blame."""


@pytest.mark.parametrize("command", sorted(COMMAND_MODULES))
def test_no_help_screen_of_a_command_or_its_subcommands_loads_a_heavy_library(
    command: str,
) -> None:
    never = json.dumps(sorted(HELP_NEVER_LOADS))
    done = subprocess.run(
        [sys.executable, "-c", _HELP_OF_EVERY_SUBCOMMAND, never, command],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert command in loaded  # the walk ran, the group's own help first
    assert {path: found for path, found in loaded.items() if found} == {}


def test_each_summary_in_the_root_help_is_the_command_s_own() -> None:
    hybridsync.cli.load_all_commands()
    group = typer.main.get_group(app)
    for name, command in group.commands.items():
        assert COMMAND_SUMMARIES[name] == command.get_short_help_str(limit=200), name
