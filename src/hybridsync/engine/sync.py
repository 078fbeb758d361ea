"""Full and delta synchronization: inbound to the metaverse, outbound to targets.

Each batch of connector-space objects is one transaction: the objects' link and
pending-import state, the metaverse objects they affect, and the pending exports those
produce in every target commit together. A delta sync reads only the objects with a
pending import, so its cost follows the changes, never the directory's size.
"""

from __future__ import annotations

from dataclasses import replace

from hybridsync.core.convert import value_key
from hybridsync.core.flows import FlowError
from hybridsync.core.inbound import LinkAction, rules_in_scope
from hybridsync.core.objects import CSObject, MVObject, ObjectError, PendingImport
from hybridsync.core.outbound import is_target_object
from hybridsync.core.plan import LinkPlan, MetaversePlan, plan_link, plan_metaverse
from hybridsync.core.rules import SyncRule
from hybridsync.core.values import Values
from hybridsync.engine.context import EngineContext
from hybridsync.engine.faults import checkpoint
from hybridsync.engine.ids import new_id
from hybridsync.engine.membership import GroupMembership
from hybridsync.engine.outbound import OutboundWriter
from hybridsync.engine.references import StoreReferences, referrers
from hybridsync.engine.report import RunReport, Status
from hybridsync.errors import RunStopped


class StoreJoinLookup:
    """The join decision's view of the metaverse, through the store.

    ``prefetch`` reads the candidates of a whole batch in one query per join clause,
    so that joining N objects costs a few queries, not N.
    """

    def __init__(self, context: EngineContext) -> None:
        self._store = context.store
        self._known: dict[tuple[str, bool], dict[str, set[str]]] = {}

    def prefetch(self, objects: list[CSObject], rules: tuple[SyncRule, ...]) -> None:
        clauses = {
            (clause.source_attribute, clause.target_attribute, clause.case_sensitive)
            for rule in rules
            for group in rule.join
            for clause in group.clauses
        }
        for source, target, case_sensitive in clauses:
            values = [v for cs in objects for v in cs.attributes.get(source, ())]
            found = (
                self._store.ids_by_values("mv", target, values, case_sensitive) if values else {}
            )
            self._known[(target, case_sensitive)] = found

    def candidates(self, attribute: str, values: Values, case_sensitive: bool) -> set[str]:
        known = self._known.get((attribute, case_sensitive))
        if known is None:
            return self._store.cs_ids_by_value("mv", attribute, values, case_sensitive)
        found: set[str] = set()
        for value in values:
            key = value_key(value) if case_sensitive else value_key(value).lower()
            found |= known.get(key, set())
        return found

    def has_link(self, mv_id: str, connector: str) -> bool:
        return any(cs.connector == connector for cs in self._store.cs_linked_to(mv_id))


def synchronize(context: EngineContext, name: str, report: RunReport, *, full: bool) -> None:
    membership = GroupMembership(context.store, report.notes)  # groups read once per run
    _require_filter_group(context, name, membership)
    store = context.store
    state = store.connector_state(name)
    if not full and (state.full_sync_required or state.rules_hash != context.rules.content_hash):
        raise RunStopped(
            Status.STOPPED_FULL_SYNC_REQUIRED,
            f"connector {name!r}: the sync rules changed since the last full sync "
            "(rule set hash differs); run a full sync",
        )
    if full:
        # Objects provisioned by outbound rules have nothing to sync until an import
        # brings them new values (BatchSync.inbound skips them): not even read.
        ids = store.cs_ids_to_sync(name, context.compiled.outbound_names)
    else:
        ids = store.cs_ids(name, pending_only=True)
    size = context.settings.batch_size
    context.control.expect(report, len(ids))
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        with store.transaction():
            errors = _sync_batch(context, name, batch, report, membership)
            store.record_errors(report.run_id, errors)
        checkpoint()
        report.errors.extend(errors)
        if len(report.errors) > context.settings.error_limit:
            raise RunStopped(
                Status.STOPPED_ERROR_LIMIT,
                f"more than {context.settings.error_limit} object errors; the run stopped "
                "(the batches before were kept)",
            )
        context.control.committed(report, len(batch))
    if full:
        with store.transaction():
            store.put_connector_state(
                replace(
                    store.connector_state(name),
                    rules_hash=context.rules.content_hash,
                    full_sync_required=False,
                )
            )


