"""docs/security.md: every test its threat model names exists, and its example runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT

from hybridsync.cloud import CloudSettings, Quota

DOC = REPO_ROOT / "docs" / "security.md"
_TEST_CELL = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _threat_rows() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    return [line for line in table.splitlines() if line.startswith("| ") and "`tests/" in line]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_the_threat_model_names_a_test_on_every_row() -> None:
    rows = _threat_rows()
    assert len(rows) >= 20
    assert all(len(_TEST_CELL.findall(row)) == 1 for row in rows)


@pytest.mark.parametrize(("path", "name"), [_TEST_CELL.findall(row)[0] for row in _threat_rows()])
def test_each_test_the_threat_model_names_exists(path: str, name: str) -> None:
    assert name in _test_names(REPO_ROOT / path), f"{path}::{name} is not a test"


def test_the_rate_limit_example_runs() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile(example, str(DOC), "exec"), namespace)
    settings = namespace["settings"]
    assert isinstance(settings, CloudSettings)
    assert settings.rate_limits.token_per_client == Quota(requests=20, seconds=60)
    assert settings.rate_limits.reads_per_tenant is None
