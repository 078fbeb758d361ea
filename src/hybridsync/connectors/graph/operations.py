"""Sans-I/O export logic: which request each change needs, and what each answer means.

Nothing here sends anything; :mod:`hybridsync.connectors.graph.connector` sends what
these functions prepare.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from hybridsync.connectors.graph import groups, mapping
from hybridsync.connectors.graph.client import BatchItemResponse
from hybridsync.connectors.graph.errors import Verdict, classify
from hybridsync.core.ports import ExportChange, ExportKind, ExportOutcome, ExportResult
from hybridsync.core.values import Values
from hybridsync.errors import ObjectRejectedError
from hybridsync.json_types import JsonObject


@dataclass(frozen=True, slots=True)
class Operation:
    """One Graph write for one export change."""

    change: ExportChange
    method: str
    path: str
    body: JsonObject | None = None
    anchor: str | None = None
    """The cloud object's id when it is known before writing (update, delete, matched add)."""
    member_ref: bool = False
    """A member added to or removed from a group (``.../members/$ref``)."""

    @property
    def idempotent(self) -> bool:
        """PATCH and DELETE may be sent twice; a POST may not (it would create twice),
        except a member's: adding one twice is refused as already done."""
        return self.method != "POST" or self.member_ref

    def batch_request(self, request_id: str) -> JsonObject:
        item: JsonObject = {"id": request_id, "method": self.method, "url": self.path}
        if self.body is not None:
            item["headers"] = {"Content-Type": "application/json"}
            item["body"] = self.body
        return item


def user_path(anchor: str) -> str:
    return f"/users/{quote(anchor, safe='')}"


def odata_literal(value: str) -> str:
    """A string literal for ``$filter`` (single quotes doubled, as OData requires)."""
    return "'" + value.replace("'", "''") + "'"


def _attributes(change: ExportChange) -> dict[str, tuple[Any, ...]]:
    return {c.name: c.values for c in change.changes}


def plan(change: ExportChange, target: mapping.Target, matched: Mapping[str, str]) -> Operation:
    """The request for one change.

    Args:
        change: the pending export.
        target: what the target directory accepts.
        matched: cloud user ids of adds that matched an existing user, by change id.

    Raises:
        ObjectRejectedError: the change cannot be written (the message names the attribute).
    """
    if change.kind is ExportKind.DELETE:
        return Operation(change, "DELETE", user_path(_anchor(change)), anchor=_anchor(change))
    if change.kind is ExportKind.UPDATE:
        body = mapping.patch_body(_attributes(change).items(), target)
        return Operation(change, "PATCH", user_path(_anchor(change)), body, _anchor(change))
    existing = matched.get(change.change_id)
    if existing is not None:
        # Hard (or soft) match: the add takes the existing user over and writes every
        # attribute, as Entra Connect does on a match.
        body = mapping.patch_body(_attributes(change).items(), target)
        body = {key: value for key, value in body.items() if value is not None}
        return Operation(change, "PATCH", user_path(existing), body, existing)
    if mapping.immutable_id(_attributes(change)) is None:
        raise ObjectRejectedError(
            "onPremisesImmutableId: required on a new cloud user (it is the match key "
            "that keeps a retried create from making a duplicate)"
        )
    return Operation(change, "POST", "/users", mapping.create_body(_attributes(change), target))


def plan_all(
    change: ExportChange, target: mapping.Target, matched: Mapping[str, str], graph_root: str
) -> list[Operation]:
    """The requests for one change: :func:`plan` for its properties, and one for its
    manager (``PUT``/``DELETE .../manager/$ref``), sent in the same ``$batch``.

    Raises:
        ObjectRejectedError: the change cannot be written (the message names the attribute).
    """
    if groups.is_group_change(change):
        return plan_group(change, target, graph_root)
    managers = [c for c in change.changes if mapping.is_manager(c.name)]
    if not managers:
        return [plan(change, target, matched)]
    if change.kind is not ExportKind.UPDATE:
        raise ObjectRejectedError(
            f"manager: set on an existing user only, not with a {change.kind.value}"
        )
    rest = replace(change, changes=tuple(c for c in change.changes if c not in managers))
    # A PATCH left with nothing to write is applied without a request (the connector's
    # _without_empty_patches); the manager's request goes out either way.
    return [plan(rest, target, matched), manager_operation(change, managers[-1].values, graph_root)]


def manager_operation(change: ExportChange, values: Values, graph_root: str) -> Operation:
    """Set the user's manager to the cloud user ``values`` names, or remove it."""
    anchor = _anchor(change)
    path = f"{user_path(anchor)}/manager/$ref"
    if not values:
        return Operation(change, "DELETE", path, anchor=anchor)
    if len(values) > 1:
        raise ObjectRejectedError(f"manager: {len(values)} values for a single-valued reference")
    manager = str(values[0])
    if not _CLOUD_ID.fullmatch(manager):
        raise ObjectRejectedError(f"manager: {manager!r} is not a cloud object id")
    body: JsonObject = {"@odata.id": f"{graph_root.rstrip('/')}{user_path(manager)}"}
    return Operation(change, "PUT", path, body, anchor)