def sync_objects(context: EngineContext, name: str, ids: list[str], report: RunReport) -> None:
    """Synchronize these objects only (sync on demand): one batch, as a delta sync would,
    whatever their pending import."""
    membership = GroupMembership(context.store, report.notes)
    _require_filter_group(context, name, membership)
    with context.store.transaction():
        errors = _sync_batch(context, name, ids, report, membership)
        context.store.record_errors(report.run_id, errors)
    report.errors.extend(errors)


def _require_filter_group(context: EngineContext, name: str, membership: GroupMembership) -> None:
    """Stop before syncing when the connector's ``[filter] group`` is not in its space:
    no member would be left, so every synced object would be deleted in the cloud."""
    group = context.settings.filter_groups.get(name)
    if group is None or membership.holds(name, group):
        return
    raise RunStopped(
        Status.STOPPED_FILTER_GROUP_MISSING,
        f"[filter] group = {group!r}: connector {name!r} holds no such group (misspelled, "
        "deleted, or outside the connector's scope); nothing was synced, so no object left "
        "scope for it",
    )


def _sync_batch(
    context: EngineContext,
    name: str,
    ids: list[str],
    report: RunReport,
    membership: GroupMembership,
) -> list[ObjectError]:
    batch = BatchSync(context, name, report, membership)
    objects = context.store.get_cs_many(ids)
    batch.lookup.prefetch(
        [cs for cs in objects if cs.mv_id is None], tuple(r for r in batch.rules.rules if r.joins)
    )
    for cs in objects:
        batch.inbound(cs)
    batch.add_referrers()
    batch.recompute()
    return batch.errors


