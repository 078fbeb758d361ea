"""Sync on demand: one object through every step now, with a report of each step.

The steps, as Entra's "provision on demand" shows them:

1. import: the object is read from its source (that object only) and stored in the
   connector space as a delta import would store it;
2. scope and join: the rules that have it in scope (and, for each other rule, the scope
   clause that failed), and the join or projection decision;
3. metaverse: each attribute that changes, before and after, with the rule that set it;
4. export: for each target, the change sent for this object only, the target's answer
   and its id for the object, confirmed by reading the object back.

Each step that writes is an ordinary run (a delta import, a delta sync, an export
restricted to the object), recorded in the history with a note naming the key, so the
safety checks apply as to any run: staging mode exports nothing (the report shows what
would be sent), and the deletion threshold guards a delete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hybridsync.core.objects import CSObject
from hybridsync.core.ports import (
    ExportKind,
    ImportedObject,
    OutOfScope,
    SupportsExport,
    SupportsReadObject,
)
from hybridsync.core.rules import ScopeClause, ScopeOperator, SyncRule
from hybridsync.core.scope import MemberOf, clause_holds
from hybridsync.engine.context import EngineContext
from hybridsync.engine.export import check_deletion_threshold, export_objects
from hybridsync.engine.imports import import_one
from hybridsync.engine.membership import GroupMembership
from hybridsync.engine.on_demand_export import Recorder, sent, staged
from hybridsync.engine.preview import preview, show_values
from hybridsync.engine.report import Profile, RunReport
from hybridsync.engine.sync import sync_objects
from hybridsync.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from hybridsync.engine.runner import Engine

__all__ = ["sync_object"]

Work = Callable[[RunReport], None]
"""What a run does (``Engine.run``'s ``work``)."""


def sync_object(
    engine: Engine,
    connector: str,
    key: str,
    *,
    allow_deletes: bool = False,
    on_run: Callable[[RunReport], None] | None = None,
) -> dict[str, Any]:
    """Sync the object ``key`` (DN, UPN or anchor) of source ``connector`` now;
    ``on_run`` is told of each run as it ends (the service counts them in its metrics).

    Raises:
        NotFoundError: the source holds no object with that key.
        ConfigError: the connector cannot read one object.
    """
    found = _read(engine.context, connector, key)
    report: dict[str, Any] = {"key": key, "connector": connector, "runs": []}
    if isinstance(found, OutOfScope):
        report["status"] = "out-of-scope"
        report["scope"] = {"in_scope": False, "reason": f"{found.dn}: {found.reason}"}
        report["export"] = []
        return report
    return _OnDemand(engine, connector, key, report, on_run).run(found, allow_deletes)


def _read(context: EngineContext, name: str, key: str) -> ImportedObject | OutOfScope:
    source = context.connector(name)
    if not isinstance(source, SupportsReadObject):
        raise ConfigError(f"connector {name!r} cannot read one object (sync on demand)")
    found = source.read_object(key)
    if found is None:
        raise NotFoundError(f"connector {name!r} has no object with the DN, UPN or anchor {key!r}")
    return found


class _OnDemand:
    """The steps of one on-demand sync, each adding its part to ``report``."""

    def __init__(
        self,
        engine: Engine,
        connector: str,
        key: str,
        report: dict[str, Any],
        on_run: Callable[[RunReport], None] | None,
    ) -> None:
        self._engine = engine
        self._on_run = on_run
        self._context = engine.context
        self._name = connector
        self._key = key
        self.report = report
        self._runs: list[RunReport] = []

    def run(self, imported: ImportedObject, allow_deletes: bool) -> dict[str, Any]:
        if not self._import(imported):
            return self._ended("stopped")
        cs = self._context.store.cs_by_anchor(self._name, imported.anchor)
        if cs is None:  # the store refused it: the import run's errors say why
            return self._ended("failed")
        planned = preview(self._context, self._name, cs.anchor or cs.dn)
        self._scope(cs, planned)
        self.report["metaverse"] = _metaverse_changes(planned)
        if not allow_deletes and not self._deletes_allowed(planned):
            return self._ended("stopped")
        before = self._linked_targets(planned["join"]["metaverse_object"])
        if not self._step(Profile.DELTA_SYNC, [cs.cs_id]):
            return self._ended("stopped")
        self._errors_of_sync()
        pending = self._pending_exports(cs.cs_id, before)
        if self._context.settings.staging_mode:
            self.report["export"] = [staged(target, obj) for target, obj in pending]
            return self._ended("staging")
        self.report["export"] = self._export(pending, allow_deletes)
        return self._ended(_outcome(self.report))

    # --- steps ------------------------------------------------------------------------

    def _import(self, imported: ImportedObject) -> bool:
        run = self._run(Profile.DELTA_IMPORT, self._name,
                        lambda r: import_one(self._context, self._name, imported, r))  # fmt: skip
        counts = run.counts
        change = "added" if counts.get("added") else "updated" if counts.get("updated") else None
        self.report["import"] = {
            "dn": imported.dn,
            "anchor": imported.anchor,
            "object_type": imported.object_type,
            "change": change or "unchanged",
            "values": {n: show_values(v) for n, v in sorted(imported.attributes.items())},
        }
        return not run.status.stopped

    def _scope(self, cs: CSObject, planned: dict[str, Any]) -> None:
        join = planned["join"]
        rules = planned["rules_in_scope"]
        member_of = GroupMembership(self._context.store).member_of(cs)
        filtered = _filtered(self._context, cs, rules, member_of)
        in_scope = (bool(rules) or join["action"] == "keep") and filtered is None
        self.report["scope"] = {
            "in_scope": in_scope,
            **({"filtered": filtered} if filtered else {}),
            "rules_in_scope": rules,
            "rules_out_of_scope": _out_of_scope(self._context, cs, rules, member_of),
            "join": {
                "action": join["action"],
                "rule": join["rule"],
                "metaverse_object": join["metaverse_object"],
                "steps": join["steps"],
                "error": join["error"],
            },
        }

    def _deletes_allowed(self, planned: dict[str, Any]) -> bool:
        """Whether the deletes the sync would stage stay under the threshold, checked
        before the sync: a refused delete is not staged, so the same command with
        ``allow_deletes`` still finds it to send."""
        deleting = {
            target
            for target, entry in planned.get("targets", {}).items()
            if (entry["pending_export"] or {}).get("kind") == ExportKind.DELETE.value
        }
        join = planned["join"]
        if join["action"] == "disconnect":
            # The metaverse object may go, and its target objects with it (unless another
            # source keeps it): checked as the deletes it may cause.
            linked = self._context.store.get_cs_many(
                sorted(self._linked_targets(join["metaverse_object"]))
            )
            deleting |= {cs.connector for cs in linked}
        if self._context.settings.staging_mode:
            return True
        refused = []
        for target in sorted(deleting):
            run = self._run(Profile.EXPORT, target, _threshold_check(self._context, target))
            if run.status.stopped:
                refused.append({"target": target, "action": ExportKind.DELETE.value,
                                "attributes": {}, "outcome": "not sent", "message": run.message,
                                "target_id": None, "confirmed": None})  # fmt: skip
        self.report["export"] = refused
        return not refused

    def _errors_of_sync(self) -> None:
        self.report["errors"] = [
            {"connector": e.connector, "dn": e.dn, "rule": e.rule, "attribute": e.attribute,
             "message": e.message}
            for run in self._sync_runs() for e in run.errors
        ]  # fmt: skip

    def _linked_targets(self, mv_id: str | None) -> set[str]:
        if mv_id is None:
            return set()
        targets = set(self._context.targets())
        return {cs.cs_id for cs in self._context.store.cs_linked_to(mv_id)
                if cs.connector in targets}  # fmt: skip

    def _pending_exports(self, cs_id: str, before: set[str]) -> list[tuple[str, CSObject]]:
        """Each target's objects of this object's metaverse object with a change to send
        (those it was linked to before the sync too: a deprovisioned one is unlinked)."""
        store = self._context.store
        current = store.get_cs_many([cs_id])
        mv_id = current[0].mv_id if current else None
        ids = sorted(before | self._linked_targets(mv_id))
        pending = [cs for cs in store.get_cs_many(ids) if cs.pending_export is not None]
        order = {name: index for index, name in enumerate(self._context.targets())}
        pending.sort(key=lambda cs: (order.get(cs.connector, len(order)), cs.dn))
        return [(cs.connector, cs) for cs in pending]

    def _export(
        self, pending: Sequence[tuple[str, CSObject]], allow_deletes: bool
    ) -> list[dict[str, Any]]:
        shown: list[dict[str, Any]] = []
        for target in dict.fromkeys(name for name, _ in pending):
            ids = [cs.cs_id for name, cs in pending if name == target]
            connector = self._context.connector(target)
            assert isinstance(connector, SupportsExport)  # it has pending exports
            recorder = Recorder(connector)
            work = _exporting(self._context, recorder, target, ids, allow_deletes)
            run = self._run(Profile.EXPORT, target, work)
            shown.extend(sent(target, recorder, run, self._context))
        return shown

    # --- runs -------------------------------------------------------------------------

    def _run(self, profile: Profile, connector: str, work: Work) -> RunReport:
        run = self._engine.run(connector, profile, work=_noted(work, self._key))
        self.report["runs"].append(
            {"connector": connector, "profile": profile.value, "run_id": run.run_id,
             "status": run.status.value, "message": run.message}
        )  # fmt: skip
        self._runs.append(run)
        if self._on_run is not None:
            self._on_run(run)
        return run

    def _step(self, profile: Profile, ids: list[str]) -> bool:
        """The sync of these objects of the source; whether it went through."""

        def work(run: RunReport) -> None:
            sync_objects(self._context, self._name, ids, run)

        return not self._run(profile, self._name, work).status.stopped

    def _sync_runs(self) -> Iterator[RunReport]:
        return (run for run in self._runs if run.profile is not Profile.EXPORT)

    def _ended(self, status: str) -> dict[str, Any]:
        self.report["status"] = status
        self.report.setdefault("export", [])
        return self.report


def _exporting(
    context: EngineContext, recorder: Recorder, target: str, ids: list[str], allow_deletes: bool
) -> Work:
    def work(run: RunReport) -> None:
        export_objects(context, recorder, target, ids, run, allow_deletes=allow_deletes)

    return work


def _threshold_check(context: EngineContext, target: str) -> Work:
    def check(run: RunReport) -> None:
        check_deletion_threshold(context, target, coming=1)

    return check


def _noted(work: Work, key: str) -> Work:
    def noted(run: RunReport) -> None:
        run.notes.append(f"sync on demand: {key}")
        work(run)

    return noted


def _filtered(
    context: EngineContext, cs: CSObject, in_scope: Sequence[str], member_of: MemberOf
) -> str | None:
    """Why ``[filter] group`` keeps the object out of the cloud, or ``None``: its rule has
    the object in scope when it is not a direct member, and marks it ``cloudFiltered``,
    which the outbound rules leave out (other rules having it in scope change nothing)."""
    group = context.settings.filter_groups.get(cs.connector)
    if group is None or member_of(group):
        return None
    filtering = any(
        rule.name in in_scope and _names_group(rule, group)
        for rule in context.inbound(cs.connector).rules
    )
    return f"filtered out by [filter] group (not a direct member of {group})" if filtering else None


def _names_group(rule: SyncRule, group: str) -> bool:
    return any(
        clause.operator is ScopeOperator.ISNOTMEMBEROF and clause.value.lower() == group.lower()
        for scope_group in rule.scope
        for clause in scope_group.clauses
    )


def _out_of_scope(
    context: EngineContext, cs: CSObject, in_scope: Sequence[str], member_of: MemberOf
) -> list[dict[str, Any]]:
    """Each of the connector's rules for this object type that does not have it in
    scope, with the first failing clause of each of its scope groups."""
    shown: list[dict[str, Any]] = []
    for rule in context.inbound(cs.connector).rules:
        if rule.source_object_type != cs.object_type or rule.name in in_scope:
            continue
        shown.append({"rule": rule.name, "failed": _failed_clauses(rule, cs, member_of)})
    return shown


def _failed_clauses(rule: SyncRule, cs: CSObject, member_of: MemberOf) -> list[str]:
    failed: list[str] = []
    for group in rule.scope:
        clause = next(
            (c for c in group.clauses if not clause_holds(c, cs.attributes, member_of)), None
        )
        if clause is not None:
            failed.append(_clause_text(clause, cs, member_of))
    return failed


_MEMBERSHIP = frozenset({ScopeOperator.ISMEMBEROF, ScopeOperator.ISNOTMEMBEROF})


def _clause_text(clause: ScopeClause, cs: CSObject, member_of: MemberOf) -> str:
    """The clause and what it was evaluated on: the attribute's values, or, for a
    membership clause, the direct membership in the group (not the attribute)."""
    if clause.operator in _MEMBERSHIP:
        member = "is" if member_of(clause.value) else "is not"
        return f"{clause.operator.value} {clause.value!r} (the object {member} a direct member)"
    values = show_values(cs.attributes.get(clause.attribute, ()))
    has = ", ".join(map(str, values)) if values else "no value"
    return f"{clause.attribute} {clause.operator.value} {clause.value!r} (the object has {has})"


def _metaverse_changes(planned: dict[str, Any]) -> dict[str, Any]:
    """Each metaverse attribute whose values change, before -> after, with its rule."""
    values: dict[str, Any] = planned.get("metaverse", {})
    changes = [
        {"attribute": name, "before": item["before"] or [], "after": item["values"],
         "rule": item["rule"]}
        for name, item in values.items()
        if (item["before"] or []) != item["values"]
    ]  # fmt: skip
    return {
        "object": planned["join"]["metaverse_object"],
        "deleted": bool(planned.get("metaverse_deleted")),
        "changes": changes,
        "errors": planned["errors"],
    }


def _outcome(report: dict[str, Any]) -> str:
    """``synced``, ``errors`` (an export refused or not answered, an object error),
    ``stopped`` (a run stopped: the threshold, a lost connection) or
    ``nothing-to-export``."""
    if any(run["status"].startswith("stopped") for run in report["runs"]):
        return "stopped"
    exports = report["export"]
    if report.get("errors") or any(e["outcome"] in ("rejected", "unknown") for e in exports):
        return "errors"
    return "synced" if exports else "nothing-to-export"
