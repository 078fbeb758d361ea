from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import RuleSource, builtin_rule_source, load_rules, upn_suffix_expression
from hybridsync.core.rules import Direction, FlowType, LinkType, MergeType, ScopeOperator
from hybridsync.errors import ConfigError

RULE = """
[[rule]]
name = "In from HR - Title"
description = "titles from HR"
direction = "inbound"
connector = "hr"
source_object_type = "user"
target_object_type = "person"
link_type = "JoinNoFlow"
precedence = 20
password_sync = true

[[rule.scope]]
clauses = [
  { attribute = "userAccountControl", operator = "ISBITNOTSET", value = 2 },
  { attribute = "adminDescription", operator = "NOTSTARTWITH", value = "User_" },
]

[[rule.scope]]
clauses = [{ attribute = "cloudMastered", operator = "NOTEQUAL", value = true }]

[[rule.join]]
clauses = [{ source = "employeeID", target = "employeeId", case_sensitive = true }]

[[rule.flow]]
target = "jobTitle"
type = "Expression"
expression = 'IIF(IsPresent([title]), [title], NULL)'
merge = "MergeCaseInsensitive"
apply_once = true

[[rule.flow]]
target = "company"
type = "Constant"
value = "Contoso"

[[rule.flow]]
target = "all"
type = "Direct"
source = "*"
"""


def test_every_field_is_read() -> None:
    (rule,) = load_rules([RuleSource("hr.toml", RULE)]).rules
    assert (rule.name, rule.direction, rule.connector, rule.link_type, rule.precedence) == (
        "In from HR - Title",
        Direction.INBOUND,
        "hr",
        LinkType.JOIN_NO_FLOW,
        20,
    )
    assert rule.password_sync
    assert [c.operator for c in rule.scope[0].clauses] == [
        ScopeOperator.ISNOTBITSET,
        ScopeOperator.NOTSTARTSWITH,
    ]
    assert rule.scope[0].clauses[0].value == "2"
    assert rule.scope[1].clauses[0].value == "True"
    assert rule.join[0].clauses[0].case_sensitive
    title, company, _ = rule.flows
    assert (title.flow_type, title.merge_type, title.apply_once) == (
        FlowType.EXPRESSION,
        MergeType.MERGE_CASE_INSENSITIVE,
        True,
    )
    assert title.sources == ("title",)
    assert company.constant == "Contoso"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("precedence = 20", 'precedence = "high"'), "field precedence"),
        (('operator = "ISBITNOTSET"', 'operator = "BITWISE"'), "unknown scope operator 'BITWISE'"),
        (('link_type = "JoinNoFlow"', 'link_type = "Glue"'), "field link_type"),
        (
            ("IIF(IsPresent([title]), [title], NULL)", "IIF(IsPresent([title]), [title]"),
            "flow to 'jobTitle': the expression does not compile",
        ),
        (('value = "Contoso"', 'colour = "blue"'), "field flow.1"),
        (('direction = "inbound"', 'direction = "sideways"'), "field direction"),
    ],
)
def test_errors_name_file_line_rule_and_field(change: tuple[str, str], message: str) -> None:
    text = RULE.replace(*change)
    with pytest.raises(ConfigError) as caught:
        load_rules([RuleSource("rules/hr.toml", text)])
    assert caught.value.source == "rules/hr.toml"
    assert caught.value.line == 3
    assert "'In from HR - Title'" in str(caught.value)
    assert message in str(caught.value)


def test_bad_toml_and_duplicate_names_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules([RuleSource("x.toml", "[[rule]\n")])
    with pytest.raises(ConfigError, match="defined twice"):
        load_rules([RuleSource("a.toml", RULE), RuleSource("b.toml", RULE)])


def test_a_direct_flow_needs_one_source(tmp_path: Path) -> None:
    text = RULE.replace('source = "*"', 'sources = ["a", "b"]')
    with pytest.raises(ConfigError, match="exactly one source"):
        load_rules([RuleSource("x.toml", text)])


def test_the_content_hash_changes_with_the_rules_not_with_file_order() -> None:
    builtin = builtin_rule_source("ad", "cloud")
    first = load_rules([builtin, RuleSource("hr.toml", RULE)]).content_hash
    assert first == load_rules([RuleSource("hr.toml", RULE), builtin]).content_hash
    assert (
        first
        != load_rules([builtin, RuleSource("hr.toml", RULE.replace("= 20", "= 21"))]).content_hash
    )


def test_builtin_rules_load_in_precedence_order() -> None:
    rules = load_rules([builtin_rule_source("ad", "cloud")])
    assert [r.name for r in rules.inbound("ad")] == [
        "In from AD - User Join",
        "In from AD - User AccountEnabled",
        "In from AD - User Common",
        "In from AD - Group Join",
        "In from AD - Group Common",
    ]
    assert [r.name for r in rules.outbound("cloud")] == [
        "Out to Cloud - User Join",
        "Out to Cloud - User Identity",
        "Out to Cloud - Group Join",
        "Out to Cloud - Group Identity",
    ]


def test_upn_suffix_expression_is_ends_with_and_errors_without_upn() -> None:
    from hybridsync.errors import ExpressionUserError
    from hybridsync.expressions import compile_expression

    compiled = compile_expression(
        upn_suffix_expression(["@partners.contoso.com", "@ext.contoso.com"])
    )
    assert compiled.evaluate({"userPrincipalName": "a@EXT.contoso.com"}) == "Guest"
    assert compiled.evaluate({"userPrincipalName": "a@partners.contoso.com.evil"}) == "Member"
    with pytest.raises(ExpressionUserError, match="UserPrincipalName is not present"):
        compiled.evaluate({})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "In from HR - " + "x" * 400),
        ("connector", "h" * 101),
        ("target_object_type", "p" * 101),
    ],
)
def test_a_name_longer_than_the_store_holds_is_a_configuration_error(
    field: str, value: str
) -> None:
    original = {"name": "In from HR - Title", "connector": "hr", "target_object_type": "person"}
    text = RULE.replace(f'{field} = "{original[field]}"', f'{field} = "{value}"', 1)
    assert value in text
    with pytest.raises(ConfigError, match=field):
        load_rules([RuleSource("hr.toml", text)])
