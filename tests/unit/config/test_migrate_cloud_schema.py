"""Connect's Entra connector attributes become the Graph connector's user properties."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hybridsync.config.migrate.cloud_schema import graph_name, rename_references
from hybridsync.config.migrate.convert import ConnectorNames, convert_rule
from hybridsync.config.migrate.export import ConnectRule, JoinCondition, Mapping, ScopeCondition
from hybridsync.config.migrate.migration import migrate_export
from hybridsync.connectors.graph.mapping import Target, property_name
from hybridsync.expressions import compile_expression

SAMPLE = Path(__file__).parents[2] / "data" / "entra-connect-export"
NAMES = ConnectorNames({"{ad}": "ad", "{aad}": "cloud"}, {})


def connect_rule(
    direction: str,
    mappings: tuple[Mapping, ...],
    join: tuple[JoinCondition, ...] = (),
    *,
    connector: str = "{aad}",
    object_type: str = "user",
    scope: tuple[ScopeCondition, ...] = (),
) -> ConnectRule:
    inbound = direction == "Inbound"
    return ConnectRule(
        id="{1}",
        name="Out to AAD - Test" if not inbound else "In from AAD - Test",
        description="",
        immutable_tag="",
        direction=direction,
        disabled=False,
        connector=connector,
        source_object_type=object_type if inbound else "person",
        target_object_type="person" if inbound else object_type,
        link_type="Join",
        precedence=100,
        precedence_after="",
        precedence_before="",
        password_sync=False,
        scope=(scope,) if scope else (),
        join=(join,) if join else (),
        mappings=mappings,
        origin="test",
    )


def direct(target: str, source: str) -> Mapping:
    return Mapping(target, (source,), None, "Update")


def test_graph_names_for_connects_attributes() -> None:
    assert graph_name("alias") == "mailNickname"
    assert graph_name("onPremiseSecurityIdentifier") == "onPremisesSecurityIdentifier"
    assert graph_name("sourceAnchor") == "onPremisesImmutableId"
    assert graph_name("dnsDomainName") == "onPremisesDomainName"
    assert graph_name("title") == "jobTitle"
    assert graph_name("DISPLAYNAME") == "displayName"
    assert graph_name("commonName") is None


def test_references_are_renamed_outside_string_literals_only() -> None:
    expression = 'IIF([alias] = "[alias]", ImportedValue("sourceAnchor"), [cn] & "\\"[alias]")'
    renamed = rename_references(expression, lambda name: graph_name(name) or name)
    assert renamed == (
        'IIF([mailNickname] = "[alias]", ImportedValue("onPremisesImmutableId"), '
        '[cn] & "\\"[alias]")'
    )
    compile_expression(renamed)


def test_an_outbound_user_rule_writes_graph_properties_and_leaves_out_the_rest() -> None:
    rule = connect_rule(
        "Outbound",
        (
            direct("alias", "mailNickname"),
            direct("commonName", "cn"),
            direct("onPremiseSecurityIdentifier", "objectSid"),
            direct("title", "title"),
            Mapping("dn", ("sourceAnchor",), '"CN={" & [sourceAnchor] & "}"', "Update"),
        ),
        (JoinCondition("sourceAnchor", "sourceAnchor", case_sensitive=False),),
    )
    table, changes = convert_rule(rule, NAMES)
    flows = {flow["target"]: flow for flow in table["flow"]}  # type: ignore[attr-defined]
    assert sorted(flows) == ["dn", "jobTitle", "mailNickname", "onPremisesSecurityIdentifier"]
    assert flows["mailNickname"]["sources"] == ["mailNickname", "userPrincipalName"]
    assert flows["onPremisesSecurityIdentifier"] == {
        "target": "onPremisesSecurityIdentifier",
        "merge": "Update",
        "type": "Expression",
        "expression": "StringFromSid([objectSid])",
        "sources": ["objectSid"],
    }
    (clause,) = table["join"][0]["clauses"]  # type: ignore[index]
    assert clause == {"source": "sourceAnchor", "target": "onPremisesImmutableId",
                      "case_sensitive": False}  # fmt: skip
    assert "flow to 'alias' writes Graph's 'mailNickname'" in changes
    assert "join on 'sourceAnchor' matches Graph's 'onPremisesImmutableId'" in changes
    assert "flows to 'commonName' left out: the Graph connector has no such property" in changes


def test_an_inbound_user_rule_reads_graph_properties_and_keeps_unread_flows() -> None:
    rule = connect_rule(
        "Inbound",
        (
            Mapping(
                "cloudSourceAnchor", ("sourceAnchor",), 'ImportedValue("sourceAnchor")', "Update"
            ),
            direct("cloudAnchor", "cloudAnchor"),
            direct("accountEnabled", "accountEnabled"),
        ),
        (JoinCondition("sourceAnchor", "sourceAnchor", case_sensitive=True),),
    )
    table, changes = convert_rule(rule, NAMES)
    flows = {flow["target"]: flow for flow in table["flow"]}  # type: ignore[attr-defined]
    assert flows["cloudSourceAnchor"]["expression"] == 'ImportedValue("onPremisesImmutableId")'
    assert flows["cloudSourceAnchor"]["sources"] == ["onPremisesImmutableId"]
    assert flows["cloudAnchor"]["source"] == "cloudAnchor"  # kept as Connect wrote it
    (clause,) = table["join"][0]["clauses"]  # type: ignore[index]
    assert clause["source"] == "onPremisesImmutableId"
    assert clause["target"] == "sourceAnchor"  # the metaverse side stays
    assert (
        "flows to 'cloudAnchor' read only attributes the Graph connector does not import: "
        "they flow nothing"
    ) in changes


TO_AD = (
    "disabled: hybridsync writes to AD only mS-DS-ConsistencyGuid (the AD connector's "
    "write_back_consistency_guid); the rule loads and stays inert"
)


@pytest.mark.parametrize(
    ("connector", "object_type", "expected"),
    [("{ad}", "user", [TO_AD]), ("{aad}", "group", [])],
)
def test_other_connectors_and_object_types_are_not_renamed(
    connector: str, object_type: str, expected: list[str]
) -> None:
    rule = connect_rule(
        "Outbound", (direct("alias", "mailNickname"),), connector=connector, object_type=object_type
    )
    table, changes = convert_rule(rule, NAMES)
    assert [flow["target"] for flow in table["flow"]] == ["alias"]  # type: ignore[attr-defined]
    assert changes == expected


def test_every_migrated_cloud_user_flow_of_the_sample_is_a_property_graph_writes() -> None:
    """The Graph connector refuses to export an attribute it does not write: none is left."""
    migration = migrate_export(SAMPLE)
    rules = tomllib.loads(migration.files["rules/outbound-user.toml"])["rule"]
    cloud = [rule for rule in rules if rule["connector"] == "cloud"]
    assert cloud
    targets = {flow["target"] for rule in cloud for flow in rule.get("flow", [])}
    for target in targets - {"dn"}:
        assert property_name(target, Target(synced_markers=True)) is not None, target
    assert {"mailNickname", "onPremisesImmutableId", "onPremisesSecurityIdentifier"} <= targets
    changed = {r.name: r.reasons for r in migration.report.rules}
    assert any("commonName" in change for change in changed["Out to AAD - User Join"])


@pytest.mark.parametrize(
    ("person", "alias"),
    [
        ({"mailNickname": "amy.t", "userPrincipalName": "aturner@contoso.com"}, "amy.t"),
        ({"userPrincipalName": "aturner@contoso.com"}, "aturner"),
        ({}, None),
    ],
)
def test_an_alias_flow_sends_the_alias_the_cloud_would_derive_when_there_is_none(
    person: dict[str, str], alias: str | None
) -> None:
    """The cloud derives an alias from the UPN for a user created without one and never
    clears it: flowing that value keeps such a user from showing a change forever."""
    table, changes = convert_rule(
        connect_rule("Outbound", (direct("alias", "mailNickname"),)), NAMES
    )
    (flow,) = table["flow"]  # type: ignore[misc]
    assert flow["target"] == "mailNickname"
    compiled = compile_expression(str(flow["expression"]))
    assert compiled.evaluate(person) == alias
    assert any("the UPN's part before '@'" in change for change in changes)


def test_a_source_name_is_never_spliced_into_an_expression() -> None:
    """A hostile export names a source that would close the brackets and call Error()."""
    hostile = 'mailNickname]) & Error("owned") & ([x'
    table, changes = convert_rule(
        connect_rule(
            "Outbound",
            (direct("alias", hostile), direct("onPremiseSecurityIdentifier", hostile)),
        ),
        NAMES,
    )
    flows = table["flow"]
    assert isinstance(flows, list)
    assert [(f["type"], f["source"]) for f in flows] == [("Direct", hostile), ("Direct", hostile)]
    assert "flow to 'mailNickname': its source is not an attribute name, kept as written" in (
        changes
    )


@pytest.mark.parametrize(
    ("operator", "value", "graph_operator"),
    [("EQUAL", "False", "EQUAL"), ("NOTEQUAL", "true", "EQUAL"), ("EQUAL", "True", "NOTEQUAL")],
)
def test_cloud_mastered_is_graphs_synced_marker_turned_around(
    operator: str, value: str, graph_operator: str
) -> None:
    """Connect calls a user its connector did not create in the cloud "not cloud-mastered";
    Graph marks such a user ``onPremisesSyncEnabled``."""
    rule = connect_rule(
        "Inbound",
        (direct("accountEnabled", "accountEnabled"),),
        scope=(ScopeCondition("cloudMastered", operator, value),),
    )
    table, changes = convert_rule(rule, NAMES)
    (clause,) = table["scope"][0]["clauses"]  # type: ignore[index]
    assert clause == {"attribute": "onPremisesSyncEnabled", "operator": graph_operator,
                      "value": "True"}  # fmt: skip
    assert f"scope 'cloudMastered {operator} {value}' tests Graph's " in changes[0]
