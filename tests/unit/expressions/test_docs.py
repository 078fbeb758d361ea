"""docs/expressions.md runs: its examples, its CLI sessions and its Python block, and
every decision it lists is pinned by a test that exists."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from typer.testing import CliRunner

from hybridsync.cli import app
from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import MultiValue, compile_expression

DOC = (REPO_ROOT / "docs" / "expressions.md").read_text(encoding="utf-8")
DECISIONS_TESTS = Path(__file__).with_name("test_decisions.py")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC, flags=re.MULTILINE | re.DOTALL)


def _sessions() -> list[tuple[str, str]]:
    sessions = []
    for block in _blocks("console runnable"):
        for command in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            line, _, output = command.partition("\n")
            sessions.append((line, output))
    return sessions


@pytest.mark.parametrize("block", _blocks("expression-example"))
def test_expression_examples(block: str) -> None:
    fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
    compiled = compile_expression(fields["expression"])
    attributes = json.loads(fields.get("attributes", "{}"))
    if "error" in fields:
        with pytest.raises(ExpressionEvalError) as raised:
            compiled.evaluate(attributes)
        assert raised.value.message == fields["error"]
        return
    result = compiled.evaluate(attributes)
    plain = list(result) if isinstance(result, MultiValue) else result
    assert plain == json.loads(fields["result"])


@pytest.mark.parametrize(("command", "output"), _sessions())
def test_cli_sessions(command: str, output: str) -> None:
    arguments = shlex.split(command, comments=True)  # a trailing "# exit: N" is a note
    assert arguments[0] == "hybridsync"
    result = CliRunner().invoke(app, arguments[1:])
    assert result.stdout == output


def test_the_python_block_runs() -> None:
    (block,) = _blocks("python")
    exec(compile(block, "docs/expressions.md", "exec"), {})


def test_every_decision_cites_existing_tests_and_every_test_is_cited() -> None:
    decisions = DOC.split("## Decisions")[1].split("\n## ")[0]
    cited = set(re.findall(r"`(test_\w+)`", decisions))
    tree = ast.parse(DECISIONS_TESTS.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert cited == {name for name in defined if name.startswith("test_")}
    assert len(re.findall(r"^\d+\. \*\*", decisions, flags=re.MULTILINE)) >= 40
