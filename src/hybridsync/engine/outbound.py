"""Writing outbound decisions: provisioning, export flow, deprovisioning, reverse join."""

from __future__ import annotations

from dataclasses import replace

from hybridsync.core.objects import CSObject, MVObject, ObjectError, PendingExport
from hybridsync.core.outbound import (
    TargetAction,
    TargetState,
    attribute_changes,
    joined_source_state,
    target_state,
)
from hybridsync.core.ports import ExportKind
from hybridsync.core.rules import SyncRule
from hybridsync.core.runs import ErrorKind
from hybridsync.core.storage_limits import storable_problem
from hybridsync.engine.context import EngineContext
from hybridsync.engine.ids import new_id
from hybridsync.engine.report import RunReport


class OutboundWriter:
    def __init__(
        self, context: EngineContext, errors: list[ObjectError], report: RunReport
    ) -> None:
        self.context = context
        self.errors = errors
        self.report = report
        self._unlinked: dict[str, int] = {}

    def write(
        self,
        mv: MVObject | None,
        linked_targets: list[CSObject],
        joined_sources: list[CSObject] | None = None,
    ) -> None:
        """Bring every target connector in line with ``mv`` (``None``: it was deleted).

        ``joined_sources`` are the objects inbound rules joined to ``mv``: a connector
        with outbound rules of its own (the ConsistencyGuid write-back) gets export
        attribute flow into them.
        """
        by_connector = {cs.connector: cs for cs in linked_targets}
        sources = {cs.connector: cs for cs in joined_sources or ()}
        for name in self.context.targets():
            linked = by_connector.get(name)
            if linked is None and mv is not None and name in sources:
                self._flow_back(name, mv, sources[name])
                continue
            state = target_state(
                mv,
                linked,
                self.context.outbound(name),
                self.context.multi_valued(name),
                self.context.parameters(name),
            )
            if state.errors:
                self._record(name, linked.dn if linked else (mv.mv_id if mv else ""), state)
                continue
            self._apply(name, mv, linked, state)

    def _flow_back(self, name: str, mv: MVObject, source: CSObject) -> None:
        state = joined_source_state(
            mv,
            self.context.outbound(name),
            self.context.multi_valued(name),
            self.context.parameters(name),
        )
        if state.errors:
            self._record(name, source.dn, state)
            return
        updated = with_pending(source, state)
        if updated != source:
            self.context.store.put_cs(updated)

    def _record(self, name: str, dn: str, state: TargetState) -> None:
        for error in state.errors:
            self.errors.append(
                ObjectError(
                    name, dn, error.message, None, error.rule, error.attribute, ErrorKind.OUTBOUND
                )
            )

    def _apply(
        self, name: str, mv: MVObject | None, linked: CSObject | None, state: TargetState
    ) -> None:
        store = self.context.store
        if state.action is TargetAction.PROVISION:
            assert mv is not None
            assert state.provisioning_rule is not None
            self._provision(name, mv, state, state.provisioning_rule)
        elif state.action is TargetAction.FLOW:
            assert linked is not None
            updated = with_pending(linked, state)
            if updated != linked:
                store.put_cs(updated)
        elif state.action is TargetAction.DEPROVISION:
            assert linked is not None
            self._deprovision(linked)
        elif state.action is TargetAction.DISCONNECT:
            assert linked is not None
            store.put_cs(replace(linked, mv_id=None, joined_by=None))
            self.report.count("disconnected")

    def _provision(self, name: str, mv: MVObject, state: TargetState, rule: SyncRule) -> None:
        store = self.context.store
        found = self._reverse_join(name, mv, state, rule)
        if found is not None:
            store.put_cs(with_pending(replace(found, mv_id=mv.mv_id, joined_by=rule.name), state))
            self.report.count("reverse-joined")
            return
        dn = state.dn or f"CN={mv.mv_id}"
        problem = storable_problem(None, dn, rule.target_object_type)
        if problem is not None:  # not provisioned: the next sync tries again
            attribute, reason = problem
            shown = dn if attribute != "dn" else f"{dn[:200]}..."
            message = f"cannot be provisioned: {reason}"
            self.errors.append(
                ObjectError(name, shown, message, None, rule.name, attribute, ErrorKind.OUTBOUND)
            )
            return
        attributes = {k: v for k, v in state.attributes.items() if v}
        store.put_cs(
            CSObject(
                new_id(),
                name,
                None,
                dn,
                rule.target_object_type,
                {},
                mv_id=mv.mv_id,
                joined_by=rule.name,
                pending_export=PendingExport(ExportKind.ADD, attributes),
            )
        )
        self.report.count("provisioned")

    def _reverse_join(
        self, name: str, mv: MVObject, state: TargetState, rule: SyncRule
    ) -> CSObject | None:
        store = self.context.store
        if name not in self._unlinked:
            self._unlinked[name] = store.count_unlinked(name)
        if not self._unlinked[name]:
            return None  # nothing unlinked in the target: nothing to join to
        if state.dn:
            existing = store.cs_by_dn(name, state.dn)
            if existing is not None and existing.mv_id is None:
                return existing
        for group in rule.join:
            found: set[str] | None = None
            for clause in group.clauses:
                values = mv.attributes.get(clause.source_attribute, ())
                hits = (
                    store.cs_ids_by_value(
                        name, clause.target_attribute, values, clause.case_sensitive
                    )
                    if values
                    else set()
                )
                found = hits if found is None else found & hits
            candidates = [cs for cs in store.get_cs_many(sorted(found or ())) if cs.mv_id is None]
            if len(candidates) == 1:
                return candidates[0]
        return None

    def _deprovision(self, linked: CSObject) -> None:
        store = self.context.store
        if linked.anchor is None and not linked.export_in_flight:
            store.delete_cs(linked.cs_id)  # never reached the directory: nothing to delete there
        else:
            store.put_cs(
                replace(
                    linked,
                    mv_id=None,
                    joined_by=None,
                    pending_export=PendingExport(ExportKind.DELETE),
                )
            )
        self.report.count("deprovisioned")


def with_pending(linked: CSObject, state: TargetState) -> CSObject:
    """The target object with the pending export that brings it to the desired state."""
    dn = state.dn or linked.dn
    if linked.anchor is None and not linked.export_in_flight:
        attributes = {k: v for k, v in state.attributes.items() if v}
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
