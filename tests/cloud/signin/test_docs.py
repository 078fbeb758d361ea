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
    from typer.testing import CliRunner

    from hybridsync.cli import app

    (commands,) = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    for verb in ("register", "run"):
        assert f"hybridsync agent {verb}" in commands
        result = CliRunner().invoke(app, ["agent", verb, "--help"])
        assert result.exit_code == 0
        for option in re.findall(rf"hybridsync agent {verb}(.*?)(?:\n\S|\Z)", commands, re.DOTALL)[
            0
        ].split():
            if option.startswith("--"):
                assert option in result.output, option
