"""The example in docs/signin.md runs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "signin.md"


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_python_example_runs() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    with warnings.catch_warnings():
        exec(compile(example, str(DOC), "exec"), {"__name__": "docs_example"})


def test_the_documented_commands_exist() -> None:
    # Read the commands' options without running the CLI (running it configures logging).
    import typer.main

    from hybridsync.cli import app, load_all_commands

    load_all_commands()
    agent = typer.main.get_command(app).commands["agent"]  # type: ignore[attr-defined]
    (commands,) = re.findall(
        r"```sh runnable fixture=signin-agent\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL
    )
    for verb in ("register", "run"):
        documented = re.findall(rf"hybridsync agent {verb}(.*?)(?:\n\S|\Z)", commands, re.DOTALL)
        options = {o for p in agent.commands[verb].params for o in p.opts}
        used = {word for word in documented[0].split() if word.startswith("--")}
        assert used, verb
        assert used <= options, used - options
