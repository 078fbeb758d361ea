"""What one sync step does to one object, decided once: a plan that sync applies and
preview shows.

A sync takes each connector-space object through two steps, and each step is one pure
function here:

1. :func:`plan_link`: the inbound rules in scope and the link decision (join, project,
   keep, disconnect; a target object's link belongs to the outbound rules and stays);
2. :func:`plan_metaverse`: for the metaverse object it is linked to, the values every
   joined source's rules give, with the rule behind each (lineage), and for every target
   connector the outbound decision (provision, reverse join, flow, deprovision,
   disconnect) with the pending export it leaves.

:func:`plan_object` chains both for one object, as ``preview`` shows it. A sync batch
plans the links of all its objects first, then each metaverse object they touch once
(``engine/sync.py``): the same functions, so what preview shows is what sync does.
Reading the store is the caller's part, through the small views declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from hybridsync.core.compiled import CompiledRules, CompiledRuleSet
from hybridsync.core.flows import FlowError
from hybridsync.core.inbound import (
    JoinLookup,
    LinkAction,
    LinkDecision,
    LinkedSource,
    MVValues,
    decide_link,
    metaverse_values,
)
from hybridsync.core.objects import CSObject, MVObject, PendingExport
from hybridsync.core.outbound import (
    TargetAction,
    TargetSpace,
    TargetState,
    attribute_changes,
    is_target_object,
    joined_source_state,
    reverse_join,
    target_state,
)
from hybridsync.core.ports import ExportKind
from hybridsync.core.references import ReferenceView, to_metaverse, to_target
from hybridsync.core.rules import LinkType, SyncRule
from hybridsync.core.scope import MemberOf
from hybridsync.core.values import Values

DEFAULT_OBJECT_TYPE = "person"
"""The MV object type when no joined object's rule names one."""


class RulesView(Protocol):
    """The rules and per-connector settings a plan is made with (the engine context)."""

    @property
    def compiled(self) -> CompiledRuleSet: ...

    def multi_valued(self, name: str) -> frozenset[str]: ...

    def parameters(self, name: str) -> Mapping[str, str]: ...

    def targets(self) -> tuple[str, ...]:
        """Connectors with outbound rules, in configuration order."""
        ...

    def references(self, name: str) -> frozenset[str]:
        """The reference attributes of connector ``name`` that its inbound rules read."""
        ...


@dataclass(frozen=True, slots=True)
class LinkPlan:
    """Step 1 for one object: the inbound rules in scope and the link decision."""

    cs: CSObject
    rules_in_scope: tuple[SyncRule, ...]
    decision: LinkDecision
    target_object: bool
    """Linked by an outbound rule: the inbound rules neither join nor disconnect it."""

    @property
    def rule_name(self) -> str | None:
        """The rule that links the object after this step (as decided, or as it was)."""
        if self.target_object:
            return self.cs.joined_by
        return self.decision.rule.name if self.decision.rule else None

    @property
    def mv_id(self) -> str | None:
        """The MV object the object is linked to after this step (None: a new one)."""
        return self.decision.mv_id or self.cs.mv_id

    @property
    def links(self) -> bool:
        """Whether the object is linked after this step (and its MV object recomputed)."""
        return self.decision.error is None and self.decision.action in (
            LinkAction.KEEP,
            LinkAction.JOIN,
            LinkAction.PROJECT,
        )

    def after(self, mv_id: str | None) -> CSObject:
        """The object as this step leaves it (``mv_id``: the MV object a projection made)."""
        if self.target_object:
            return self.cs
        if self.decision.action is LinkAction.DISCONNECT:
            return self.cs.with_link(None, None, False)
        rule = self.rule_name or self.cs.joined_by
        return self.cs.with_link(mv_id, rule, self.decision.keeps_mv)


