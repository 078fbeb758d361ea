"""Reading an Entra Connect server configuration export (the bundled Contoso sample)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hybridsync.config.migrate.export import read_server_export
from hybridsync.errors import ConfigError

SAMPLE = Path(__file__).parents[2] / "data" / "entra-connect-export"


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(SAMPLE, target)
    return target


def test_reads_every_rule_and_both_connectors() -> None:
    export = read_server_export(SAMPLE)
    assert len(export.rules) == 62
    assert all(rule.is_microsoft for rule in export.rules)
    ad = next(c for c in export.connectors if c.is_active_directory)
    assert ad.forest == "contoso.com"
    assert ad.partitions[0].name == "DC=contoso,DC=com"
    assert ad.partitions[0].inclusions == ("OU=CORP,DC=contoso,DC=com",)
    assert ad.partitions[0].parameters["Domain.Netbios"] == "CONTOSO"
    assert "mail" in ad.attribute_inclusion
    assert any(c.is_entra for c in export.connectors)
    assert export.global_settings == ("MV.xml",)


def test_reads_a_rule_field_by_field() -> None:
    export = read_server_export(SAMPLE)
    rule = next(r for r in export.rules if r.name == "Out to AAD - Group Join")
    assert rule.id == "{039dcc3a-1513-4c08-b296-0973691e644a}"
    assert rule.immutable_tag == "Microsoft.OuttoAADGroupJoin.006"
    assert (rule.direction, rule.link_type, rule.precedence) == ("Outbound", "Provision", 139)
    assert rule.join[0][0].source == "sourceAnchor"
    assert rule.scope[0][0].operator == "NOTEQUAL"
    anchor = next(m for m in rule.mappings if m.target == "sourceAnchor")
    assert anchor.sources == ("cloudSourceAnchor", "sourceAnchor")
    assert anchor.expression is not None
    assert anchor.expression.startswith("IIF(")


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        read_server_export(tmp_path / "absent")


def test_a_missing_rules_folder_is_named(sample_copy: Path) -> None:
    shutil.rmtree(sample_copy / "SynchronizationRules")
    with pytest.raises(ConfigError, match="no SynchronizationRules/ folder"):
        read_server_export(sample_copy)


def test_malformed_xml_names_file_and_line(sample_copy: Path) -> None:
    victim = next((sample_copy / "SynchronizationRules").glob("*.xml"))
    victim.write_text("<synchronizationRule>\n  <id>x</id>\n  <name>broken\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_server_export(sample_copy)
    assert caught.value.source == str(victim)
    assert caught.value.line is not None
    assert caught.value.line >= 3
    assert "malformed XML" in str(caught.value)


def test_entity_expansion_is_refused(sample_copy: Path) -> None:
    victim = next((sample_copy / "GlobalSettings").glob("*.xml"))
    victim.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="document type declarations") as caught:
        read_server_export(sample_copy)
    assert caught.value.source == str(victim)


def test_a_rule_without_a_name_is_named(sample_copy: Path) -> None:
    victim = next((sample_copy / "SynchronizationRules").glob("*.xml"))
    victim.write_text("<synchronizationRule><id>x</id></synchronizationRule>", encoding="utf-8")
    with pytest.raises(ConfigError, match="no <name> element") as caught:
        read_server_export(sample_copy)
    assert caught.value.source == str(victim)
