"""Preview one object: rules in scope, the join decision, every metaverse and target
attribute with the rule that set it (lineage), and the pending export it would produce.
Nothing is written."""

from __future__ import annotations

import base64
from typing import Any

from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.plan import MetaversePlan, ObjectPlan, TargetPlan, plan_object
from hybridsync.core.scope import MemberOf
from hybridsync.core.values import Reference, Values
from hybridsync.engine.context import EngineContext
from hybridsync.engine.membership import GroupMembership
from hybridsync.engine.outbound import StoreTargetSpace
from hybridsync.engine.references import StoreReferences
from hybridsync.engine.sync import StoreJoinLookup
from hybridsync.errors import NotFoundError


def find_object(context: EngineContext, connector: str, key: str) -> CSObject:
    store = context.store
    found = store.cs_by_dn(connector, key) or store.cs_by_anchor(connector, key)
    if found is None:
        raise NotFoundError(f"connector {connector!r} holds no object with DN or anchor {key!r}")
    return found


class StoreMetaverseView:
    """What planning one object reads, through the store."""

    def __init__(self, context: EngineContext, membership: GroupMembership) -> None:
        self._store = context.store
        self._membership = membership
        self._references = StoreReferences(
            context.store, context.compiled.outbound_names, context.dn_referencing()
        )

    def mv(self, mv_id: str) -> MVObject | None:
        return self._store.get_mv(mv_id)

    def linked_to(self, mv_id: str) -> list[CSObject]:
        return self._store.cs_linked_to(mv_id)

    def member_of(self, cs: CSObject) -> MemberOf | None:
        return self._membership.member_of(cs)

    def source_mv(self, connector: str, dn: str) -> str | None:
        return self._references.source_mv(connector, dn)

    def target_anchor(self, connector: str, mv_id: str) -> str | None:
        return self._references.target_anchor(connector, mv_id)


def plan_of(
    context: EngineContext, cs: CSObject, membership: GroupMembership | None = None
) -> ObjectPlan:
    """The plan a sync of ``cs``'s connector would follow for it now."""
    membership = membership or GroupMembership(context.store)
    return plan_object(
        cs,
        context,
        StoreMetaverseView(context, membership),
        StoreJoinLookup(context),
        StoreTargetSpace(context.store),
    )


def preview(context: EngineContext, connector: str, key: str) -> dict[str, Any]:
    cs = find_object(context, connector, key)
    membership = GroupMembership(context.store)
    plan = plan_of(context, cs, membership)
    link, decision = plan.link, plan.link.decision
    result: dict[str, Any] = {
        "object": {
            "connector": connector,
            "dn": cs.dn,
            "anchor": cs.anchor,
            "object_type": cs.object_type,
            "pending_import": cs.pending_import.value,
        },
        "errors": [],
        "rules_in_scope": [rule.name for rule in link.rules_in_scope],
        "membership": _membership(context, cs, membership),
        "join": {
            "action": decision.action.value,
            "rule": link.rule_name,
            "metaverse_object": link.mv_id,
            "steps": list(decision.trace),
            "error": decision.error,
        },
    }
    if plan.metaverse is not None:
        _metaverse(plan.metaverse, result)
    return result


def _membership(
    context: EngineContext, cs: CSObject, membership: GroupMembership
) -> list[dict[str, Any]]:
    """The ISMEMBEROF decisions scoping used: each named group, and whether ``cs`` is in it."""
    shown: list[dict[str, Any]] = []
    for group in sorted(context.rules.membership_groups(cs.connector)):
        members = membership.members(cs.connector, group)
        shown.append(
            {
                "group": group,
                "group_found": members is not None,
                "member": members is not None and cs.dn.lower() in members,
            }
        )
    return shown


def _metaverse(plan: MetaversePlan, result: dict[str, Any]) -> None:
    """The metaverse object's values and its targets, as the plan has them."""
    previous, values = plan.previous, plan.values
    result["errors"].extend(
        {"rule": e.rule, "attribute": e.attribute, "message": e.message} for e in plan.errors
    )
    shown = values.attributes if values else {}
    result["metaverse"] = {
        name: {
            "values": _show(vals),
            "rule": values.lineage.get(name) if values else None,
            "before": _show(previous.attributes.get(name, ())) if previous else None,
        }
        for name, vals in sorted(shown.items())
    }
    result["metaverse_sources"] = {
        name: [f"{cs.connector}: {cs.dn}" for cs in plan.sources_of(name)] for name in sorted(shown)
    }
    if plan.deleted:
        result["metaverse_deleted"] = True
    if plan.mv is not None or plan.deleted:
        result["targets"] = {target.connector: _target(target) for target in plan.targets}


def _target(plan: TargetPlan) -> dict[str, Any]:
    state = plan.state
    pending = plan.pending_export
    return {
        "action": state.action.value,
        "dn": plan.dn,
        "rules_in_scope": [rule.name for rule in state.rules],
        "attributes": {
            attr: {"values": _show(vals), "rule": state.lineage.get(attr)}
            for attr, vals in sorted(state.attributes.items())
        },
        "errors": [
            {"rule": e.rule, "attribute": e.attribute, "message": e.message} for e in state.errors
        ],
        "pending_export": None
        if pending is None
        else {
            "kind": pending.kind.value,
            "changes": {k: _show(v) for k, v in sorted(pending.changes.items())},
        },
    }


def show_values(values: Values) -> list[Any]:
    """Values as JSON shows them: bytes as ``base64:...``, a reference as its DN."""
    return _show(values)


def _show(values: Values) -> list[Any]:
    shown: list[Any] = []
    for value in values:
        if isinstance(value, bytes):
            shown.append("base64:" + base64.b64encode(value).decode("ascii"))
        elif isinstance(value, Reference):
            shown.append(value.dn)
        else:
            shown.append(value)
    return shown
