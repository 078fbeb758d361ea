"""The docs' examples are tests: every shell block that shows a ``hybridsync`` command
runs, here or in the test that owns its fixture (see ``runnable.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from tests.docs.runnable import (
    FIXTURES,
    Block,
    Command,
    DocShell,
    blocks,
    documents,
    runnable_blocks,
)

ALL_BLOCKS = [block for document in documents() for block in blocks(document)]


@pytest.mark.parametrize(
    "document", [d for d in documents() if runnable_blocks(d)], ids=lambda p: p.name
)
def test_every_runnable_command_of_the_document(document: Path, tmp_path: Path) -> None:
    shell = DocShell(tmp_path)
    try:
        for block in runnable_blocks(document):
            steps = block.commands()
            assert steps, f"{block.where()}: a runnable block without commands"
            for step in steps:
                try:
                    shell.run(step)
                except AssertionError as exc:
                    raise AssertionError(f"{block.where()}: {exc}") from None
    finally:
        shell.close()


@pytest.mark.parametrize(
    "block", [b for b in ALL_BLOCKS if b.shows_a_command], ids=lambda b: b.where()
)
def test_every_shell_block_showing_a_command_runs(block: Block) -> None:
    assert block.runnable, (
        f"{block.where()} shows a hybridsync command but does not run: make it "
        "```sh runnable (or fixture=NAME), or use another language (text) for a synopsis"
    )
    if block.fixture is not None:
        assert block.fixture in FIXTURES, f"{block.where()}: unknown fixture {block.fixture}"
        owner = (REPO_ROOT / FIXTURES[block.fixture]).read_text(encoding="utf-8")
        assert f'"{block.fixture}"' in owner, f"{FIXTURES[block.fixture]} does not run it"


def test_the_readme_and_operations_run_and_every_fixture_has_blocks() -> None:
    names = {d.name for d in documents() if runnable_blocks(d)}
    assert {"README.md", "operations.md", "expressions.md", "cloud.md"} <= names
    fixtures = {b.fixture for b in ALL_BLOCKS if b.runnable and b.fixture}
    assert fixtures == set(FIXTURES)


def test_a_broken_documented_command_fails(tmp_path: Path) -> None:
    shell = DocShell(tmp_path)
    with pytest.raises(AssertionError, match="exited 2, expected 0"):
        shell.run(Command("hybridsync run --no-such-option"))
    with pytest.raises(AssertionError, match="printed"):
        shell.run(Command("hybridsync --version", output="hybridsync 0.0.0-not-this\n"))


def test_the_readme_first_command_runs_the_demo(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh runnable\n(.*?)\n```", readme, re.DOTALL)
    assert first is not None
    assert first.group(1) == "python3 -m pip install uv && uv run hybridsync demo"
    # `uv run` runs the project's console script; in the suite, the environment is set up.
    shell = DocShell(tmp_path)
    assert shell.prepare(first.group(1)) == "hybridsync demo"
    shell.run(Command(first.group(1), output=None))
    assert (tmp_path / ".hybridsync" / "demo" / "hybridsync.toml").exists()
