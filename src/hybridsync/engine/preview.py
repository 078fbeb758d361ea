"""Preview one object: rules in scope, the join decision, every metaverse and target
attribute with the rule that set it (lineage), and the pending export it would produce.
Nothing is written."""

from __future__ import annotations

import base64
from typing import Any

from hybridsync.core.inbound import (
    LinkAction,
    LinkedSource,
    decide_link,
    metaverse_values,
    rules_in_scope,
)
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.outbound import (
    is_target_object,
    joined_source_state,
    outbound_rule_names,
    target_state,
)
from hybridsync.core.values import Reference, Values
from hybridsync.engine.context import EngineContext
from hybridsync.engine.membership import GroupMembership
from hybridsync.engine.outbound import with_pending
from hybridsync.engine.sync import StoreJoinLookup
from hybridsync.errors import NotFoundError


def find_object(context: EngineContext, connector: str, key: str) -> CSObject:
    store = context.store
    found = store.cs_by_dn(connector, key) or store.cs_by_anchor(connector, key)
    if found is None:
        raise NotFoundError(f"connector {connector!r} holds no object with DN or anchor {key!r}")
    return found


def preview(context: EngineContext, connector: str, key: str) -> dict[str, Any]:
    cs = find_object(context, connector, key)
    membership = GroupMembership(context.store)
    outbound_names = outbound_rule_names(context.rules)
    result: dict[str, Any] = {
        "object": {
            "connector": connector,
            "dn": cs.dn,
            "anchor": cs.anchor,
            "object_type": cs.object_type,
            "pending_import": cs.pending_import.value,
        },
        "errors": [],
    }
    if is_target_object(cs, outbound_names):
        # As sync: the inbound rules neither join nor disconnect a target object.
        result["rules_in_scope"] = []
        result["membership"] = _membership(context, cs, membership)
        result["join"] = {
            "action": LinkAction.KEEP.value,
            "rule": cs.joined_by,
            "metaverse_object": cs.mv_id,
            "steps": [f"target object: linked by outbound rule {cs.joined_by!r}"],
            "error": None,
        }
        mv_id, joined_by = cs.mv_id, cs.joined_by
    else:
        in_scope = rules_in_scope(context.inbound(connector), cs, membership.member_of(cs))
        decision = decide_link(cs, in_scope, StoreJoinLookup(context))
        result["rules_in_scope"] = [rule.name for rule in in_scope]
        result["membership"] = _membership(context, cs, membership)
        result["join"] = {
            "action": decision.action.value,
            "rule": decision.rule.name if decision.rule else None,
            "metaverse_object": decision.mv_id or cs.mv_id,
            "steps": list(decision.trace),
            "error": decision.error,
        }
        if decision.error or decision.action in (LinkAction.STAY_DISJOINED, LinkAction.DISCONNECT):
            return result
        mv_id = decision.mv_id or cs.mv_id
        joined_by = decision.rule.name if decision.rule else cs.joined_by
    mv = _metaverse(context, membership, cs, (mv_id, joined_by), result, outbound_names)
    if mv is not None:
        result["targets"] = _targets(context, mv, cs, outbound_names)
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


def _metaverse(
    context: EngineContext,
    membership: GroupMembership,
    cs: CSObject,
    link: tuple[str | None, str | None],
    result: dict[str, Any],
    outbound_names: frozenset[str],
) -> MVObject | None:
    """The metaverse object as sync would compute it; ``link`` is (MV id, joining rule)."""
    store = context.store
    mv_id, joined_by = link
    previous = store.get_mv(mv_id) if mv_id else None
    linked = [
        other for other in (store.cs_linked_to(mv_id) if mv_id else []) if other.cs_id != cs.cs_id
    ]
    sources = [
        LinkedSource(
            item,
            rules_in_scope(context.inbound(item.connector), item, membership.member_of(item)),
            context.multi_valued(item.connector),
            context.parameters(item.connector),
        )
        for item in [cs, *linked]
        if context.inbound(item.connector) and not is_target_object(item, outbound_names)
    ]
    values = metaverse_values(previous, sources, creating=previous is None)
    result["errors"].extend(
        {"rule": e.rule, "attribute": e.attribute, "message": e.message} for e in values.errors
    )
    result["metaverse"] = {
        name: {
            "values": _show(vals),
            "rule": values.lineage.get(name),
            "before": _show(previous.attributes.get(name, ())) if previous else None,
        }
        for name, vals in sorted(values.attributes.items())
    }
    if values.errors:
        return None
    object_type = previous.object_type if previous else _target_type(context, joined_by)
    return MVObject(mv_id or "(new)", object_type, values.attributes, values.lineage)


def _target_type(context: EngineContext, rule_name: str | None) -> str:
    rule = context.rules.by_name(rule_name or "")
    return rule.target_object_type if rule else "person"


def _targets(
    context: EngineContext, mv: MVObject, source: CSObject, outbound_names: frozenset[str]
) -> dict[str, Any]:
    store = context.store
    linked = store.cs_linked_to(mv.mv_id) if mv.mv_id != "(new)" else []
    if all(item.cs_id != source.cs_id for item in linked):
        linked.append(source)  # linked by this preview's decision
    # As sync (OutboundWriter.write): a connector's target object gets the outbound rules'
    # decision; without one, a source it joined gets export flow only.
    by_target = {cs.connector: cs for cs in linked if is_target_object(cs, outbound_names)}
    by_source = {cs.connector: cs for cs in linked if not is_target_object(cs, outbound_names)}
    targets: dict[str, Any] = {}
    for name in context.targets():
        current = by_target.get(name)
        args = (context.outbound(name), context.multi_valued(name), context.parameters(name))
        if current is None and name in by_source:
            current = by_source[name]
            state = joined_source_state(mv, *args)
        else:
            state = target_state(mv, current, *args)
        entry: dict[str, Any] = {
            "action": state.action.value,
            "dn": state.dn or (current.dn if current else None),
            "rules_in_scope": [rule.name for rule in state.rules],
            "attributes": {
                attr: {"values": _show(vals), "rule": state.lineage.get(attr)}
                for attr, vals in sorted(state.attributes.items())
            },
            "errors": [
                {"rule": e.rule, "attribute": e.attribute, "message": e.message}
                for e in state.errors
            ],
        }
        entry["pending_export"] = _pending(current, state)
        targets[name] = entry
    return targets


def _pending(current: CSObject | None, state: Any) -> dict[str, Any] | None:
    if state.errors:
        return None
    if current is None:
        if state.action.value != "provision":
            return None
        return {
            "kind": "add",
            "changes": {k: _show(v) for k, v in sorted(state.attributes.items()) if v},
        }
    if state.action.value == "deprovision":
        return {"kind": "delete", "changes": {}}
    pending = with_pending(current, state).pending_export
    if pending is None:
        return None
    return {
        "kind": pending.kind.value,
        "changes": {k: _show(v) for k, v in sorted(pending.changes.items())},
    }


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
