"""The examples in docs/cloud.md run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridsync.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cloud.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")  # restored after the example changes it
    (example,) = blocks("python")
    exec(compile(example, str(DOC), "exec"), {"__name__": "docs_example"})


def test_command_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    commands = blocks("sh runnable")[0]  # "Run it"; tests/docs runs every block in order
    ran = 0
    for line in commands.strip().splitlines():
        words = shlex.split(line)
        assert words[0] == "hybridsync"
        if words[1:3] == ["cloud", "serve"]:
            continue  # a foreground server: covered by test_cli.py
        result = CliRunner().invoke(app, words[1:])
        assert result.exit_code == 0, f"{line}\n{result.output}"
        ran += 1
    assert ran == 3
