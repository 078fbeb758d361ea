"""Matching adds to existing cloud users, and sending writes in ``$batch`` requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from hybridsync.connectors.graph import mapping
from hybridsync.connectors.graph.auth import TokenSource
from hybridsync.connectors.graph.budget import ProgressMeter, WriteBudget
from hybridsync.connectors.graph.client import GraphClient, RetryPolicy
from hybridsync.connectors.graph.errors import OutcomeUnknown, Verdict, retry_after
from hybridsync.connectors.graph.operations import Operation, odata_literal, outcome
from hybridsync.core.ports import ExportChange, ExportOutcome, ExportResult
from hybridsync.errors import TransientConnectorError

FILTER_IN_LIMIT = 15
"""Values per ``in (...)`` clause: Graph's documented limit for directory filters."""

THROTTLED = frozenset({429, 503})
MAX_BATCH = 20
"""Requests in one ``$batch``: Graph's limit (a change may need several requests)."""


class Matcher:
    """Finds the cloud users new objects must join instead of being created.

    Hard match: the user whose ``onPremisesImmutableId`` is the add's source anchor.
    Soft match (only when enabled): a user with the same UPN and no immutable id; it is
    taken over and stamped with the source anchor.
    """

    def __init__(self, client: GraphClient, *, soft_match_upn: bool):
        self._client = client
        self._soft_match_upn = soft_match_upn

    def find(self, prop: str, values: Sequence[str], select: str) -> list[dict[str, Any]]:
        """The users whose ``prop`` is one of ``values`` (``in`` filters of 15)."""
        users: list[dict[str, Any]] = []
        for start in range(0, len(values), FILTER_IN_LIMIT):
            chunk = values[start : start + FILTER_IN_LIMIT]
            literals = ",".join(odata_literal(value) for value in chunk)
            query = urlencode({"$filter": f"{prop} in ({literals})", "$select": select})
            for page in self._client.pages(f"/users?{query}"):
                users.extend(page.get("value", []))
        return users

    def find_by_immutable_id(self, anchor: str, select: str) -> dict[str, Any] | None:
        users = self.find("onPremisesImmutableId", [anchor], select)
        return next((u for u in users if u.get("onPremisesImmutableId") == anchor), None)

    def match(self, adds: Sequence[ExportChange]) -> tuple[dict[str, str], list[ExportResult]]:
        """Cloud ids of the adds that match a user, by change id; and refused adds."""
        anchors: dict[str, str] = {}
        upns: dict[str, str] = {}
        for change in adds:
            attributes = {c.name: c.values for c in change.changes}
            anchor = mapping.immutable_id(attributes)
            if anchor is not None:
                anchors[change.change_id] = anchor
            upn = mapping.user_principal_name(attributes)
            if upn is not None:
                upns[change.change_id] = upn
        if not anchors:
            return {}, []
        select = "id,onPremisesImmutableId,userPrincipalName"
        by_anchor = {
            u["onPremisesImmutableId"]: str(u["id"])
            for u in self.find("onPremisesImmutableId", sorted(set(anchors.values())), select)
            if u.get("onPremisesImmutableId")
        }
        matched = {cid: by_anchor[a] for cid, a in anchors.items() if a in by_anchor}
        if not self._soft_match_upn:
            return matched, []
        unmatched = {cid: upns[cid] for cid in anchors if cid not in matched and cid in upns}
        return self._soft_match(unmatched, anchors, matched, select)

    def _soft_match(
        self,
        upns: dict[str, str],
        anchors: dict[str, str],
        matched: dict[str, str],
        select: str,
    ) -> tuple[dict[str, str], list[ExportResult]]:
        found = {
            str(u.get("userPrincipalName", "")).lower(): u
            for u in self.find("userPrincipalName", sorted(set(upns.values())), select)
        }
        rejected: list[ExportResult] = []
        for change_id, upn in upns.items():
            user = found.get(upn.lower())
            if user is None:
                continue
            if user.get("onPremisesImmutableId"):
                rejected.append(
                    ExportResult(
                        change_id,
                        ExportOutcome.REJECTED,
                        message=f"userPrincipalName: {upn} belongs to cloud user {user['id']} "
                        f"with another onPremisesImmutableId ({user['onPremisesImmutableId']}); "
                        f"not matched to source anchor {anchors[change_id]}",
                    )
                )
            else:
                matched[change_id] = str(user["id"])
        return matched, rejected


