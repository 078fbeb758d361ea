"""Attribute flow: what each in-scope rule contributes, and which contribution wins.

Precedence: the lowest number wins (ties by rule name). For Update/Replace the first
contributor with a value wins; NULL passes the decision to the next rule;
AuthoritativeNull empties the attribute and stops lower rules; IgnoreThisFlow is as if
the flow did not exist. Merge/MergeCaseInsensitive union the values of every
contributor, down to an AuthoritativeNull. Mixing merge types on one attribute is an
error on the object.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from hybridsync.core.convert import as_values, expression_input, value_key
from hybridsync.core.rules import AttributeFlow, FlowType, MergeType, SyncRule
from hybridsync.core.values import Values
from hybridsync.errors import ExpressionEvalError, SyncError
from hybridsync.expressions import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW


class Kind(enum.Enum):
    """What a flow gave for one object, which decides how it counts against other rules."""

    VALUE = "value"
    """One or more values."""
    NULL = "null"
    """No value: a rule of lower precedence may give one; if none does, the target is cleared."""
    AUTHORITATIVE_NULL = "authoritative-null"
    """``AuthoritativeNull``: the target is cleared, whatever rules of lower precedence give."""
    IGNORE = "ignore"
    """``IgnoreThisFlow``: as if the flow were not there; alone, it leaves the target as it is."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """One rule's flow into one target attribute, with what it gave for the object."""

    rule: SyncRule
    flow: AttributeFlow
    kind: Kind
    values: Values = ()


@dataclass(frozen=True, slots=True)
class FlowError:
    """A flow that failed for one object: the rule, its target attribute and why."""

    rule: str
    attribute: str
    message: str


@dataclass(frozen=True, slots=True)
class Resolved:
    """The outcome for one target attribute; ``keep`` means leave the current value."""

    values: Values
    rule: str | None
    keep: bool = False


class FlowOutcome(NamedTuple):
    """Every target attribute's outcome for one object, in the form its users read.

    ``values``: the targets a rule decided, in target order (empty: clear it);
    ``lineage``: the rule that decided, where one did; ``kept``: the targets to leave
    as they are (IgnoreThisFlow); ``errors``: flow errors, then conflicts.
    """

    values: dict[str, Values]
    lineage: dict[str, str]
    kept: list[str]
    errors: list[FlowError]

    @classmethod
    def of(cls, resolved: Mapping[str, Resolved], errors: list[FlowError]) -> FlowOutcome:
        """The outcome stated by resolved targets (see :func:`resolve`)."""
        outcome = cls({}, {}, [], errors)
        for target, item in resolved.items():
            if item.keep:
                outcome.kept.append(target)
                continue
            outcome.values[target] = item.values
            if item.rule:
                outcome.lineage[target] = item.rule
        return outcome


def contributions(
    rule: SyncRule,
    attributes: Mapping[str, Values],
    multi_valued: Collection[str],
    parameters: Mapping[str, str],
    *,
    creating: bool,
) -> tuple[list[Contribution], list[FlowError]]:
    """Evaluate every flow of one in-scope rule against a source object."""
    found: list[Contribution] = []
    errors: list[FlowError] = []
    if not rule.flows_attributes:
        return found, errors
    source: dict[str, Any] | None = None
    for flow in rule.flows:
        if flow.apply_once and not creating:
            continue
        if flow.flow_type is FlowType.EXPRESSION and source is None:
            source = expression_input(attributes, multi_valued)
        if flow.flow_type is FlowType.DIRECT and not flow.allowed_values:
            values = attributes.get(flow.sources[0], ()) if flow.sources else ()
            found.append(Contribution(rule, flow, Kind.VALUE if values else Kind.NULL, values))
            continue
        try:
            found.append(contribution_of(rule, flow, attributes, source, parameters))
        except ExpressionEvalError as exc:
            errors.append(FlowError(rule.name, flow.target, exc.message))
    return found, errors


def contribution_of(
    rule: SyncRule,
    flow: AttributeFlow,
    attributes: Mapping[str, Values],
    source: Mapping[str, Any] | None,
    parameters: Mapping[str, str],
) -> Contribution:
    """One flow's contribution (raises ExpressionEvalError when the flow fails)."""
    kind, values = flow_value(flow, attributes, source, parameters)
    return Contribution(rule, flow, kind, values)


