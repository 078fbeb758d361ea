"""A Synchronization Rules Editor export (PowerShell, parsed as data) round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.config.migrate.powershell import read_editor_export
from hybridsync.config.rules import RuleSource, load_rules
from hybridsync.core.rules import Direction, FlowType, ScopeOperator, SyncRule
from hybridsync.errors import ConfigError

AD = "4a2b1c3d-0000-4000-8000-00000000000a"
AAD = "4a2b1c3d-0000-4000-8000-00000000000b"

# Every quoting form: '' escapes, "" and `" escapes in double quotes, backtick line
# continuations, @(...) arrays over several lines, $true/$false, a switch, and an
# expression spanning several lines.
EDITOR_EXPORT = f"""\
New-ADSyncRule  `
-Name 'In from AD - User Custom (O''Brien)' `
-Identifier 'c0ffee00-0000-4000-8000-000000000001' `
-Description "Custom ""title"" rule" `
-Direction 'Inbound' `
-Precedence 50 `
-PrecedenceAfter '00000000-0000-0000-0000-000000000000' `
-PrecedenceBefore '00000000-0000-0000-0000-000000000000' `
-SourceObjectType 'user' `
-TargetObjectType 'person' `
-Connector '{AD}' `
-LinkType 'Join' `
-SoftDeleteExpiryInterval 0 `
-ImmutableTag '' `
-EnablePasswordSync `
-OutVariable syncRule

Add-ADSyncAttributeFlowMapping  `
-SynchronizationRule $syncRule[0] `
-Source @('title','department') `
-Destination 'jobTitle' `
-FlowType 'Expression' `
-ValueMergeType 'Update' `
-Expression 'IIF(IsPresent([title]),
  [title] & " (" & [department] & ")",
  "it''s empty")' `
-OutVariable syncRule

Add-ADSyncAttributeFlowMapping  `
-SynchronizationRule $syncRule[0] `
-Source @('True') `
-Destination 'accountEnabled' `
-FlowType 'Constant' `
-ValueMergeType 'Update' `
-OutVariable syncRule

Add-ADSyncAttributeFlowMapping  `
-SynchronizationRule $syncRule[0] `
-Source @(
  'mail'
) `
-Destination 'mail' `
-FlowType 'Direct' `
-ValueMergeType 'Update' `
-OutVariable syncRule

New-Object  `
-TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' `
-ArgumentList 'department',"R`&D",'EQUAL' `
-OutVariable condition0

New-Object  `
-TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' `
-ArgumentList 'userAccountControl','2','ISBITNOTSET' `
-OutVariable condition1

Add-ADSyncScopeConditionGroup  `
-SynchronizationRule $syncRule[0] `
-ScopeConditions @($condition0[0],$condition1[0]) `
-OutVariable syncRule

New-Object  `
-TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.JoinCondition' `
-ArgumentList 'employeeID','employeeId',$true `
-OutVariable condition0

Add-ADSyncJoinConditionGroup  `
-SynchronizationRule $syncRule[0] `
-JoinConditions @($condition0[0]) `
-OutVariable syncRule

New-Object  `
-TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.JoinCondition' `
-ArgumentList 'mail','mail',$false `
-OutVariable condition0

Add-ADSyncJoinConditionGroup  `
-SynchronizationRule $syncRule[0] `
-JoinConditions @($condition0[0]) `
-OutVariable syncRule

Add-ADSyncRule  `
-SynchronizationRule $syncRule[0]

Get-ADSyncRule  `
-Identifier 'c0ffee00-0000-4000-8000-000000000001'

New-ADSyncRule  `
-Name 'Out to AAD - User Custom' `
-Identifier 'c0ffee00-0000-4000-8000-000000000002' `
-Description '' `
-Direction 'Outbound' `
-Precedence 51 `
-SourceObjectType 'person' `
-TargetObjectType 'user' `
-Connector '{AAD}' `
-LinkType 'Join' `
-ImmutableTag 'Microsoft.Custom.001' `
-OutVariable syncRule

Add-ADSyncAttributeFlowMapping  `
-SynchronizationRule $syncRule[0] `
-Source @('jobTitle') `
-Destination 'jobTitle' `
-FlowType 'Direct' `
-ValueMergeType 'Update' `
-OutVariable syncRule

New-Object  `
-TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' `
-ArgumentList 'sourceObjectType','User','EQUAL' `
-OutVariable condition0

Add-ADSyncScopeConditionGroup  `
-SynchronizationRule $syncRule[0] `
-ScopeConditions @($condition0[0]) `
-OutVariable syncRule

