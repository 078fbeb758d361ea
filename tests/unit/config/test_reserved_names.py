"""A connector may not take a name the store uses for itself (the metaverse's space)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import load_config
from hybridsync.errors import ConfigError
from hybridsync.wiring import build_from_file

CONFIG = """
store = "state.db"
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "recording"
name = "{name}"
"""


@pytest.mark.parametrize("name", ["mv", "MV", "Mv"])
def test_a_connector_named_like_the_metaverse_is_refused_naming_file_and_key(
    tmp_path: Path, name: str
) -> None:
    config = tmp_path / "hybridsync.toml"
    config.write_text(CONFIG.format(name=name), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        build_from_file(config).close()
    assert raised.value.source == str(config)
    assert f"connectors[1].name = {name!r} is reserved" in str(raised.value)
    assert not (tmp_path / "state.db").exists()  # refused before the store is opened


def test_names_that_only_contain_mv_are_fine(tmp_path: Path) -> None:
    config = tmp_path / "hybridsync.toml"
    config.write_text(CONFIG.format(name="mv-cloud"), encoding="utf-8")
    assert [entry["name"] for entry in load_config(config).connectors] == ["ad", "mv-cloud"]