def plan_link(
    cs: CSObject,
    rules: CompiledRules,
    member_of: MemberOf | None,
    lookup: JoinLookup,
    outbound_names: frozenset[str],
) -> LinkPlan:
    """The link decision for one object of a connector whose inbound rules are ``rules``."""
    if is_target_object(cs, outbound_names):
        step = f"target object: linked by outbound rule {cs.joined_by!r}"
        kept = LinkDecision(LinkAction.KEEP, None, cs.mv_id, cs.keeps_mv, trace=(step,))
        return LinkPlan(cs, (), kept, target_object=True)
    in_scope = rules.in_scope(cs.object_type, cs.attributes, member_of)
    return LinkPlan(cs, in_scope, decide_link(cs, in_scope, lookup), target_object=False)


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """One target connector's part of a metaverse object's plan."""

    connector: str
    state: TargetState
    current: CSObject | None
    """The connector's object linked to the MV object (or the joined source it flows
    back into), as it is before this step."""
    flow_back: bool = False
    """Export flow into a source the connector's own inbound rules joined."""
    reverse_joined: CSObject | None = None
    """The unlinked object a provisioning links instead of creating one."""
    result: CSObject | None = None
    """The object after this step, pending export included (flow, flow back, reverse
    join); None when nothing is written or a new object is provisioned."""

    @property
    def dn(self) -> str | None:
        """The DN the object will have (the rules', else its current one)."""
        if self.state.dn:
            return self.state.dn
        current = self.reverse_joined or self.current
        return current.dn if current else None

    @property
    def pending_export(self) -> PendingExport | None:
        """The export this step leaves pending (None after an error or for nothing)."""
        if self.state.errors:
            return None
        if self.result is not None:
            return self.result.pending_export
        if self.state.action is TargetAction.PROVISION:
            return PendingExport(ExportKind.ADD, provisioned_attributes(self.state))
        if self.state.action is TargetAction.DEPROVISION:
            return PendingExport(ExportKind.DELETE)
        return None


@dataclass(frozen=True, slots=True)
class MetaversePlan:
    """Step 2 for one MV object: its values from every joined source, and its targets."""

    mv_id: str
    previous: MVObject | None
    sources: tuple[CSObject, ...]
    """The objects inbound rules joined to it (after step 1)."""
    linked_targets: tuple[CSObject, ...]
    """The objects outbound rules linked to it."""
    creating: bool
    deleted: bool
    """No joined source keeps it: it goes (with its targets' objects)."""
    values: MVValues | None
    mv: MVObject | None
    """The MV object after this step (None: deleted, or not computed after flow errors)."""
    targets: tuple[TargetPlan, ...]
    scoped: tuple[tuple[CSObject, tuple[SyncRule, ...]], ...] = ()
    """Each joined source with its in-scope inbound rules."""

    def sources_of(self, attribute: str) -> tuple[CSObject, ...]:
        """The joined objects whose rules gave ``attribute`` its values: lineage names
        the rules (several, comma-separated, when values merge), this says from where."""
        lineage = self.values.lineage.get(attribute) if self.values else None
        if not lineage:
            return ()
        rules = set(lineage.split(", "))
        return tuple(cs for cs, found in self.scoped if any(r.name in rules for r in found))

    @property
    def errors(self) -> list[FlowError]:
        return self.values.errors if self.values else []

    @property
    def changed(self) -> bool:
        """Whether the MV object is written (new, or other values or lineage)."""
        if self.mv is None:
            return False
        previous = self.previous
        return (
            previous is None
            or previous.attributes != self.mv.attributes
            or previous.lineage != self.mv.lineage
        )


