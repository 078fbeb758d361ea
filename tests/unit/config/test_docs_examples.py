"""The TOML examples in the docs are loaded as they are written."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hybridsync.config import Config, RuleSource, load_rules

DOCS = Path(__file__).resolve().parents[3] / "docs"


def blocks(name: str) -> list[str]:
    text = (DOCS / name).read_text(encoding="utf-8")
    return re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)


def test_rule_examples_load() -> None:
    examples = [b for b in blocks("rules.md") if "[[rule]]" in b]
    assert examples
    for example in examples:
        assert load_rules([RuleSource("docs/rules.md", example)]).rules


@pytest.mark.parametrize("name", ["rules.md", "configuration.md", "operations.md"])
def test_configuration_examples_validate(name: str, tmp_path: Path) -> None:
    for example in blocks(name):
        data = tomllib.loads(example)
        if "connectors" in data:
            config = Config.model_validate({**data, "base_dir": str(tmp_path)})
            assert config.connectors
        elif "user_type" in data or "filter" in data:
            Config.model_validate(
                {**data, "connectors": [{}], "builtin_rules": {"source": "ad", "target": "cloud"}}
            )
