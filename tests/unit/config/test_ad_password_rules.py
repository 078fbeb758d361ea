"""A rule flowing a password to AD is refused when the rules load, before any plan shows
its value; the AD export's own check (tests/integration/ad/test_export.py) stays behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import load_config
from hybridsync.errors import ConfigError

CONFIG = """
rules = ["out.toml"]

[[connectors]]
name = "corp"
type = "ad"

[[connectors]]
name = "hr"
type = "csv"
"""

RULE = """
[[rule]]
name = "Out to {connector} - Password"
direction = "outbound"
connector = "{connector}"
source_object_type = "person"
target_object_type = "user"
link_type = "Join"
precedence = 20

[[rule.flow]]
target = "{target}"
type = "Constant"
value = "Secret-Pa55word!"
"""


def _config(tmp_path: Path, connector: str, target: str) -> Path:
    (tmp_path / "out.toml").write_text(RULE.format(connector=connector, target=target))
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize("target", ["unicodePwd", "UNICODEPWD", "userPassword", "password"])
def test_a_password_flow_to_ad_is_a_config_error_naming_the_rule_and_its_file(
    tmp_path: Path, target: str
) -> None:
    config = load_config(_config(tmp_path, "corp", target))
    with pytest.raises(ConfigError) as raised:
        config.rule_set()
    assert raised.value.source == str(tmp_path / "out.toml")
    assert raised.value.line == 3
    assert "'Out to corp - Password'" in raised.value.message
    assert target in raised.value.message
    assert "Secret" not in str(raised.value)


def test_the_same_flow_to_another_connector_type_loads(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "hr", "password"))
    (rule,) = config.rule_set().rules
    assert rule.connector == "hr"
