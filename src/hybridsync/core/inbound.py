"""Inbound decisions: which rules are in scope, the join decision, and the MV values."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from hybridsync.core.compiled import CompiledRules, compiled
from hybridsync.core.flows import Contribution, FlowError, FlowOutcome, contributions, resolve
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.rules import KEEPS_MV_LINK_TYPES, JoinGroup, LinkType, SyncRule
from hybridsync.core.scope import MemberOf
from hybridsync.core.values import Values


class JoinLookup(Protocol):
    """What the join decision needs to know about the metaverse."""

    def candidates(self, attribute: str, values: Values, case_sensitive: bool) -> set[str]:
        """Ids of MV objects whose ``attribute`` holds one of ``values``."""
        ...

    def has_link(self, mv_id: str, connector: str) -> bool:
        """Whether the MV object is already joined to an object of ``connector``."""
        ...


class LinkAction(enum.Enum):
    """What a sync step does with a connector-space object's link to the metaverse."""

    STAY_DISJOINED = "stay-disjoined"
    """Not linked, and no link made (no rule links it, or its join was refused)."""
    KEEP = "keep"
    """Linked already, and the rule that linked it is still in scope."""
    JOIN = "join"
    """Linked to the one metaverse object a join group found."""
    PROJECT = "project"
    """Linked to a new metaverse object (a Provision rule in scope)."""
    DISCONNECT = "disconnect"
    """The link is cut: no rule that linked it is in scope any more."""


@dataclass(frozen=True, slots=True)
class LinkDecision:
    """The link decision for one connector-space object, with the rule and metaverse
    object it concerns and the steps that led to it."""

    action: LinkAction
    rule: SyncRule | None = None
    mv_id: str | None = None
    keeps_mv: bool = False
    error: str | None = None
    trace: tuple[str, ...] = ()
    """Human-readable steps of the join decision, for preview."""


def rules_in_scope(
    rules: Sequence[SyncRule] | CompiledRules,
    cs: CSObject,
    member_of: MemberOf | None = None,
) -> tuple[SyncRule, ...]:
    """The rules that apply to the object's type and have it in scope."""
    return compiled(rules).in_scope(cs.object_type, cs.attributes, member_of)


def keeps_mv(in_scope_rules: Sequence[SyncRule], joined_by: str | None) -> bool:
    """Whether an in-scope Provision/StickyJoin rule keeps the joined MV object alive."""
    return any(rule.link_type in KEEPS_MV_LINK_TYPES for rule in in_scope_rules) or (
        joined_by is not None
        and any(r.name == joined_by and r.link_type is LinkType.STICKY_JOIN for r in in_scope_rules)
    )


def decide_link(
    cs: CSObject, in_scope_rules: Sequence[SyncRule], lookup: JoinLookup
) -> LinkDecision:
    """Join, project, keep or disconnect one CS object (spec §2.7).

    ``keeps_mv`` is what the in-scope rules say whatever the action: sync stores it with
    the object's link state.
    """
    keeping = keeps_mv(in_scope_rules, cs.joined_by)
    decision = _decide(cs, in_scope_rules, lookup, keeping)
    if decision.keeps_mv is keeping:
        return decision
    return replace(decision, keeps_mv=keeping)


def _decide(
    cs: CSObject, in_scope_rules: Sequence[SyncRule], lookup: JoinLookup, keeping: bool
) -> LinkDecision:
    if cs.mv_id is not None:
        return _decide_linked(cs, in_scope_rules, keeping)
    joining = [rule for rule in in_scope_rules if rule.joins]
    if len(joining) > 1:
        names = ", ".join(rule.name for rule in joining)
        return LinkDecision(
            LinkAction.STAY_DISJOINED,
            error=f"join ambiguity: several rules with join clauses are in scope ({names})",
        )
    trace: list[str] = []
    if joining:
        decision = _try_join(cs, joining[0], lookup, trace, keeping)
        if decision is not None:
            return decision
    return _maybe_project(cs, in_scope_rules, trace, keeping)


def _decide_linked(cs: CSObject, in_scope_rules: Sequence[SyncRule], keeping: bool) -> LinkDecision:
    names = {rule.name for rule in in_scope_rules}
    linking = [rule for rule in in_scope_rules if rule.links]
    if cs.joined_by is not None and cs.joined_by not in names:
        return LinkDecision(
            LinkAction.DISCONNECT, trace=(f"rule {cs.joined_by!r} that joined is out of scope",)
        )
    if cs.joined_by is None and not linking:
        return LinkDecision(LinkAction.DISCONNECT, trace=("no linking rule in scope",))
    rule = next((r for r in in_scope_rules if r.name == cs.joined_by), None)
    return LinkDecision(LinkAction.KEEP, rule, cs.mv_id, keeping, trace=("already joined",))


Candidates = Callable[[str, Values, bool], set[str]]
"""Ids of the objects whose attribute holds one of the values (attribute, values, case)."""


def group_candidates(
    group: JoinGroup, attributes: Mapping[str, Values], candidates: Candidates
) -> set[str]:
    """The ids matching every clause of a join group (no value: no match).

    The forward join asks the metaverse, the reverse join a target's connector space.
    """
    found: set[str] | None = None
    for clause in group.clauses:
        values = attributes.get(clause.source_attribute, ())
        hits = (
            candidates(clause.target_attribute, values, clause.case_sensitive) if values else set()
        )
        found = hits if found is None else found & hits
    return found or set()


