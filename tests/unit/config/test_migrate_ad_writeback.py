"""Connect's rules that write to AD (Exchange hybrid write-back and its joins) migrate
inert: hybridsync's AD connector writes nothing but mS-DS-ConsistencyGuid, so an enabled
rule to it would make the first export of the switch-over fail."""

from __future__ import annotations

from pathlib import Path

from hybridsync.config.migrate.migration import migrate_export
from hybridsync.config.migrate.report import Outcome
from hybridsync.config.settings import load_config

SAMPLE = Path(__file__).parents[2] / "data" / "entra-connect-export"
TO_AD = {
    "Out to AD - User Join SOAInAD",
    "Out to AD - User Exchange Hybrid",
    "Out to AD - Group Join",
    "Out to AD - Group Exchange Hybrid",
}


def test_rules_that_write_to_ad_are_disabled_with_the_reason() -> None:
    outcomes = {r.name: r for r in migrate_export(SAMPLE).report.rules}
    for name in TO_AD:
        assert outcomes[name].outcome is Outcome.CHANGED
        assert outcomes[name].reasons == (
            "disabled: hybridsync writes to AD only mS-DS-ConsistencyGuid (the AD "
            "connector's write_back_consistency_guid); the rule loads and stays inert",
        )


def test_the_migrated_configuration_exports_to_the_cloud_only(tmp_path: Path) -> None:
    migration = migrate_export(SAMPLE)
    for relative, text in migration.files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, "utf-8")
    rules = load_config(tmp_path / "hybridsync.toml").rule_set()
    assert rules.outbound_connectors() == ("cloud",)
    disabled = {rule.name for rule in rules.rules if rule.connector == "ad" and rule.disabled}
    assert disabled >= TO_AD
