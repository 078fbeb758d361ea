from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import load_config
from hybridsync.errors import ConfigError
from hybridsync.wiring import CONNECTOR_TYPES, build_from_file

CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "attribute"
[safety]
deletion_threshold = 10
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "recording"
name = "cloud"
"""


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "hybridsync.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "ad.ldif").write_text("version: 1\n", encoding="utf-8")
    built = build_from_file(tmp_path / "hybridsync.toml")
    try:
        assert (tmp_path / "state.db").exists()
        assert built.engine.context.settings.deletion_threshold == 10
        assert built.engine.context.rules.by_name("In from AD - User UserType") is not None
    finally:
        built.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            CONFIG.replace('type = "recording"', 'type = "carrier-pigeon"'),
            "unknown type 'carrier-pigeon'",
        ),
        (CONFIG.replace('source = "attribute"', 'source = "zodiac"'), "field user_type.source"),
        (CONFIG.replace('source = "attribute"', 'source = "upn-suffix"'), "needs suffixes"),
        (
            CONFIG.replace("deletion_threshold = 10", "deletion_threshold = -1"),
            "safety.deletion_threshold",
        ),
        (
            CONFIG.replace('path = "ad.ldif"', 'path = "ad.ldif"\nport = 1'),
            "connector 'ad': field port",
        ),
    ],
)
def test_configuration_errors_are_clear(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "hybridsync.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        build_from_file(tmp_path / "hybridsync.toml").close()


def test_the_registry_maps_type_names_to_model_and_factory() -> None:
    assert {"ldif", "recording"} <= set(CONNECTOR_TYPES)
    model = CONNECTOR_TYPES["ldif"].model()
    assert model.model_validate({"name": "ad", "path": "x.ldif"}).model_dump()["type"] == "ldif"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
