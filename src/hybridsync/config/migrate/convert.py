"""Connect's rules and connectors as hybridsync rule files and a ``hybridsync.toml``.

Each Connect rule is carried over unchanged, carried over with a change (each change
has a reason), or not carried over (with the reason). Nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from hybridsync.config.migrate.cloud_schema import to_graph_user_rule
from hybridsync.config.migrate.defaults import default_fingerprint, fingerprint
from hybridsync.config.migrate.export import (
    Connector,
    ConnectRule,
    Mapping,
    ScopeCondition,
    ServerExport,
)
from hybridsync.config.migrate.ordering import connect_order
from hybridsync.config.migrate.report import Customization, MigrationReport, Outcome, RuleOutcome
from hybridsync.config.migrate.tomlout import rule_toml
from hybridsync.core.rules import (
    LinkType,
    MergeType,
    ScopeOperator,
    connector_object_type,
    is_synced_object_type,
)
from hybridsync.errors import ExpressionSyntaxError
from hybridsync.expressions import compile_expression

_PARAMETER = re.compile(
    r"%(Connector\.ID|Domain\.FQDN|Domain\.Netbios|Domain\.LDAP|"
    r"Forest\.FQDN|Forest\.Netbios|Forest\.LDAP)%"
)
_STRING_LITERAL = re.compile(r'^"([^"\\]*)"$')


CLOUD = "cloud"
"""The name the Entra connector gets: a Graph connector."""


class NotCarried(Exception):
    """A rule that cannot be expressed in hybridsync: the message is the reason."""


@dataclass(slots=True)
class Migration:
    files: dict[str, str] = field(default_factory=dict)
    """Relative path → text: everything written to ``--out``."""
    report: MigrationReport = field(default_factory=lambda: MigrationReport(""))


@dataclass(frozen=True, slots=True)
class ConnectorNames:
    by_id: dict[str, str]
    parameters: dict[str, dict[str, str]]
    """Connector id (lower case) → Connect's parameters (``Domain.FQDN`` …) and values."""

    def name(self, connector_id: str) -> str | None:
        return self.by_id.get(connector_id.lower())


def connector_names(export: ServerExport) -> ConnectorNames:
    names: dict[str, str] = {}
    parameters: dict[str, dict[str, str]] = {}
    ad = [c for c in export.connectors if c.is_active_directory]
    for connector in ad:
        names[connector.id.lower()] = "ad" if len(ad) == 1 else "ad-" + _slug(connector.name)
        parameters[connector.id.lower()] = _ad_parameters(connector)
    for connector in export.connectors:
        if connector.is_entra:
            names[connector.id.lower()] = CLOUD
            parameters[connector.id.lower()] = {"Connector.ID": connector.id}
    return ConnectorNames(names, parameters)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _ad_parameters(connector: Connector) -> dict[str, str]:
    """Values of Connect's parameters, when one domain partition is selected.

    Connect evaluates ``%Domain.*%`` per object's domain; with one domain the value is
    the same for every object, so the parameter becomes a constant.
    """
    values = {"Connector.ID": connector.id}
    if connector.forest:
        values["Forest.FQDN"] = connector.forest
        values["Forest.LDAP"] = ",".join(f"DC={p}" for p in connector.forest.split("."))
    domains = [p for p in connector.partitions if p.selected and "Domain.FQDN" in p.parameters]
    if len(domains) == 1:
        for key in ("Domain.FQDN", "Domain.LDAP", "Domain.Netbios"):
            if key in domains[0].parameters:
                values[key] = domains[0].parameters[key]
    root = next(
        (
            p
            for p in domains
            if p.parameters.get("Domain.FQDN", "").lower() == connector.forest.lower()
        ),
        None,
    )
    if root is not None and "Domain.Netbios" in root.parameters:
        values["Forest.Netbios"] = root.parameters["Domain.Netbios"]
    return values


