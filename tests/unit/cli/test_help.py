"""Every command answers --help, and the product's commands are all there."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from hybridsync.cli import app, load_all_commands


def command_paths() -> list[list[str]]:
    load_all_commands()  # the root group imports a command's module on first use
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: Any, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(command, "commands"):  # a group (typer's own click, or click)
            for name, sub in command.commands.items():
                walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_every_command_has_help() -> None:
    paths = command_paths()
    names = {" ".join(p) for p in paths}
    assert {"demo", "init", "run", "plan", "apply", "preview", "status", "history",
            "scheduler", "expr eval", "cloud serve"} <= names  # fmt: skip
    for path in paths:
        result = CliRunner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
