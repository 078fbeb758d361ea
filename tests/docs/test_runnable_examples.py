"""The docs' examples are tests: every runnable shell block runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from tests.docs.runnable import commands, documents

BIN = Path(sys.executable).parent


def shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("HYBRIDSYNC_CONFIG", None)
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.name)
def test_every_runnable_command_of_the_document(document: Path, tmp_path: Path) -> None:
    steps = commands(document)
    assert steps, f"{document.name} has a runnable block without commands"
    for step in steps:
        done = shell(step.line, tmp_path)
        assert done.returncode == step.exit_status, (
            f"{document.name}: `{step.line}` exited {done.returncode}, "
            f"expected {step.exit_status}\n{done.stdout}\n{done.stderr}"
        )


def test_readme_and_operations_have_runnable_examples() -> None:
    names = {p.name for p in documents()}
    assert {"README.md", "operations.md"} <= names


def test_the_readme_first_command_runs_the_demo(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    assert first is not None
    assert first.group(1) == "python3 -m pip install uv && uv run hybridsync demo"
    # `uv run` runs the project's console script; in the suite, the environment is set up.
    done = shell("hybridsync demo", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Guests (7)" in done.stdout
    assert (tmp_path / ".hybridsync" / "demo" / "hybridsync.toml").exists()