_CLOUD_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def plan_group(change: ExportChange, target: mapping.Target, graph_root: str) -> list[Operation]:
    """The requests for a change to a group: create, delete, or a PATCH of its
    properties and one request per member added or removed (see ``groups``).

    Raises:
        ObjectRejectedError: the change cannot be written (the message names the attribute).
    """
    if change.kind is ExportKind.ADD:
        body = groups.create_body(_attributes(change), target, graph_root)
        return [Operation(change, "POST", "/groups", body)]
    anchor = groups.needs_anchor(change)
    path = groups.group_path(anchor)
    if change.kind is ExportKind.DELETE:
        return [Operation(change, "DELETE", path, anchor=anchor)]
    body = groups.patch_body(_attributes(change).items(), target)
    # An empty PATCH is applied without a request (the connector's _without_empty_patches).
    operations = [Operation(change, "PATCH", path, body, anchor)]
    added, removed = groups.member_changes(change)
    for member in added:
        reference: JsonObject = {"@odata.id": groups.member_reference(member, graph_root)}
        operations.append(
            Operation(change, "POST", f"{path}/members/$ref", reference, anchor, member_ref=True)
        )
    for member in removed:
        member_path = f"{path}/members/{quote(member, safe='')}/$ref"
        operations.append(Operation(change, "DELETE", member_path, anchor=anchor, member_ref=True))
    return operations


def merged(results: list[ExportResult]) -> list[ExportResult]:
    """One result per change when a change took several requests: the first that was
    not applied, else the applied one that names the object's anchor."""
    by_change: dict[str, ExportResult] = {}
    for result in results:
        known = by_change.get(result.change_id)
        if known is None or _worse(result, known):
            by_change[result.change_id] = result
    return list(by_change.values())


def _worse(result: ExportResult, known: ExportResult) -> bool:
    if known.outcome is not ExportOutcome.APPLIED:
        return False
    return result.outcome is not ExportOutcome.APPLIED or (
        known.anchor is None and result.anchor is not None
    )


def _anchor(change: ExportChange) -> str:
    if not change.anchor:
        raise ObjectRejectedError(f"{change.kind.value} of {change.dn} has no cloud anchor")
    return change.anchor


def _created(operation: Operation, user: JsonObject, target: mapping.Target) -> ExportResult:
    """An applied create: the new user's id, and what the directory holds beyond the
    change: what the connector filled in (``accountEnabled``, ``mailNickname``, the
    synced-user marker) and what the created user the directory returned shows."""
    anchor = str(user.get("id") or "") or None
    sent = {mapping.ALIASES.get(c.name.lower(), c.name).lower() for c in operation.change.changes}
    read = (
        groups.attributes_from_group
        if groups.is_group_change(operation.change)
        else mapping.attributes_from_user
    )
    held = read(operation.body or {}, target)
    held.update(read(user, target))
    written = {name: values for name, values in held.items() if name.lower() not in sent}
    return ExportResult(operation.change.change_id, ExportOutcome.APPLIED, anchor, written=written)


def _already_done(operation: Operation, item: BatchItemResponse) -> bool:
    # A member already removed answers 404: the DELETE case below takes it.
    return (
        operation.method == "POST"
        and item.status == 400
        and "already exist" in item.error().message.lower()
    )


def outcome(
    operation: Operation, item: BatchItemResponse, target: mapping.Target
) -> ExportResult | Verdict:
    """The result of one ``$batch`` item, or the verdict to act on (retry, reauth)."""
    change_id = operation.change.change_id
    if operation.member_ref and _already_done(operation, item):
        # A member added or removed before (a retry after a lost answer, or by someone else).
        return ExportResult(change_id, ExportOutcome.APPLIED, operation.anchor)
    if operation.method == "DELETE" and item.status == 404:
        # Already gone: the delete was done before (a crash or a cloud-side delete).
        return ExportResult(change_id, ExportOutcome.APPLIED, operation.anchor)
    error = item.error() if item.status >= 300 else None
    verdict = classify(item.status, operation.method, error)
    if verdict is Verdict.DONE:
        if operation.method == "POST" and isinstance(item.body, dict):
            return _created(operation, item.body, target)
        return ExportResult(change_id, ExportOutcome.APPLIED, operation.anchor)
    assert error is not None
    if verdict is Verdict.REJECT:
        message = error.describe()
        if operation.method == "PATCH" and item.status == 404:
            message = f"the cloud user {operation.anchor} no longer exists: {message}"
        return ExportResult(change_id, ExportOutcome.REJECTED, message=message)
    if verdict in (Verdict.UNKNOWN, Verdict.FATAL):
        return ExportResult(change_id, ExportOutcome.UNKNOWN, message=error.describe())
    return verdict
