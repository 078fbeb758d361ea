"""The configuration example in docs/ad.md is valid as written."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from hybridsync.connectors.ad import ADConfig
from hybridsync.wiring.registry import connector_config

DOC = Path(__file__).resolve().parents[4] / "docs" / "ad.md"


def test_the_documented_connector_entry_validates() -> None:
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    (entry,) = tomllib.loads(block.group(1))["connectors"]
    config = connector_config(entry)
    assert isinstance(config, ADConfig)
    assert config.password_env == "HYBRIDSYNC_AD_PASSWORD"
    assert config.exclude_ous == ("OU=Service Accounts,OU=Staff,DC=corp,DC=contoso,DC=com",)
    assert "employeeNumber" in config.all_attributes()
