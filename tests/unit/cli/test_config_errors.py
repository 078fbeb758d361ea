"""A configuration that cannot be used: every problem, on stderr and as JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.workspace import write_workspace
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = write_workspace(tmp_path)
    text = path.read_text("utf-8")
    text = text.replace("suffixes =", "suffixs =").replace('path = "ad.ldif"', 'pth = "ad.ldif"')
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize("command", [["status"], ["history"], ["run", "delta"], ["plan"]])
def test_json_with_a_bad_configuration_prints_the_problems_on_stdout(
    broken: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(app, [*command, "-c", str(broken), "--json"])
    assert result.exit_code == exit_codes.CONFIG_ERROR
    document = json.loads(result.stdout)
    assert document["error"] == "configuration"
    keys = [problem["key"] for problem in document["problems"]]
    assert keys == ["user_type.suffixs", "connectors[0].path", "connectors[0].pth"]
    assert all(problem["file"] == str(broken) for problem in document["problems"])
    assert all(isinstance(problem["line"], int) for problem in document["problems"])
    assert "did you mean `path`?" in document["problems"][2]["message"]


def test_text_output_names_file_line_and_the_mistyped_key(broken: Path) -> None:
    result = CliRunner().invoke(app, ["status", "-c", str(broken)])
    assert result.exit_code == exit_codes.CONFIG_ERROR
    assert result.stdout == ""
    assert f"{broken}:" in result.stderr
    assert "connectors[0].pth: unknown key `pth`: did you mean `path`?" in result.stderr
    assert "user_type.suffixs: unknown key `suffixs`: did you mean `suffixes`?" in result.stderr