class BatchSync:
    """One batch: link decisions first, then each affected MV object once."""

    def __init__(
        self,
        context: EngineContext,
        name: str,
        report: RunReport,
        membership: GroupMembership,
    ) -> None:
        self.context = context
        self.membership = membership
        self.name = name
        self.report = report
        self.errors: list[ObjectError] = []
        self.scoped: dict[str, tuple[SyncRule, ...]] = {}
        """In-scope inbound rules of the objects this batch looked at (attributes unchanged)."""
        self._outbound_names = context.compiled.outbound_names
        self.written: dict[str, CSObject] = {}
        """CS objects this batch wrote, by id (the store has them too)."""
        self.affected: dict[str, bool] = {}
        """MV ids to recompute -> whether the MV object is new in this batch."""
        self.relinked: set[str] = set()
        """DNs of the objects whose link this batch made, changed or removed: the
        references that name them now name another metaverse object, or none."""
        self.lookup = StoreJoinLookup(context)
        self.references = StoreReferences(
            context.store, self._outbound_names, context.dn_referencing()
        )
        """What references name; read again for ``recompute``, after the link decisions."""
        self.outbound = OutboundWriter(context, self.errors, report)
        self.rules = context.inbound(name)

    def inbound(self, cs: CSObject) -> None:
        store = self.context.store
        if cs.pending_import is PendingImport.DELETE:
            if cs.mv_id:
                self.affected.setdefault(cs.mv_id, False)
                self.relinked.add(cs.dn)
            store.delete_cs(cs.cs_id)
            self.report.count("deleted")
            return
        if cs.mv_id and self._linked_by_outbound(cs):
            # A target object: its MV object needs another look only when new values
            # were imported for it (they may differ from what the rules want).
            if cs.pending_import is not PendingImport.NONE:
                self.affected.setdefault(cs.mv_id, False)
                done = replace(cs, pending_import=PendingImport.NONE)
                store.put_links([done])
                self.written[done.cs_id] = done
            return
        plan = plan_link(
            cs, self.rules, self.membership.member_of(cs), self.lookup, self._outbound_names
        )
        self.scoped[cs.cs_id] = plan.rules_in_scope
        decision = plan.decision
        if decision.error:
            self._error(cs, decision.error, decision.rule.name if decision.rule else None)
            return
        self._apply_link(plan)

    def _apply_link(self, plan: LinkPlan) -> None:
        action, cs = plan.decision.action, plan.cs
        mv_id = plan.decision.mv_id or cs.mv_id
        if action is LinkAction.PROJECT:
            mv_id = new_id()
            self.affected[mv_id] = True  # counted as projected once its flows succeed
        elif action is LinkAction.JOIN:
            assert mv_id is not None
            self.affected.setdefault(mv_id, False)
            self.report.count("joined")
        elif action is LinkAction.DISCONNECT:
            assert cs.mv_id is not None
            self.affected.setdefault(cs.mv_id, False)
            self.report.count("disconnected")
        elif action is LinkAction.KEEP:
            assert cs.mv_id is not None
            self.affected.setdefault(cs.mv_id, False)
        if action is not LinkAction.KEEP:
            self.relinked.add(cs.dn)
        done = plan.after(mv_id)
        self.context.change_times.linked(self.name, cs.anchor, done.mv_id)
        self.context.store.put_links([done])
        self.written[done.cs_id] = done

    def _linked_by_outbound(self, cs: CSObject) -> bool:
        return is_target_object(cs, self._outbound_names)  # the one test, shared with preview

    def add_referrers(self) -> None:
        """Recompute the objects whose references name an object this batch linked or
        unlinked: what their references resolve to has changed."""
        found = referrers(
            self.context.store, self.name, self.context.references(self.name), self.relinked
        )
        for cs in found:
            if cs.mv_id is not None and not self._linked_by_outbound(cs):
                self.affected.setdefault(cs.mv_id, False)

    def recompute(self) -> None:
        store = self.context.store
        ids = list(self.affected)
        # An MV object projected in this batch is in no store yet: its only links are
        # the objects of this batch that projected it (one each), so ask only for the others.
        projected_by: dict[str, list[str]] = {}
        for cs in self.written.values():
            if cs.mv_id is not None and self.affected.get(cs.mv_id):
                projected_by.setdefault(cs.mv_id, []).append(cs.cs_id)
        known = [mv_id for mv_id in ids if len(projected_by.get(mv_id, ())) != 1]
        previous = store.get_mv_many(known)
        links = store.links_of(known)
        links.update({mv_id: cs_ids for mv_id, cs_ids in projected_by.items() if len(cs_ids) == 1})
        # Objects this batch just wrote are in memory: read only the others.
        missing = [cs_id for ids_ in links.values() for cs_id in ids_ if cs_id not in self.written]
        loaded = {cs.cs_id: cs for cs in store.get_cs_many(missing)}
        loaded.update(self.written)
        self.references = StoreReferences(
            store, self._outbound_names, self.context.dn_referencing()
        )
        self.references.prefetch(loaded.values(), self.context.references)
        for mv_id in ids:
            linked = [loaded[cs_id] for cs_id in links.get(mv_id, []) if cs_id in loaded]
            self._recompute_one(mv_id, previous.get(mv_id), linked)

    def _recompute_one(self, mv_id: str, previous: MVObject | None, linked: list[CSObject]) -> None:
        plan = plan_metaverse(
            mv_id,
            previous,
            linked,
            creating=self.affected.get(mv_id, False) and previous is None,
            rules=self.context,
            in_scope_of=self._in_scope,
            space=self.outbound.space,
            references=self.references,
        )
        self._apply_metaverse(plan)

    def _apply_metaverse(self, plan: MetaversePlan) -> None:
        store = self.context.store
        if plan.deleted:
            if plan.previous is not None:
                store.delete_mv(plan.mv_id)
                self.report.count("mv-deleted")
            for cs in plan.sources:
                store.put_cs(replace(cs, mv_id=None, joined_by=None, keeps_mv=False))
        elif plan.mv is None:
            self._flow_errors(list(plan.sources), plan.errors, plan.creating)
            return
        elif plan.changed:
            store.put_mv(plan.mv)
            self.report.count("mv-updated" if plan.previous else "mv-added")
            if plan.creating:
                self.report.count("projected")
        for target in plan.targets:
            self.outbound.apply(plan.mv, target)

    def _in_scope(self, cs: CSObject) -> tuple[SyncRule, ...]:
        """The object's in-scope inbound rules: as this batch found them, if it looked."""
        found = self.scoped.get(cs.cs_id)
        if found is not None:  # an empty tuple is an answer too
            return found
        return rules_in_scope(self.context.inbound(cs.connector), cs, self.membership.member_of(cs))

    def _flow_errors(self, linked: list[CSObject], errors: list[FlowError], creating: bool) -> None:
        # The object is not processed further: the metaverse keeps its previous state and
        # the source keeps its pending import, so the next sync tries again.
        store = self.context.store
        for cs in linked:
            if cs.connector != self.name:
                continue
            for error in errors:
                self.errors.append(
                    ObjectError(
                        cs.connector, cs.dn, error.message, cs.anchor, error.rule, error.attribute
                    )
                )
            restored = replace(cs, pending_import=PendingImport.UPDATE)
            if creating:
                restored = replace(
                    restored,
                    mv_id=None,
                    joined_by=None,
                    keeps_mv=False,
                    pending_import=PendingImport.ADD,
                )
            store.put_cs(restored)

    def _error(self, cs: CSObject, message: str, rule: str | None) -> None:
        self.errors.append(ObjectError(cs.connector, cs.dn, message, cs.anchor, rule))
