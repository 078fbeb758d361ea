"""The AD connector imports what the rules read, without listing it in ``attributes``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import load_config
from hybridsync.core.ports import attribute_hash
from hybridsync.wiring import CONNECTOR_TYPES, build, load_config_file
from hybridsync.wiring.models import attribute_hashes

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


CONFIG = """
store = "state.db"
rules = ["rules.toml"]

[builtin_rules]
source = "ad"
target = "cloud"

[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]

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

[[connectors]]
type = "ldif"
name = "hr"
path = "hr.ldif"
attributes = ["employeeID"]
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HYBRIDSYNC_AD_PASSWORD", "unused: nothing connects in this test")
    (tmp_path / "rules.toml").write_text(RULE, "utf-8")
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_attributes_the_rules_read_are_imported(config: Path) -> None:
    built = build(load_config(config))
    try:
        listed = [a.lower() for a in built.connectors["ad"].attribute_list]  # type: ignore[attr-defined]
    finally:
        built.close()
    assert "extensionattribute7" in listed
    assert listed.count("extensionattribute9") == 1  # already listed: not twice
    assert "dn" not in listed  # the engine supplies [dn]


def test_status_expects_the_hashes_a_built_engine_records(config: Path) -> None:
    # status compares the store with these, computed without building the engine.
    loaded = load_config_file(config)
    built = build(loaded)
    try:
        recorded = {name: attribute_hash(c) for name, c in built.connectors.items()}
        rules_hash = built.engine.context.rules.content_hash
        for entry in loaded.connectors:
            connector = built.connectors[entry["name"]]
            declared = CONNECTOR_TYPES[entry["type"]].lists_attributes
            assert declared == hasattr(connector, "attribute_list"), entry["type"]
    finally:
        built.close()
    assert attribute_hashes(loaded) == recorded
    assert recorded["ad"] != attribute_hash(None)  # a list, which the rules complete
    assert loaded.rules_hash() == rules_hash