Add-ADSyncRule  `
-SynchronizationRule $syncRule[0]
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "rules.ps1"
    path.write_text(EDITOR_EXPORT, encoding="utf-8")
    return path


def test_parses_every_quoting_form(script: Path) -> None:
    inbound, outbound = read_editor_export(script)
    assert inbound.name == "In from AD - User Custom (O'Brien)"
    assert inbound.description == 'Custom "title" rule'
    assert inbound.password_sync is True
    assert outbound.password_sync is False
    assert inbound.id == "{c0ffee00-0000-4000-8000-000000000001}"
    expression = inbound.mappings[0].expression
    assert expression == (
        'IIF(IsPresent([title]),\n  [title] & " (" & [department] & ")",\n  "it\'s empty")'
    )
    assert inbound.mappings[0].sources == ("title", "department")
    assert inbound.mappings[1].constant == "True"
    assert inbound.mappings[2].sources == ("mail",)
    assert inbound.scope[0][0].value == "R&D"
    assert [c.case_sensitive for g in inbound.join for c in g] == [True, False]


def _migrate(script: Path, out: Path) -> list[SyncRule]:
    result = CliRunner().invoke(app, ["migrate", "entra-connect", str(script), "--out", str(out)])
    assert result.exit_code == exit_codes.SUCCESS, result.output
    files = sorted((out / "rules").glob("*.toml"))
    assert [f.name for f in files] == ["inbound-user.toml", "outbound-user.toml"]
    return sorted(
        load_rules([RuleSource.from_path(f) for f in files]).rules, key=lambda r: r.precedence
    )


def test_round_trip_field_by_field(script: Path, tmp_path: Path) -> None:
    sources = read_editor_export(script)
    loaded = _migrate(script, tmp_path / "out")
    assert len(loaded) == len(sources)
    for source, rule in zip(sources, loaded, strict=True):
        assert rule.name == source.name
        assert rule.description == source.description
        assert rule.direction is Direction(source.direction.lower())
        assert rule.connector == ("ad" if source.direction == "Inbound" else "cloud")
        assert (rule.source_object_type, rule.target_object_type) == (
            source.source_object_type,
            source.target_object_type,
        )
        assert rule.link_type.value == source.link_type
        assert rule.precedence == source.precedence
        assert rule.password_sync == source.password_sync
        assert [
            [(c.attribute, c.operator.value, c.value) for c in g.clauses] for g in rule.scope
        ] == [
            [(c.attribute, ScopeOperator.parse(c.operator).value, c.value) for c in g]
            for g in source.scope
        ]
        assert [
            [(c.source_attribute, c.target_attribute, c.case_sensitive) for c in g.clauses]
            for g in rule.join
        ] == [[(c.source, c.target, c.case_sensitive) for c in g] for g in source.join]
        assert [f.target for f in rule.flows] == [m.target for m in source.mappings]
        for flow, mapping in zip(rule.flows, source.mappings, strict=True):
            if mapping.constant is not None:
                assert flow.flow_type is FlowType.CONSTANT
                assert str(flow.constant) == mapping.constant
            elif mapping.expression is not None:
                assert flow.expression_text == mapping.expression
            else:
                assert flow.flow_type is FlowType.DIRECT
                assert flow.sources == mapping.sources
    text = (tmp_path / "out" / "rules" / "inbound-user.toml").read_text(encoding="utf-8")
    assert "# Connect rule id: {c0ffee00-0000-4000-8000-000000000001}" in text
    assert not (tmp_path / "out" / "hybridsync.toml").exists()


END = EDITOR_EXPORT.count("\n") + 2
"""The line of a command appended after one blank line."""


@pytest.mark.parametrize(
    ("script", "message", "line"),
    [
        (EDITOR_EXPORT + "\nInvoke-Expression -Command 'rm'\n", "unknown cmdlet", END),
        (
            EDITOR_EXPORT.replace("-SoftDeleteExpiryInterval 0 `", "-Bogus 0 `"),
            "New-ADSyncRule: unknown parameter -Bogus",
            1,
        ),
        (
            EDITOR_EXPORT.replace("'userAccountControl','2','ISBITNOTSET'", "'a','b'"),
            "not a scope or join condition",
            52,
        ),
        (EDITOR_EXPORT + "\nNew-ADSyncRule -Name 'unterminated\n", "cannot read", END),
    ],
)
def test_hostile_scripts_name_file_and_line(
    tmp_path: Path, script: str, message: str, line: int
) -> None:
    assert script != EDITOR_EXPORT
    path = tmp_path / "rules.ps1"
    path.write_text(script, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        read_editor_export(path)
    assert caught.value.source == str(path)
    assert caught.value.line == line


def test_an_expression_that_does_not_compile_is_reported_not_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.ps1"
    path.write_text(
        EDITOR_EXPORT.replace("IIF(IsPresent([title]),", "IIF(IsPresent([title]),,"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["migrate", "entra-connect", str(path), "--out", str(tmp_path / "out"), "--json"]
    )
    assert result.exit_code == exit_codes.SUCCESS, result.output
    assert "In from AD - User Custom (O'Brien)" in result.output
    assert "does not compile" in result.output


def test_precedence_before_orders_the_rule_as_connect_does(tmp_path: Path) -> None:
    # The outbound rule (51) asks to come before the inbound one (50), with -Precedence 0.
    text = EDITOR_EXPORT.replace("-Precedence 51 `", "-Precedence 0 `").replace(
        "-Identifier 'c0ffee00-0000-4000-8000-000000000002' `\n",
        "-Identifier 'c0ffee00-0000-4000-8000-000000000002' `\n"
        "-PrecedenceBefore 'c0ffee00-0000-4000-8000-000000000001' `\n",
    )
    script = tmp_path / "rules.ps1"
    script.write_text(text, encoding="utf-8")
    loaded = _migrate(script, tmp_path / "out")
    assert [(rule.name, rule.precedence) for rule in loaded] == [
        ("Out to AAD - User Custom", 50),
        ("In from AD - User Custom (O'Brien)", 51),
    ]
    report = (tmp_path / "out" / "migration-report.json").read_text(encoding="utf-8")
    assert "placed by its PrecedenceBefore {c0ffee00-0000-4000-8000-000000000001}" in report
