"""Outbound decisions: provisioning, export attribute flow, deprovisioning, and the diff."""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from hybridsync.core.compiled import CompiledRules, compiled
from hybridsync.core.convert import same_values
from hybridsync.core.flows import FlowError
from hybridsync.core.inbound import group_candidates
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.rules import Direction, LinkType, RuleSet, SyncRule
from hybridsync.core.values import Values

DN_ATTRIBUTE = "dn"
"""A flow into ``dn`` sets the target object's distinguished name."""


class TargetAction(enum.Enum):
    """What the outbound rules want done with one metaverse object in one target."""

    NOTHING = "nothing"
    """No object wanted in the target, and none linked."""
    PROVISION = "provision"
    """Create the object in the target."""
    FLOW = "flow"
    """Flow the rules' values into the linked object."""
    DEPROVISION = "deprovision"
    """Delete the object the rules provisioned."""
    DISCONNECT = "disconnect"
    """Cut the link; the object stays in the target."""


@dataclass(frozen=True, slots=True)
class TargetState:
    """What the outbound rules want for one MV object in one target connector."""

    action: TargetAction
    rules: tuple[SyncRule, ...] = ()
    provisioning_rule: SyncRule | None = None
    attributes: dict[str, Values] = field(default_factory=dict)
    lineage: dict[str, str] = field(default_factory=dict)
    dn: str | None = None
    errors: list[FlowError] = field(default_factory=list)


def outbound_rule_names(rules: RuleSet) -> frozenset[str]:
    """The names of every outbound rule, disabled ones included (see ``is_target_object``)."""
    return frozenset(rule.name for rule in rules.rules if rule.direction is Direction.OUTBOUND)


def is_target_object(cs: CSObject, outbound_names: frozenset[str]) -> bool:
    """Whether ``cs`` is a target object: linked by an outbound rule (provisioned or
    reverse-joined), named in ``outbound_names`` (``outbound_rule_names``).

    Sync and preview both decide with this. A target object's link belongs to the outbound
    rules: its connector's inbound rules neither join nor disconnect it, and it adds no
    values to its metaverse object. Any other linked object (joined by an inbound rule, or
    by a rule no longer configured) is a source, decided by the inbound rules.
    """
    return cs.joined_by is not None and cs.joined_by in outbound_names


def outbound_rules_in_scope(
    rules: Sequence[SyncRule] | CompiledRules, mv: MVObject
) -> tuple[SyncRule, ...]:
    """The rules that apply to the MV object's type and have it in scope."""
    return compiled(rules).in_scope(mv.object_type, mv.attributes, None)


def target_state(
    mv: MVObject | None,
    linked: CSObject | None,
    rules: Sequence[SyncRule] | CompiledRules,
    multi_valued: Collection[str],
    parameters: Mapping[str, str],
) -> TargetState:
    """Decide provisioning and compute the desired attributes for one target connector."""
    if mv is None:
        return _without_mv(linked)
    rules = compiled(rules)
    in_scope_rules = outbound_rules_in_scope(rules, mv)
    provisioning = next((r for r in in_scope_rules if r.link_type is LinkType.PROVISION), None)
    if linked is None:
        if provisioning is None:
            return TargetState(TargetAction.NOTHING, in_scope_rules)
        action = TargetAction.PROVISION
    else:
        joiner = linked.joined_by
        joiner_left = joiner is not None and joiner not in {r.name for r in in_scope_rules}
        if joiner_left or not any(rule.links for rule in in_scope_rules):
            return _leaving(linked, rules.rules, in_scope_rules)
        action = TargetAction.FLOW
    return _flow(action, mv, rules, in_scope_rules, provisioning, multi_valued, parameters)


