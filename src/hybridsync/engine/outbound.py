"""Applying outbound decisions (:class:`~hybridsync.core.plan.TargetPlan`): provisioning,
export flow, deprovisioning, disconnecting, reverse join."""

from __future__ import annotations

from dataclasses import replace

from hybridsync.core.objects import CSObject, MVObject, ObjectError, PendingExport
from hybridsync.core.outbound import TargetAction, TargetState
from hybridsync.core.plan import TargetPlan, provisioned_attributes
from hybridsync.core.ports import ExportKind
from hybridsync.core.runs import ErrorKind
from hybridsync.core.storage import Store
from hybridsync.core.storage_limits import storable_problem
from hybridsync.core.values import Values
from hybridsync.engine.context import EngineContext
from hybridsync.engine.ids import new_id
from hybridsync.engine.report import RunReport


class StoreTargetSpace:
    """The reverse join's view of the targets' connector spaces, through the store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._unlinked: dict[str, int] = {}
        """Unlinked objects per target, counted once (a sync only links them)."""

    def has_unlinked(self, connector: str) -> bool:
        if connector not in self._unlinked:
            self._unlinked[connector] = self._store.count_unlinked(connector)
        return bool(self._unlinked[connector])

    def by_dn(self, connector: str, dn: str) -> CSObject | None:
        return self._store.cs_by_dn(connector, dn)

    def ids_by_value(
        self, connector: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        return self._store.cs_ids_by_value(connector, attribute, values, case_sensitive)

    def objects(self, ids: list[str]) -> list[CSObject]:
        return self._store.get_cs_many(ids)


class OutboundWriter:
    """Writes the target decisions of one batch's MV objects to the store."""

    def __init__(
        self, context: EngineContext, errors: list[ObjectError], report: RunReport
    ) -> None:
        self.context = context
        self.errors = errors
        self.report = report
        self.space = StoreTargetSpace(context.store)
        """The reverse join's view of the targets, kept for the batch."""

    def apply(self, mv: MVObject | None, plan: TargetPlan) -> None:
        """Bring one target connector in line with ``mv`` (``None``: it was deleted)."""
        store = self.context.store
        state = plan.state
        if state.errors:
            where = plan.current.dn if plan.current else (mv.mv_id if mv else "")
            self._record(plan.connector, where, state)
            return
        if plan.result is not None:
            if plan.reverse_joined is not None:
                store.put_cs(plan.result)
                self.report.count("reverse-joined")
            elif plan.result != plan.current:
                store.put_cs(plan.result)
            return
        if plan.flow_back:
            return
        if state.action is TargetAction.PROVISION:
            assert mv is not None
            self._provision(plan.connector, mv, state)
        elif state.action is TargetAction.DEPROVISION:
            assert plan.current is not None
            self._deprovision(plan.current)
        elif state.action is TargetAction.DISCONNECT:
            assert plan.current is not None
            store.put_cs(replace(plan.current, mv_id=None, joined_by=None))
            self.report.count("disconnected")

    def _record(self, name: str, dn: str, state: TargetState) -> None:
        for error in state.errors:
            self.errors.append(
                ObjectError(
                    name, dn, error.message, None, error.rule, error.attribute, ErrorKind.OUTBOUND
                )
            )

    def _provision(self, name: str, mv: MVObject, state: TargetState) -> None:
        rule = state.provisioning_rule
        assert rule is not None
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
        self.context.store.put_cs(
            CSObject(
                new_id(),
                name,
                None,
                dn,
                rule.target_object_type,
                {},
                mv_id=mv.mv_id,
                joined_by=rule.name,
                pending_export=PendingExport(ExportKind.ADD, provisioned_attributes(state)),
            )
        )
        self.report.count("provisioned")

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
