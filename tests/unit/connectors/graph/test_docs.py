"""The examples in docs/graph-connector.md run or validate as written."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO_ROOT

from hybridsync.connectors.graph import GraphConfig
from hybridsync.wiring.registry import connector_config

DOC = REPO_ROOT / "docs" / "graph-connector.md"


def test_every_python_example_in_the_guide_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})


def test_the_documented_connector_entry_validates() -> None:
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    (entry,) = tomllib.loads(block.group(1))["connectors"]
    config = connector_config(entry)
    assert isinstance(config, GraphConfig)
    assert config.name == "cloud"
    assert config.client_secret_env == "HYBRIDSYNC_GRAPH_SECRET"