def joined_source_state(
    mv: MVObject,
    rules: Sequence[SyncRule] | CompiledRules,
    multi_valued: Collection[str],
    parameters: Mapping[str, str],
) -> TargetState:
    """Export attribute flow into an object that the connector's own inbound rules joined
    (Entra Connect's "Out to AD - User ImmutableId" writes into the user it read).

    The link belongs to the inbound side: outbound rules here only flow values; they
    never provision, deprovision or disconnect. Out of their scope nothing is wanted.
    """
    rules = compiled(rules)
    in_scope_rules = tuple(
        rule for rule in outbound_rules_in_scope(rules, mv) if rule.flows_attributes
    )
    state = _flow(TargetAction.FLOW, mv, rules, in_scope_rules, None, multi_valued, parameters)
    return replace(state, dn=None)  # never a rename of an object the directory owns


def _without_mv(linked: CSObject | None) -> TargetState:
    if linked is None:
        return TargetState(TargetAction.NOTHING)
    return TargetState(TargetAction.DEPROVISION)


def _leaving(
    linked: CSObject, rules: Sequence[SyncRule], in_scope_rules: tuple[SyncRule, ...]
) -> TargetState:
    joined = next((rule for rule in rules if rule.name == linked.joined_by), None)
    if joined is not None and joined.link_type is LinkType.PROVISION:
        return TargetState(TargetAction.DEPROVISION, in_scope_rules)
    return TargetState(TargetAction.DISCONNECT, in_scope_rules)


def _flow(
    action: TargetAction,
    mv: MVObject,
    rules: CompiledRules,
    in_scope_rules: tuple[SyncRule, ...],
    provisioning: SyncRule | None,
    multi_valued: Collection[str],
    parameters: Mapping[str, str],
) -> TargetState:
    """The target's attributes and DN as the rules in scope flow them (``PROVISION``: the
    flows that apply only when the object is created as well)."""
    plan = rules.plan(in_scope_rules, creating=action is TargetAction.PROVISION)
    # A target left as it is (IgnoreThisFlow, outcome.kept) is not in the values: the
    # target's value stays untouched; empty values clear it.
    attributes, lineage, _, errors = plan.outcome(mv.attributes, multi_valued, parameters)
    dn_values = attributes.pop(DN_ATTRIBUTE, ())
    dn = str(dn_values[0]) if dn_values else None
    return TargetState(action, in_scope_rules, provisioning, attributes, lineage, dn, errors)


class TargetSpace(Protocol):
    """What the reverse join needs to know about a target's connector space."""

    def has_unlinked(self, connector: str) -> bool:
        """Whether the space holds any object no MV object is linked to."""
        ...

    def by_dn(self, connector: str, dn: str) -> CSObject | None: ...

    def ids_by_value(
        self, connector: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        """Ids of the objects whose ``attribute`` holds one of ``values``."""
        ...

    def objects(self, ids: list[str]) -> list[CSObject]: ...


def reverse_join(
    connector: str, mv: MVObject, state: TargetState, rule: SyncRule, space: TargetSpace
) -> CSObject | None:
    """The unlinked object of the target that a provisioning joins instead of creating one:
    the object at the DN the rules want, else the one object a join group finds."""
    if not space.has_unlinked(connector):
        return None  # nothing unlinked in the target: nothing to join to
    if state.dn:
        existing = space.by_dn(connector, state.dn)
        if existing is not None and existing.mv_id is None:
            return existing

    def candidates(attribute: str, values: Values, case_sensitive: bool) -> set[str]:
        return space.ids_by_value(connector, attribute, values, case_sensitive)

    for group in rule.join:
        found = group_candidates(group, mv.attributes, candidates)
        unlinked = [cs for cs in space.objects(sorted(found)) if cs.mv_id is None]
        if len(unlinked) == 1:
            return unlinked[0]
    return None


def attribute_changes(
    desired: Mapping[str, Values], current: Mapping[str, Values]
) -> dict[str, Values]:
    """The attributes whose desired values differ from what the target holds (or will)."""
    return {
        name: values
        for name, values in desired.items()
        if not same_values(values, current.get(name, ()))
    }