def editor_connector_names(rules: Sequence[ConnectRule], report: MigrationReport) -> ConnectorNames:
    """An editor export names connectors by id only: Connect's rule names tell them apart.

    A connector whose rules all say "AAD" in their name ("In from AAD - ...") is the
    Entra connector; the others are AD connectors.
    """
    by_connector: dict[str, list[str]] = defaultdict(list)
    for rule in rules:
        by_connector[rule.connector.lower()].append(rule.name)
    names: dict[str, str] = {}
    ad_ids = [
        c for c, rule_names in by_connector.items() if not all("AAD" in n for n in rule_names)
    ]
    for connector_id in sorted(by_connector):
        if connector_id not in ad_ids:
            names[connector_id] = CLOUD
        else:
            names[connector_id] = "ad" if len(ad_ids) == 1 else f"ad-{connector_id.strip('{}')[:8]}"
        report.notes.append(
            f"connector {connector_id} is {names[connector_id]!r} "
            f"({'its rules name AAD' if names[connector_id] == 'cloud' else 'an AD connector'})"
        )
    return ConnectorNames(names, {c: {"Connector.ID": c} for c in by_connector})


def migrate_rules(
    rules: Sequence[ConnectRule], names: ConnectorNames, report: MigrationReport
) -> dict[str, str]:
    """Every rule into a file per direction and object type, or into the report."""
    per_file: dict[str, list[str]] = defaultdict(list)
    used_names: set[str] = set()
    for placed in connect_order(rules):
        rule = placed.rule
        _note_customization(rule, report)
        try:
            table, changes = convert_rule(rule, names)
        except NotCarried as exc:
            report.rules.append(
                RuleOutcome(
                    rule.name,
                    rule.id,
                    rule.immutable_tag,
                    Outcome.NOT_CARRIED_OVER,
                    (f"{exc} ({rule.origin})",),
                )
            )
            continue
        if placed.note:
            changes.append(placed.note)
        if rule.name in used_names:
            unique_name = f"{rule.name} ({rule.id})"
            changes.append(f"renamed to {unique_name!r}: another rule has the same name")
            table["name"] = unique_name
        used_names.add(str(table["name"]))
        path = _file_for(rule)
        per_file[path].append(rule_toml(table, rule.id, rule.immutable_tag))
        outcome = Outcome.CHANGED if changes else Outcome.UNCHANGED
        report.rules.append(
            RuleOutcome(rule.name, rule.id, rule.immutable_tag, outcome, tuple(changes), path)
        )
    header = "# Migrated from an Entra Connect server configuration export.\n"
    return {path: header + "\n".join(tables) for path, tables in sorted(per_file.items())}


def _file_for(rule: ConnectRule) -> str:
    direction = rule.direction.lower()
    object_type = rule.source_object_type if direction == "inbound" else rule.target_object_type
    return f"rules/{direction}-{_slug(object_type) or 'any'}.toml"


def _note_customization(rule: ConnectRule, report: MigrationReport) -> None:
    if not rule.is_microsoft:
        reason = "no Microsoft immutable tag: a rule written for this installation"
    else:
        expected = default_fingerprint(rule.immutable_tag)
        if expected is None:
            reason = f"Microsoft tag {rule.immutable_tag!r} is not a default this version knows"
        elif expected != fingerprint(rule):
            reason = "a Microsoft rule whose content differs from Microsoft's default"
        else:
            return
    report.customizations.append(Customization(rule.name, rule.id, rule.immutable_tag, reason))