class BatchSender:
    """Sends operations in one ``$batch`` (<= 20) and resends only the items that must be.

    Throttled items wait for the longest ``Retry-After`` of the batch (plus jitter); a
    create whose answer was lost is reported ``UNKNOWN``, never sent again.
    """

    def __init__(
        self,
        client: GraphClient,
        budget: WriteBudget,
        policy: RetryPolicy,
        tokens: TokenSource,
        meter: ProgressMeter,
        target: mapping.Target,
    ):
        self._client = client
        self._target = target
        self._budget = budget
        self._policy = policy
        self._tokens = tokens
        self.meter = meter

    def send(
        self,
        operations: Sequence[Operation],
        conflicts: dict[str, ExportResult] | None = None,
    ) -> list[ExportResult]:
        """Results of the operations; with ``conflicts``, creates refused because a unique
        value is taken go there (by change id) instead, for the caller to match."""
        pending = {str(index): op for index, op in enumerate(operations)}
        results: list[ExportResult] = []
        started, attempt = self._policy.clock(), 0
        while pending:
            hinted, throttled, last_error = self._round(pending, results, conflicts)
            self.meter.advance(0, throttled)
            if not pending or not self._policy.may_retry(attempt, started, hinted):
                break
            self._policy.wait(attempt, hinted, f"{len(pending)} writes refused ({last_error})")
            attempt += 1
        for op in pending.values():
            results.append(
                ExportResult(
                    op.change.change_id,
                    ExportOutcome.REJECTED,
                    message=f"not written: {self._policy.gave_up(attempt, started, last_error)}; "
                    "retried next run",
                )
            )
        return results

    def _round(
        self,
        pending: dict[str, Operation],
        results: list[ExportResult],
        conflicts: dict[str, ExportResult] | None,
    ) -> tuple[float | None, int, str]:
        """Sends the pending operations once; removes those that got a final result."""
        hinted: float | None = None
        throttled = 0
        last_error = ""
        ids = list(pending)
        size = self._budget.most_at_once(MAX_BATCH)
        for start in range(0, len(ids), size):
            part = {rid: pending[rid] for rid in ids[start : start + size]}
            part_hinted, part_throttled, part_error = self._send_part(part, results, conflicts)
            for rid in ids[start : start + size]:
                if rid not in part:
                    del pending[rid]
            if part_hinted is not None:
                hinted = max(hinted or 0.0, part_hinted)
            throttled += part_throttled
            last_error = part_error or last_error
        return hinted, throttled, last_error

    def _send_part(
        self,
        pending: dict[str, Operation],
        results: list[ExportResult],
        conflicts: dict[str, ExportResult] | None,
    ) -> tuple[float | None, int, str]:
        """One ``$batch`` of at most 20 of the pending operations."""
        self._budget.acquire(len(pending))
        try:
            items = self._client.batch([op.batch_request(rid) for rid, op in pending.items()])
        except (OutcomeUnknown, TransientConnectorError) as exc:
            self._budget.release(len(pending))
            if isinstance(exc, OutcomeUnknown):
                self._settle_lost(pending, results, str(exc), list(pending))
            return None, 0, str(exc)
        except BaseException:
            self._budget.release(len(pending))
            raise
        self._budget.release(len(pending))
        hinted: float | None = None
        throttled = 0
        last_error = ""
        answered: set[str] = set()
        for item in items:
            op = pending.get(item.id)
            if op is None:
                continue
            answered.add(item.id)
            result = outcome(op, item, self._target)
            if isinstance(result, ExportResult):
                if (
                    conflicts is not None
                    and op.method == "POST"
                    and not op.member_ref
                    and item.error().conflict
                ):
                    conflicts[op.change.change_id] = result
                else:
                    results.append(result)
                    self.meter.advance(1)
                del pending[item.id]
                continue
            last_error = item.error().describe()
            if result is Verdict.REAUTH:
                self._tokens.token(refresh=True)
            if item.status in THROTTLED:
                throttled += 1
            delay = retry_after(item.headers)
            if delay is not None:
                hinted = max(hinted or 0.0, delay)
        missing = [rid for rid in pending if rid not in answered]
        self._settle_lost(pending, results, "no answer for this item in the $batch", missing)
        return hinted, throttled, last_error

    def _settle_lost(
        self,
        pending: dict[str, Operation],
        results: list[ExportResult],
        message: str,
        lost: list[str],
    ) -> None:
        """Creates whose answer was lost are UNKNOWN; idempotent writes stay pending."""
        for rid in lost:
            op = pending[rid]
            if not op.idempotent:
                results.append(
                    ExportResult(op.change.change_id, ExportOutcome.UNKNOWN, message=message)
                )
                self.meter.advance(1)
                del pending[rid]
