"""The AD connector imports what the rules read, without listing it in ``attributes``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import load_config
from hybridsync.wiring import build

RULE = """
[[rule]]
name = "In from AD - cost centre"
direction = "inbound"
connector = "ad"
source_object_type = "user"
target_object_type = "person"
link_type = "Join"
precedence = 90
[[rule.scope]]
clauses = [{ attribute = "extensionAttribute9", operator = "ISNOTNULL" }]
[[rule.flow]]
target = "costCenter"
type = "Expression"
expression = 'Trim([extensionAttribute7]) & "-" & [dn]'
"""


def test_attributes_the_rules_read_are_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYBRIDSYNC_AD_PASSWORD", "unused: nothing connects in this test")
    (tmp_path / "rules.toml").write_text(RULE, "utf-8")
    config = tmp_path / "hybridsync.toml"
    config.write_text(
        """
store = "state.db"
rules = ["rules.toml"]

[builtin_rules]
source = "ad"
target = "cloud"

[[connectors]]
type = "ad"
name = "ad"
url = "ldaps://dc1.corp.contoso.com"
bind_user = "svc@corp.contoso.com"
password_env = "HYBRIDSYNC_AD_PASSWORD"
attributes = ["EXTENSIONATTRIBUTE9"]

[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
""",
        encoding="utf-8",
    )
    built = build(load_config(config))
    try:
        listed = [a.lower() for a in built.connectors["ad"].attribute_list]  # type: ignore[attr-defined]
    finally:
        built.close()
    assert "extensionattribute7" in listed
    assert listed.count("extensionattribute9") == 1  # already listed: not twice
    assert "dn" not in listed  # the engine supplies [dn]