def convert_rule(rule: ConnectRule, names: ConnectorNames) -> tuple[dict[str, object], list[str]]:
    """The rule as a TOML table of the rule file model, and the changes made to it."""
    direction = rule.direction.lower()
    if direction not in ("inbound", "outbound"):
        raise NotCarried(f"unknown direction {rule.direction!r}")
    connector = names.name(rule.connector)
    if connector is None:
        raise NotCarried(f"connector {rule.connector} is neither the AD nor the Entra connector")
    changes: list[str] = []
    try:
        link_type = LinkType(rule.link_type).value
    except ValueError:
        raise NotCarried(f"link type {rule.link_type!r} is not supported") from None
    parameters = names.parameters.get(rule.connector.lower(), {})
    table: dict[str, object] = {
        "name": rule.name,
        "description": rule.description,
        "direction": direction,
        "connector": connector,
        "source_object_type": rule.source_object_type,
        "target_object_type": rule.target_object_type,
        "link_type": link_type,
        "precedence": rule.precedence,
        "disabled": rule.disabled,
        "password_sync": rule.password_sync,
        "scope": [_scope_group(group) for group in rule.scope if group],
        "join": [
            {
                "clauses": [
                    {"source": c.source, "target": c.target, "case_sensitive": c.case_sensitive}
                    for c in group
                ]
            }
            for group in rule.join
            if group
        ],
        "flow": [_flow(m, parameters, changes) for m in rule.mappings],
    }
    synced = connector_object_type(direction, rule.source_object_type, rule.target_object_type)
    if connector == CLOUD and synced.lower() == "user":
        changes.extend(to_graph_user_rule(table, direction))
    if not is_synced_object_type(synced) and not rule.disabled:
        table["disabled"] = True
        changes.append(
            f"disabled: hybridsync does not sync {synced!r} objects yet (the rule loads and "
            "stays inert)"
        )
    elif direction == "outbound" and connector != CLOUD and not table["disabled"]:
        # The AD connector exports nothing but the write-back its own setting turns on:
        # an enabled rule to it would make every export to AD fail.
        table["disabled"] = True
        changes.append(
            "disabled: hybridsync writes to AD only mS-DS-ConsistencyGuid (the AD "
            "connector's write_back_consistency_guid); the rule loads and stays inert"
        )
    return table, changes


def _scope_group(group: tuple[ScopeCondition, ...]) -> dict[str, object]:
    clauses: list[dict[str, object]] = []
    for condition in group:
        try:
            ScopeOperator.parse(condition.operator)
        except ValueError:
            raise NotCarried(
                f"scope on {condition.attribute!r}: operator {condition.operator!r} is not "
                "supported"
            ) from None
        clauses.append(
            {
                "attribute": condition.attribute,
                "operator": condition.operator,
                "value": condition.value,
            }
        )
    return {"clauses": clauses}


def _flow(mapping: Mapping, parameters: dict[str, str], changes: list[str]) -> dict[str, object]:
    flow: dict[str, object] = {"target": mapping.target}
    try:
        flow["merge"] = MergeType(mapping.merge_type).value
    except ValueError:
        raise NotCarried(
            f"flow to {mapping.target!r}: merge type {mapping.merge_type!r} is not supported"
        ) from None
    if mapping.execute_once:
        flow["apply_once"] = True
    if mapping.constant is not None and mapping.expression is None:
        flow.update(type="Constant", value=_constant(mapping.constant))
        return flow
    expression = mapping.expression
    if expression is None:
        if len(mapping.sources) != 1:
            raise NotCarried(
                f"flow to {mapping.target!r}: {len(mapping.sources)} sources and no expression"
            )
        flow.update(type="Direct", source=mapping.sources[0])
        return flow
    expression = _substitute(expression, parameters, mapping.target, changes)
    literal = _STRING_LITERAL.match(expression)
    if not mapping.sources and literal:
        flow.update(type="Constant", value=literal.group(1))
        return flow
    try:
        compile_expression(expression)
    except ExpressionSyntaxError as exc:
        raise NotCarried(
            f"flow to {mapping.target!r}: the expression does not compile: "
            + str(exc).splitlines()[0]
        ) from None
    flow.update(type="Expression", expression=expression)
    if mapping.sources:
        flow["sources"] = list(mapping.sources)
    return flow


def _constant(text: str) -> str | bool:
    """Connect writes boolean constants as True/False; the rule files use TOML booleans."""
    booleans = {"True": True, "False": False}
    return booleans.get(text, text)


def _substitute(
    expression: str, parameters: dict[str, str], target: str, changes: list[str]
) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters:
            raise NotCarried(
                f"flow to {target!r}: parameter %{name}% has no single value in this export"
            )
        value = parameters[name]
        changes.append(f"flow to {target!r}: %{name}% replaced by its value {value!r}")
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'

    return _PARAMETER.sub(replace, expression)
