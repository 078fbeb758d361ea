"""Custom rules over two source connectors: cross-connector precedence, joins, outbound scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.rules import cloud_filter_rule

from hybridsync.engine import Status

HR_RULES = """
[[rule]]
name = "In from HR - Join"
direction = "inbound"
connector = "hr"
source_object_type = "user"
target_object_type = "person"
link_type = "Join"
precedence = 10
[[rule.join]]
clauses = [{ source = "mail", target = "mail" }]
[[rule.flow]]
target = "department"
type = "Direct"
source = "department"
[[rule.flow]]
target = "jobTitle"
type = "Expression"
expression = 'IIF(IsPresent([title]), [title], NULL)'
"""

SECOND_JOIN = """
[[rule]]
name = "In from HR - Second join"
direction = "inbound"
connector = "hr"
source_object_type = "user"
target_object_type = "person"
link_type = "Join"
precedence = 11
[[rule.join]]
clauses = [{ source = "sAMAccountName", target = "onPremisesSamAccountName" }]
"""

FILTER_SALES = cloud_filter_rule(
    "department", "EQUAL", "Legal", name="In from AD - Filter Legal", precedence=20
)


def _engine(world: Any, rules: str) -> Any:
    (world.tmp / "hr.toml").write_text(rules, encoding="utf-8")
    hr = world.tmp / "hr.ldif"
    return world.engine(
        rules=[str(world.tmp / "hr.toml")],
        connectors=[
            {"type": "ldif", "name": "ad", "path": str(world.ldif)},
            {"type": "ldif", "name": "hr", "path": str(hr)},
            {"type": "recording", "name": "cloud", "path": str(world.tmp / "cloud.db")},
        ],
    )


def _hr(path: Path, *entries: str) -> None:
    path.write_text("version: 1\n\n" + "\n".join(entries), encoding="utf-8")


def test_a_lower_precedence_number_from_another_connector_wins(world: Any) -> None:
    world.set_users(world.user("ann", department="Sales", mail="ann@contoso.com", title="Clerk"))
    _hr(world.tmp / "hr.ldif", world.user("ann-hr", mail="ANN@contoso.com", department="Finance"))
    built = _engine(world, HR_RULES)
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.SUCCESS, cycle.as_dict()
    ann = world.by_upn(built)["ann@contoso.com"]
    assert ann["department"] == "Finance"  # HR's rule, precedence 10, beats AD Common's 104
    assert ann["jobTitle"] == "Clerk"  # HR contributes NULL: AD's value stands
    shown = built.engine.preview("ad", "CN=ann,OU=Staff,DC=contoso,DC=com")
    assert shown["metaverse"]["department"]["rule"] == "In from HR - Join"
    assert shown["metaverse"]["jobTitle"]["rule"] == "In from AD - User Common"


def test_two_join_rules_in_scope_is_an_error_on_that_object_only(world: Any) -> None:
    world.set_users(world.user("ann", mail="ann@contoso.com"), world.user("bob"))
    _hr(world.tmp / "hr.ldif", world.user("ann-hr", mail="ann@contoso.com", department="Finance"))
    built = _engine(world, HR_RULES + SECOND_JOIN)
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.COMPLETED_ERRORS
    (error,) = [e for run in cycle.runs for e in run.errors]
    assert error.connector == "hr"
    assert "join ambiguity" in error.message
    assert set(world.by_upn(built)) == {"ann@contoso.com", "bob@contoso.com"}


def test_entering_an_outbound_filter_deprovisions_leaving_it_provisions_again(world: Any) -> None:
    world.set_users(world.user("ann", department="Sales"), world.user("bob"))
    _hr(world.tmp / "hr.ldif")
    built = _engine(world, FILTER_SALES)
    built.engine.cycle("initial")
    assert set(world.by_upn(built)) == {"ann@contoso.com", "bob@contoso.com"}
    world.put(world.user("ann", department="Legal"))
    built.engine.cycle("delta")
    assert set(world.by_upn(built)) == {"bob@contoso.com"}
    assert built.store.count_mv() == 2  # still in the metaverse, only filtered from the cloud
    world.put(world.user("ann", department="Sales"))
    built.engine.cycle("delta")
    assert set(world.by_upn(built)) == {"ann@contoso.com", "bob@contoso.com"}
