"""The connector registry builds a Graph connector from a configuration file."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from hybridsync.connectors.graph import GraphConnector
from hybridsync.errors import ConfigError
from hybridsync.wiring import CONNECTOR_TYPES, build_from_file

CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "graph"
name = "cloud"
base_url = "https://cloud.test/v1.0"
authority = "https://cloud.test/tenant-1"
client_id = "app-1"
client_secret_file = "graph.secret"
ca_file = "ca.pem"
target = "hybridsync"
"""


def certifi_bundle() -> str:
    return Path(certifi.where()).read_text(encoding="utf-8")


def test_graph_is_a_registered_connector_type() -> None:
    assert "graph" in CONNECTOR_TYPES


def test_a_graph_connector_is_built_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "hybridsync.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "ad.ldif").write_text("version: 1\n", encoding="utf-8")
    (tmp_path / "graph.secret").write_text("s3cret\n", encoding="utf-8")
    (tmp_path / "ca.pem").write_text(certifi_bundle(), encoding="utf-8")
    built = build_from_file(tmp_path / "hybridsync.toml")
    try:
        connector = built.connectors["cloud"]
        assert isinstance(connector, GraphConnector)
        assert connector.config.ca_file == tmp_path / "ca.pem"
        secret = connector.config.secret()
        assert secret is not None
        assert secret.get_secret_value() == "s3cret"
        assert connector.capabilities.delta_import
    finally:
        built.close()


def test_a_bad_graph_entry_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "hybridsync.toml").write_text(
        CONFIG.replace('base_url = "https://cloud.test/v1.0"', 'base_url = "http://cloud.test"'),
        encoding="utf-8",
    )
    (tmp_path / "ad.ldif").write_text("version: 1\n", encoding="utf-8")
    expected = r"hybridsync.toml:10:1: connectors\[1\]: base_url must be an https URL"
    with pytest.raises(ConfigError, match=expected):
        build_from_file(tmp_path / "hybridsync.toml")


def test_a_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "hybridsync.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "ad.ldif").write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ca\.pem"):
        build_from_file(tmp_path / "hybridsync.toml")