def _try_join(
    cs: CSObject, rule: SyncRule, lookup: JoinLookup, trace: list[str], keeping: bool
) -> LinkDecision | None:
    for number, group in enumerate(rule.join, start=1):
        found = group_candidates(group, cs.attributes, lookup.candidates)
        count = len(found)
        trace.append(f"rule {rule.name!r} join group {number}: {count} candidate(s)")
        if count != 1:
            continue
        (mv_id,) = found
        if lookup.has_link(mv_id, cs.connector):
            return LinkDecision(
                LinkAction.STAY_DISJOINED,
                error=f"join conflict: metaverse object {mv_id} is already joined to another "
                f"object of connector {cs.connector!r} (rule {rule.name!r}, group {number})",
                trace=tuple(trace),
            )
        return LinkDecision(LinkAction.JOIN, rule, mv_id, keeping, trace=tuple(trace))
    return None


def _maybe_project(
    cs: CSObject, in_scope_rules: Sequence[SyncRule], trace: list[str], keeping: bool
) -> LinkDecision:
    provisioning = next((r for r in in_scope_rules if r.link_type is LinkType.PROVISION), None)
    if provisioning is None:
        trace.append("no Provision rule in scope: stays disjoined")
        return LinkDecision(LinkAction.STAY_DISJOINED, trace=tuple(trace))
    join_attributes = {
        clause.source_attribute for group in provisioning.join for clause in group.clauses
    }
    if join_attributes and not any(cs.attributes.get(name) for name in join_attributes):
        trace.append(f"rule {provisioning.name!r}: no join attribute has a value, no projection")
        return LinkDecision(LinkAction.STAY_DISJOINED, trace=tuple(trace))
    trace.append(f"projected by rule {provisioning.name!r}")
    return LinkDecision(LinkAction.PROJECT, provisioning, None, keeping, trace=tuple(trace))


@dataclass(frozen=True, slots=True)
class LinkedSource:
    """One CS object joined to an MV object, with what is needed to evaluate its rules."""

    cs: CSObject
    rules: tuple[SyncRule, ...]
    multi_valued: Collection[str]
    parameters: Mapping[str, str]
    compiled: CompiledRules | None = None
    """The compiled rules of the object's connector, which keep its flow plans."""


@dataclass(frozen=True, slots=True)
class MVValues:
    """The metaverse attributes that the joined sources' rules give one object, with
    the rule that gave each (its lineage) and the flows that failed."""

    attributes: dict[str, Values]
    lineage: dict[str, str]
    errors: list[FlowError] = field(default_factory=list)


def with_dn(cs: CSObject) -> Mapping[str, Values]:
    """The object's attributes plus its DN as ``dn`` (Entra Connect's ``[dn]``), unless
    the directory has an attribute of that name."""
    if "dn" in cs.attributes:
        return cs.attributes
    return {**cs.attributes, "dn": (cs.dn,)}


def metaverse_values(
    previous: MVObject | None, sources: Sequence[LinkedSource], *, creating: bool
) -> MVValues:
    """The MV attributes from every joined source's in-scope rules, by precedence."""
    if len(sources) == 1:
        (source,) = sources
        owner = source.compiled or CompiledRules(source.rules)
        plan = owner.plan(source.rules, creating=creating)
        outcome = plan.outcome(with_dn(source.cs), source.multi_valued, source.parameters)
    else:
        outcome = _resolved(sources, creating=creating)
    attributes, lineage = _apply(previous, outcome)
    return MVValues(attributes, lineage, outcome.errors)


def _resolved(sources: Sequence[LinkedSource], *, creating: bool) -> FlowOutcome:
    """Contributions of several joined sources, resolved together by precedence."""
    found: list[Contribution] = []
    errors: list[FlowError] = []
    for source in sources:
        attributes = with_dn(source.cs)
        for rule in source.rules:
            items, failed = contributions(
                rule,
                attributes,
                source.multi_valued,
                source.parameters,
                creating=creating,
            )
            found.extend(items)
            errors.extend(failed)
    resolved, conflicts = resolve(found)
    errors.extend(conflicts)
    return FlowOutcome.of(resolved, errors)


def _apply(
    previous: MVObject | None, outcome: FlowOutcome
) -> tuple[dict[str, Values], dict[str, str]]:
    # Attributes nobody contributes to any more are removed (so are those a rule empties);
    # an attribute left as it is (IgnoreThisFlow), or whose evaluation failed with no
    # other rule deciding it, keeps its previous value until the error is fixed.
    attributes = {name: values for name, values in outcome.values.items() if values}
    lineage = {name: rule for name, rule in outcome.lineage.items() if name in attributes}
    if not outcome.kept and not outcome.errors:
        return attributes, lineage
    decided = outcome.values
    keeping = {*outcome.kept, *(e.attribute for e in outcome.errors if e.attribute not in decided)}
    before = previous.attributes if previous else {}
    lineage_before = previous.lineage if previous else {}
    for name in keeping:
        if before.get(name):
            attributes[name] = before[name]
            if name in lineage_before:
                lineage[name] = lineage_before[name]
    return attributes, lineage
