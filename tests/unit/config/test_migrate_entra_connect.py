"""``hybridsync migrate entra-connect`` on the bundled Contoso export of Entra Connect."""

from __future__ import annotations

import html
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.config.migrate.convert import ConnectorNames, connector_names, convert_rule
from hybridsync.config.migrate.export import read_server_export
from hybridsync.config.migrate.migration import migrate_export
from hybridsync.config.migrate.report import Outcome
from hybridsync.config.rules import RuleSource, inert_rules, load_rules
from hybridsync.config.settings import load_config
from hybridsync.core.rules import FlowType, LinkType, SyncRule
from hybridsync.expressions import compile_expression

SAMPLE = Path(__file__).parents[2] / "data" / "entra-connect-export"
RUNNER = CliRunner()


def _sample_rule_names() -> set[str]:
    names = set()
    for path in (SAMPLE / "SynchronizationRules").glob("*.xml"):
        found = re.search(r"<name>([^<]+)</name>", path.read_text(encoding="utf-8"))
        assert found is not None
        names.add(found.group(1))
    return names


def _migrate(out: Path, *args: str) -> tuple[int, str]:
    result = RUNNER.invoke(app, ["migrate", "entra-connect", str(SAMPLE), "--out", str(out), *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("migration") / "out"
    code, output = _migrate(out)
    assert code == exit_codes.SUCCESS, output
    return out


def test_every_rule_is_carried_over_or_reported_with_a_reason() -> None:
    report = migrate_export(SAMPLE).report
    reported = {rule.name for rule in report.rules}
    assert reported == _sample_rule_names()
    assert len(report.rules) == 62
    for rule in report.rules:
        if rule.outcome is Outcome.UNCHANGED:
            assert not rule.reasons
            assert rule.file is not None
        else:
            assert rule.reasons, f"{rule.name} is {rule.outcome.value} without a reason"
    assert report.group(Outcome.NOT_CARRIED_OVER) == []


def test_every_expression_of_the_sample_compiles_as_connect_wrote_it() -> None:
    expressions = [
        html.unescape(text)
        for path in sorted((SAMPLE / "SynchronizationRules").glob("*.xml"))
        for text in re.findall(r"<expression>(.*?)</expression>", path.read_text("utf-8"), re.S)
    ]
    assert len(expressions) > 300
    for text in expressions:
        compile_expression(text)  # raises, with line and column, if one does not


def test_the_ngc_key_rule_is_carried_over_with_its_two_argument_cbin(migrated: Path) -> None:
    rules = tomllib.loads((migrated / "rules" / "inbound-user.toml").read_text("utf-8"))["rule"]
    ngc = next(r for r in rules if r["name"] == "In from AAD - User NGCKey")
    (flow,) = [f for f in ngc["flow"] if f["target"] == "deviceKey"]
    assert "CBin(2,1)" in flow["expression"]
    compiled = compile_expression(flow["expression"])
    assert compiled.evaluate({"searchableDeviceKey": None}) is None


def test_written_rules_load_with_the_rule_loader_and_keep_their_origin(migrated: Path) -> None:
    report = json.loads((migrated / "migration-report.json").read_text(encoding="utf-8"))
    carried = {r["name"]: r for r in report["unchanged"] + report["changed"]}
    files = sorted((migrated / "rules").glob("*.toml"))
    rule_set = load_rules([RuleSource.from_path(f) for f in files])
    assert {rule.name for rule in rule_set.rules} == set(carried)
    for path in files:
        text = path.read_text(encoding="utf-8")
        for rule in tomllib.loads(text)["rule"]:
            entry = carried[rule["name"]]
            assert entry["file"] == f"rules/{path.name}"
            assert f"# Connect rule id: {entry['connect_id']}\n" in text
            assert f"# immutable tag: {entry['immutable_tag']}\n" in text


def test_one_file_per_direction_and_object_type(migrated: Path) -> None:
    for path in (migrated / "rules").glob("*.toml"):
        rules = tomllib.loads(path.read_text(encoding="utf-8"))["rule"]
        direction, _, kind = path.stem.partition("-")
        assert {r["direction"] for r in rules} == {direction}
        key = "source_object_type" if direction == "inbound" else "target_object_type"
        assert {r[key].lower().replace("-", "") for r in rules} == {kind.replace("-", "")}


def test_a_rule_field_by_field(migrated: Path) -> None:
    rules = tomllib.loads((migrated / "rules" / "outbound-group.toml").read_text("utf-8"))["rule"]
    join = next(r for r in rules if r["name"] == "Out to AAD - Group Join")
    assert (join["connector"], join["link_type"], join["precedence"]) == ("cloud", "Provision", 139)
    assert join["join"][0]["clauses"] == [
        {"source": "sourceAnchor", "target": "sourceAnchor", "case_sensitive": False}
    ]
    anchor = next(f for f in join["flow"] if f["target"] == "sourceAnchor")
    assert anchor["sources"] == ["cloudSourceAnchor", "sourceAnchor"]
    assert anchor["type"] == "Expression"
    assert len(join["scope"]) == 4  # four scoping groups in the XML


def test_unsynced_object_types_load_disabled_with_a_reason() -> None:
    report = migrate_export(SAMPLE).report
    contact = next(r for r in report.rules if r.name == "Out to AAD - Contact Join")
    assert contact.outcome is Outcome.CHANGED
    assert "'contact'" in contact.reasons[0]
    assert "disabled" in contact.reasons[0]


def test_status_names_the_rules_that_load_but_stay_inert(migrated: Path, tmp_path: Path) -> None:
    copy = tmp_path / "migrated"
    shutil.copytree(migrated, copy)
    config = str(copy / "hybridsync.toml")
    result = RUNNER.invoke(app, ["status", "--config", config, "--json"])
    assert result.exit_code == exit_codes.SUCCESS, result.output
    inert = json.loads(result.stdout)["inert_rules"]
    assert inert == {
        "computer": 1,
        "contact": 15,
        "device": 1,
        "foreignSecurityPrincipal": 1,
        "inetOrgPerson": 8,
        "msDS-Device": 1,
    }
    text = RUNNER.invoke(app, ["status", "--config", config]).stdout
    assert "inert rules:        27, for object types no connector syncs yet (computer 1, " in text


def test_rules_for_every_connect_object_type_load_and_only_unsynced_ones_are_inert(
    tmp_path: Path,
) -> None:
    kinds = ["user", "inetOrgPerson", "group", "contact", "computer", "device",
             "foreignSecurityPrincipal", "msExchDynamicDistributionList"]  # fmt: skip
    text = "".join(
        f'[[rule]]\nname = "in {kind}"\ndirection = "inbound"\nconnector = "ad"\n'
        f'source_object_type = "{kind}"\ntarget_object_type = "person"\nprecedence = {n}\n'
        f'[[rule]]\nname = "out {kind}"\ndirection = "outbound"\nconnector = "cloud"\n'
        f'source_object_type = "person"\ntarget_object_type = "{kind}"\nprecedence = {n}\n'
        for n, kind in enumerate(kinds)
    )
    source = RuleSource("rules.toml", text)
    assert len(load_rules([source]).rules) == 16
    expected = {kind: 2 for kind in kinds if kind not in ("user", "group")}
    assert inert_rules([source]) == dict(sorted(expected.items()))


def test_constants_and_parameters(migrated: Path) -> None:
    rules = tomllib.loads((migrated / "rules" / "inbound-user.toml").read_text("utf-8"))["rule"]
    enabled = next(r for r in rules if r["name"] == "In from AD - User AccountEnabled")
    assert {"target": "accountEnabled", "merge": "Update", "type": "Constant", "value": True} in (
        enabled["flow"]
    )
    assert enabled["password_sync"] is True
    common = next(r for r in rules if r["name"] == "In from AD - User Common")
    fqdn = next(f for f in common["flow"] if f["target"] == "domainFQDN")
    assert fqdn["value"] == "contoso.com"


def _edited_sample(tmp_path: Path, rule_name: str, old: str, new: str) -> Path:
    """A copy of the sample with ``old`` replaced by ``new`` in the rule ``rule_name``."""
    export = tmp_path / "export"
    shutil.copytree(SAMPLE, export)
    (path,) = [
        p
        for p in (export / "SynchronizationRules").glob("*.xml")
        if f"<name>{rule_name}</name>" in p.read_text("utf-8")
    ]
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return export


def _migrated_rules(export: Path) -> dict[str, SyncRule]:
    files = migrate_export(export).files
    sources = [RuleSource(p, text) for p, text in files.items() if p.startswith("rules/")]
    return {rule.name: rule for rule in load_rules(sources).rules}


def test_every_connect_parameter_becomes_its_value_in_the_sample(tmp_path: Path) -> None:
    names = ["Connector.ID", "Domain.FQDN", "Domain.Netbios", "Domain.LDAP",
             "Forest.FQDN", "Forest.Netbios", "Forest.LDAP"]  # fmt: skip
    every = ' &amp; "|" &amp; '.join(f"%{name}%" for name in names)  # XML-escaped &
    export = _edited_sample(
        tmp_path,
        "In from AD - User AccountEnabled",
        "<expression>%Connector.ID%</expression>",
        f"<expression>{every}</expression>",
    )
    rule = _migrated_rules(export)["In from AD - User AccountEnabled"]
    (flow,) = [f for f in rule.flows if f.target == "contributingConnectorUser"]
    assert flow.expression is not None
    assert flow.expression.evaluate({}) == "|".join(
        ["{AE4DB4CC-B16B-4EB2-ACF5-837CA84E4D7D}", "contoso.com", "CONTOSO",
         "DC=contoso,DC=com", "contoso.com", "CONTOSO", "DC=contoso,DC=com"]
    )  # fmt: skip


def test_a_join_no_flow_rule_is_carried_over_and_flows_nothing(tmp_path: Path) -> None:
    export = _edited_sample(
        tmp_path,
        "In from AD - User Common",
        "<linkType>Join</linkType>",
        "<linkType>JoinNoFlow</linkType>",
    )
    outcome = next(
        r for r in migrate_export(export).report.rules if r.name == "In from AD - User Common"
    )
    assert outcome.outcome is not Outcome.NOT_CARRIED_OVER
    rule = _migrated_rules(export)["In from AD - User Common"]
    assert rule.link_type is LinkType.JOIN_NO_FLOW
    assert rule.flows  # kept, as Connect keeps them, but never applied
    assert not rule.flows_attributes


def test_constant_and_multi_source_flows_load_as_connect_wrote_them() -> None:
    rules = _migrated_rules(SAMPLE)
    enabled = rules["In from AD - User AccountEnabled"]
    (constant,) = [f for f in enabled.flows if f.target == "accountEnabled"]
    assert (constant.flow_type, constant.sources, constant.constant) == (
        FlowType.CONSTANT,
        (),
        True,
    )
    join = rules["Out to AAD - Group Join"]
    (anchor,) = [f for f in join.flows if f.target == "sourceAnchor"]
    assert anchor.flow_type is FlowType.EXPRESSION
    assert anchor.sources == ("cloudSourceAnchor", "sourceAnchor")


def test_the_configuration_loads_with_the_connectors_of_the_export(migrated: Path) -> None:
    config = load_config(migrated / "hybridsync.toml")
    assert config.staging_mode is True
    ad = next(c for c in config.connectors if c["type"] == "ad")
    assert ad["include_ous"] == ["OU=CORP,DC=contoso,DC=com"]
    assert ad["exclude_ous"] == []
    assert ad["base_dn"] == "DC=contoso,DC=com"
    assert "extensionAttribute15" in ad["attributes"]
    graph = next(c for c in config.connectors if c["type"] == "graph")
    assert graph["authority"].endswith("/contoso.onmicrosoft.com")
    assert len(config.rule_set().rules) == len(list(_carried(migrated)))


def _carried(out: Path) -> list[object]:
    report = json.loads((out / "migration-report.json").read_text(encoding="utf-8"))
    return [*report["unchanged"], *report["changed"]]


def test_secrets_are_placeholders_named_in_the_report(migrated: Path) -> None:
    text = (migrated / "hybridsync.toml").read_text(encoding="utf-8")
    assert "password_env = " in text
    assert "client_secret_env = " in text
    assert "secret =" not in text.replace("client_secret_env =", "")
    report = json.loads((migrated / "migration-report.json").read_text(encoding="utf-8"))
    placeholders = " ".join(report["placeholders"])
    assert "HYBRIDSYNC_AD_PASSWORD" in placeholders
    assert "HYBRIDSYNC_GRAPH_CLIENT_SECRET" in placeholders


def test_every_command_the_written_configuration_names_exists(migrated: Path) -> None:
    text = (migrated / "hybridsync.toml").read_text(encoding="utf-8")
    commands = re.findall(r"`hybridsync ([a-z -]+)`", text)
    assert commands
    for command in commands:
        result = RUNNER.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, f"hybridsync {command}: {result.output}"


def test_no_default_rule_of_the_sample_is_a_customization() -> None:
    assert migrate_export(SAMPLE).report.customizations == []


GROUP_JOIN = "SynchronizationRule_{039dcc3a-1513-4c08-b296-0973691e644a}.xml"


def test_edited_and_custom_rules_are_customizations(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(SAMPLE, export)
    edited = export / "SynchronizationRules" / GROUP_JOIN
    text = edited.read_text(encoding="utf-8")
    assert "Maximum Group member count exceeded" in text
    edited.write_text(text.replace("50000", "90000"), encoding="utf-8")
    custom = text.replace("<name>Out to AAD - Group Join</name>", "<name>Custom</name>")
    custom = custom.replace("Microsoft.OuttoAADGroupJoin.006", "")
    (export / "SynchronizationRules" / "SynchronizationRule_{custom}.xml").write_text(
        custom, encoding="utf-8"
    )
    report = migrate_export(export).report
    reasons = {c.name: c.reason for c in report.customizations}
    assert set(reasons) == {"Custom", "Out to AAD - Group Join"}
    assert "no Microsoft immutable tag" in reasons["Custom"]
    assert "differs from Microsoft's default" in reasons["Out to AAD - Group Join"]
    assert {r.name for r in report.group(Outcome.UNCHANGED)} >= {"Custom"}


def test_json_report_has_the_four_groups(tmp_path: Path) -> None:
    code, output = _migrate(tmp_path / "out", "--json")
    assert code == exit_codes.SUCCESS
    report = json.loads(output)
    assert {"unchanged", "changed", "not_carried_over", "customizations"} <= set(report)
    total = len(report["unchanged"]) + len(report["changed"]) + len(report["not_carried_over"])
    assert total == 62


def test_an_existing_out_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _migrate(out)[0] == exit_codes.SUCCESS
    code, output = _migrate(out)
    assert code == exit_codes.CONFIG_ERROR
    assert "--force" in output
    assert _migrate(out, "--force")[0] == exit_codes.SUCCESS


def test_force_never_deletes_a_folder_that_is_not_a_migration(tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work", encoding="utf-8")
    code, output = _migrate(precious, "--force")
    assert code == exit_codes.CONFIG_ERROR
    assert "not the output of an earlier migration" in output
    assert (precious / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_nothing_is_written_when_the_export_is_broken(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(SAMPLE, export)
    broken = sorted((export / "SynchronizationRules").glob("*.xml"))[-1]
    broken.write_text("<synchronizationRule>\n<name>x</name>\n<oops>\n", encoding="utf-8")
    out = tmp_path / "out"
    result = RUNNER.invoke(app, ["migrate", "entra-connect", str(export), "--out", str(out)])
    assert result.exit_code == exit_codes.CONFIG_ERROR
    assert f"{broken}:" in result.output
    assert "malformed XML" in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_a_parameter_value_cannot_break_out_of_its_string() -> None:
    export = read_server_export(SAMPLE)
    rule = next(r for r in export.rules if r.name == "In from AD - User Common")
    names = connector_names(export)
    hostile = dict(names.parameters[rule.connector.lower()])
    hostile["Domain.FQDN"] = 'x" & Error("injected") & "\\'
    table, changes = convert_rule(
        rule, ConnectorNames(names.by_id, {rule.connector.lower(): hostile})
    )
    flows = {f["target"]: f for f in table["flow"]}  # type: ignore[attr-defined]
    upn = flows["userPrincipalName"]
    compiled = compile_expression(upn["expression"])
    assert "injected" not in " ".join(sorted(compiled.referenced_attributes))
    assert '\\"' in upn["expression"]
    assert flows["domainFQDN"]["type"] == "Expression"  # a literal with escapes stays one
    assert any("Domain.FQDN" in change for change in changes)


def test_a_parameter_without_a_single_value_is_reported(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(SAMPLE, export)
    ad = next(
        p for p in (export / "Connectors").glob("*.xml") if "<category>AD<" in p.read_text("utf-8")
    )
    ad.write_text(ad.read_text("utf-8").replace('name="Domain.FQDN"', 'name="x"'), "utf-8")
    report = migrate_export(export).report
    common = next(r for r in report.rules if r.name == "In from AD - User Common")
    assert common.outcome is Outcome.NOT_CARRIED_OVER
    assert "%Domain.FQDN% has no single value" in common.reasons[0]
    assert "SynchronizationRule_" in common.reasons[0]  # the file the rule came from


def test_text_report_lists_the_four_groups_and_the_placeholders(tmp_path: Path) -> None:
    code, output = _migrate(tmp_path / "out")
    assert code == exit_codes.SUCCESS
    counts = {
        title: int(re.search(rf"^{title} \((\d+)\):$", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
        for title in ("Unchanged", "Changed", "Not carried over")
    }
    assert sum(counts.values()) == 62
    assert "Customizations (0):" in output
    assert counts["Not carried over"] == 0
    assert "HYBRIDSYNC_GRAPH_CLIENT_SECRET" in output.split("To fill in:")[1]