def flow_value(
    flow: AttributeFlow,
    attributes: Mapping[str, Values],
    source: Mapping[str, Any] | None,
    parameters: Mapping[str, str],
) -> tuple[Kind, Values]:
    """What one flow gives for an object, allowed values applied (raises
    ExpressionEvalError when the flow fails). ``source`` is the expression input."""
    kind, values = _raw_value(flow, attributes, source, parameters)
    if not flow.allowed_values or kind is not Kind.VALUE:
        return kind, values
    spelling = {value.lower(): value for value in flow.allowed_values}
    normalized = []
    for value in values:
        canonical = spelling.get(str(value).lower()) if isinstance(value, str) else None
        if canonical is None:
            allowed = " or ".join(flow.allowed_values)
            raise ExpressionEvalError(f"invalid {flow.target} value {value!r}: must be {allowed}")
        normalized.append(canonical)
    return Kind.VALUE, tuple(normalized)


def _raw_value(
    flow: AttributeFlow,
    attributes: Mapping[str, Values],
    source: Mapping[str, Any] | None,
    parameters: Mapping[str, str],
) -> tuple[Kind, Values]:
    if flow.flow_type is FlowType.CONSTANT:
        values: Values = () if flow.constant is None else (flow.constant,)
        return (Kind.VALUE if values else Kind.NULL), values
    if flow.flow_type is FlowType.DIRECT:
        values = attributes.get(flow.sources[0], ()) if flow.sources else ()
        return (Kind.VALUE if values else Kind.NULL), values
    assert flow.expression is not None  # the loader compiles every Expression flow
    result = flow.expression.evaluate(source or {}, parameters=parameters)
    if result is IGNORE_THIS_FLOW:
        return Kind.IGNORE, ()
    if result is AUTHORITATIVE_NULL:
        return Kind.AUTHORITATIVE_NULL, ()
    values = as_values(result)
    return (Kind.VALUE if values else Kind.NULL), values


def resolve(found: Iterable[Contribution]) -> tuple[dict[str, Resolved], list[FlowError]]:
    """The winning values per target attribute, from contributions of any rules."""
    by_target: dict[str, list[Contribution]] = {}
    for contribution in found:
        by_target.setdefault(contribution.flow.target, []).append(contribution)
    resolved: dict[str, Resolved] = {}
    errors: list[FlowError] = []
    for target, items in by_target.items():
        try:
            resolved[target] = resolve_items(items)
        except SyncError as exc:
            errors.append(FlowError(items[0].rule.name, target, str(exc)))
    return resolved, errors


def resolve_items(items: list[Contribution]) -> Resolved:
    """The outcome for one target attribute from its contributions (SyncError: mixed
    merge types)."""
    if len(items) == 1 and merge_family(items[0].flow.merge_type) is MergeType.UPDATE:
        return _resolve_update(items)  # the common case: one contributor
    items.sort(key=lambda item: (item.rule.precedence, item.rule.name))
    return _resolve_one(items)


def merge_family(merge_type: MergeType) -> MergeType:
    return MergeType.UPDATE if merge_type is MergeType.REPLACE else merge_type


def _resolve_one(items: list[Contribution]) -> Resolved:
    families = {merge_family(item.flow.merge_type) for item in items}
    if len(families) > 1:
        rules = ", ".join(sorted({item.rule.name for item in items}))
        raise SyncError(f"rules {rules} use different merge types for one attribute")
    family = families.pop()
    if family is MergeType.UPDATE:
        return _resolve_update(items)
    return _resolve_merge(items, case_insensitive=family is MergeType.MERGE_CASE_INSENSITIVE)


def _resolve_update(items: list[Contribution]) -> Resolved:
    contributed = False
    for item in items:
        if item.kind is Kind.IGNORE:
            continue
        contributed = True
        if item.kind is Kind.AUTHORITATIVE_NULL:
            return Resolved((), item.rule.name)
        if item.kind is Kind.VALUE:
            return Resolved(item.values, item.rule.name)
    return Resolved((), None, keep=not contributed)


def _resolve_merge(items: list[Contribution], *, case_insensitive: bool) -> Resolved:
    merged: dict[str, Any] = {}
    rules: list[str] = []
    contributed = False
    for item in items:
        if item.kind is Kind.IGNORE:
            continue
        contributed = True
        if item.kind is Kind.AUTHORITATIVE_NULL:
            break
        if item.values and item.rule.name not in rules:
            rules.append(item.rule.name)
        for value in item.values:
            key = value_key(value)
            merged.setdefault(key.lower() if case_insensitive else key, value)
    if not contributed:
        return Resolved((), None, keep=True)
    return Resolved(tuple(merged.values()), ", ".join(rules) or None)