def plan_metaverse(
    mv_id: str,
    previous: MVObject | None,
    linked: Sequence[CSObject],
    *,
    creating: bool,
    rules: RulesView,
    in_scope_of: Callable[[CSObject], tuple[SyncRule, ...]],
    space: TargetSpace,
    references: ReferenceView,
) -> MetaversePlan:
    """The MV object's values and every target's decision, from the objects linked to it.

    ``in_scope_of`` gives a joined source's in-scope inbound rules; ``space`` answers the
    reverse join's questions about the targets; ``references`` resolves reference
    attributes (``core/references.py``).
    """
    names = rules.compiled.outbound_names
    sources = tuple(cs for cs in linked if not is_target_object(cs, names))
    targets = tuple(cs for cs in linked if is_target_object(cs, names))
    if not any(cs.keeps_mv for cs in sources):
        planned = tuple(
            _target(name, None, targets, (), rules, space, references) for name in rules.targets()
        )
        return MetaversePlan(mv_id, previous, sources, targets, creating, True, None, None, planned)
    compiled = rules.compiled
    contributing = [(cs, in_scope_of(cs)) for cs in sources]
    contributing += [(cs, found) for cs in targets if (found := _target_values_rules(cs, compiled))]
    linked_sources = [
        LinkedSource(
            _resolved_source(cs, references, rules.references(cs.connector)),
            found,
            rules.multi_valued(cs.connector),
            rules.parameters(cs.connector),
            compiled.inbound(cs.connector),
        )
        for cs, found in contributing
    ]
    scoped = tuple(contributing)
    values = metaverse_values(previous, linked_sources, creating=creating)
    if values.errors:
        return MetaversePlan(
            mv_id, previous, sources, targets, creating, False, values, None, (), scoped
        )
    object_type = previous.object_type if previous else projected_type(sources, compiled)
    mv = MVObject(mv_id, object_type, values.attributes, values.lineage)
    planned = tuple(
        _target(name, mv, targets, sources, rules, space, references) for name in rules.targets()
    )
    return MetaversePlan(
        mv_id, previous, sources, targets, creating, False, values, mv, planned, scoped
    )


def _target_values_rules(cs: CSObject, compiled: CompiledRuleSet) -> tuple[SyncRule, ...]:
    """The inbound rules through which a target object gives its metaverse object values:
    its connector's ``from_targets`` join rules that have it in scope (the shadow account
    of a cloud guest gives its DN and SID for the write-back to the cloud). They never
    link it; its link stays the outbound rules'."""
    inbound = compiled.inbound(cs.connector)
    if not reads_targets(inbound):
        return ()
    in_scope = inbound.in_scope(cs.object_type, cs.attributes, None)
    return tuple(rule for rule in in_scope if _reads_targets(rule))


def reads_targets(rules: CompiledRules) -> bool:
    """Whether target objects of the connector give values (``from_targets`` rules)."""
    return any(_reads_targets(rule) for rule in rules.rules)


def _reads_targets(rule: SyncRule) -> bool:
    return rule.from_targets and rule.link_type is LinkType.JOIN and not rule.joins


def _resolved_source(cs: CSObject, references: ReferenceView, names: frozenset[str]) -> CSObject:
    """The source as its rules read it: references name metaverse objects."""
    attributes = to_metaverse(cs.attributes, cs.connector, references, names)
    return cs if attributes is cs.attributes else replace(cs, attributes=attributes)


def _resolved_target(state: TargetState, name: str, references: ReferenceView) -> TargetState:
    """The target's desired values with references named as the target names them."""
    if state.errors:
        return state
    attributes = to_target(state.attributes, name, references)
    return state if attributes is None else replace(state, attributes=attributes)


def projected_type(sources: Sequence[CSObject], compiled: CompiledRuleSet) -> str:
    """A new MV object's type: the target type of the rule that joined its first source."""
    for cs in sources:
        rule = compiled.rules.by_name(cs.joined_by or "")
        if rule is not None:
            return rule.target_object_type
    return DEFAULT_OBJECT_TYPE


def _target(
    name: str,
    mv: MVObject | None,
    linked_targets: Sequence[CSObject],
    sources: Sequence[CSObject],
    rules: RulesView,
    space: TargetSpace,
    references: ReferenceView,
) -> TargetPlan:
    """One target connector's decision for ``mv`` (None: the MV object goes)."""
    linked = next((cs for cs in reversed(linked_targets) if cs.connector == name), None)
    source = next((cs for cs in reversed(sources) if cs.connector == name), None)
    outbound = rules.compiled.outbound(name)
    multi_valued, parameters = rules.multi_valued(name), rules.parameters(name)
    if linked is None and mv is not None and source is not None:
        # A source the connector's own inbound rules joined: export flow only.
        state = joined_source_state(mv, outbound, multi_valued, parameters)
        state = _resolved_target(state, name, references)
        result = None if state.errors else with_pending(source, state)
        return TargetPlan(name, state, source, flow_back=True, result=result)
    state = target_state(mv, linked, outbound, multi_valued, parameters)
    state = _resolved_target(state, name, references)
    if state.errors:
        return TargetPlan(name, state, linked)
    if state.action is TargetAction.PROVISION:
        assert mv is not None
        assert state.provisioning_rule is not None
        rule = state.provisioning_rule
        found = reverse_join(name, mv, state, rule, space)
        if found is None:
            return TargetPlan(name, state, linked)
        joined = replace(found, mv_id=mv.mv_id, joined_by=rule.name)
        return TargetPlan(
            name, state, linked, reverse_joined=found, result=with_pending(joined, state)
        )
    if state.action is TargetAction.FLOW:
        assert linked is not None
        return TargetPlan(name, state, linked, result=with_pending(linked, state))
    return TargetPlan(name, state, linked)


def provisioned_attributes(state: TargetState) -> dict[str, Values]:
    """The attributes a new target object is created with (empty ones are left out)."""
    return {name: values for name, values in state.attributes.items() if values}


def with_pending(linked: CSObject, state: TargetState) -> CSObject:
    """The target object with the pending export that brings it to the desired state."""
    dn = state.dn or linked.dn
    if linked.anchor is None and not linked.export_in_flight:
        attributes = provisioned_attributes(state)
        if linked.pending_export is not None and linked.pending_export.kind is ExportKind.ADD:
            # apply-once values were computed when the object was provisioned: keep them
            for key, values in linked.pending_export.changes.items():
                attributes.setdefault(key, values)
        return replace(linked, dn=dn, pending_export=PendingExport(ExportKind.ADD, attributes))
    changes = attribute_changes(state.attributes, linked.effective_attributes())
    if dn != linked.dn:
        changes["dn"] = (dn,)
    pending = PendingExport(ExportKind.UPDATE, changes) if changes else None
    return replace(linked, pending_export=pending)


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    """Everything one sync step does with one object: its link, then its MV object."""

    link: LinkPlan
    metaverse: MetaversePlan | None
    """None when the object ends up unlinked (or its link decision failed)."""


class MetaverseView(ReferenceView, Protocol):
    """What planning one object needs to read: the MV object, what is linked to it, and
    what references name."""

    def mv(self, mv_id: str) -> MVObject | None: ...

    def linked_to(self, mv_id: str) -> list[CSObject]: ...

    def member_of(self, cs: CSObject) -> MemberOf | None: ...


NEW_MV_ID = "(new)"
"""The id a plan gives an MV object a projection would create (sync makes a real one)."""


def plan_object(
    cs: CSObject,
    rules: RulesView,
    view: MetaverseView,
    lookup: JoinLookup,
    space: TargetSpace,
) -> ObjectPlan:
    """Both steps for one object, as a sync of its connector would take them."""
    compiled = rules.compiled
    link = plan_link(
        cs, compiled.inbound(cs.connector), view.member_of(cs), lookup, compiled.outbound_names
    )
    if not link.links:
        return ObjectPlan(link, None)
    mv_id = link.mv_id or NEW_MV_ID
    previous = view.mv(mv_id) if link.mv_id else None
    already = view.linked_to(mv_id) if link.mv_id else []
    others = [other for other in already if other.cs_id != cs.cs_id]
    linked = [link.after(mv_id), *others]
    scoped = {cs.cs_id: link.rules_in_scope}

    def in_scope_of(item: CSObject) -> tuple[SyncRule, ...]:
        found = scoped.get(item.cs_id)
        if found is not None:
            return found
        inbound = compiled.inbound(item.connector)
        return inbound.in_scope(item.object_type, item.attributes, view.member_of(item))

    metaverse = plan_metaverse(
        mv_id,
        previous,
        linked,
        creating=previous is None,
        rules=rules,
        in_scope_of=in_scope_of,
        space=space,
        references=view,
    )
    return ObjectPlan(link, metaverse)
