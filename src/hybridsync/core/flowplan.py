"""Attribute flow planned once per set of in-scope rules, then run for each object.

:func:`~hybridsync.core.flows.contributions` and :func:`~hybridsync.core.flows.resolve`
state the semantics one contribution at a time. A sync runs the same few rule sets for
every object, so what depends on the rules alone is worked out once, here: which flows
run (apply-once ones only when creating), which flows feed each target attribute in
precedence order, and whether they all merge as Update. Running a plan evaluates each
flow once and walks each target's flows in that order, without building and sorting a
contribution per flow. The outcome and the errors are those of
``resolve(contributions(...))`` (``tests/unit/core/test_flowplan.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from hybridsync.core.convert import expression_input
from hybridsync.core.flows import (
    Contribution,
    FlowError,
    Kind,
    Resolved,
    flow_value,
    merge_family,
    resolve_items,
)
from hybridsync.core.rules import AttributeFlow, FlowType, MergeType, SyncRule
from hybridsync.core.values import Values
from hybridsync.errors import ExpressionEvalError, SyncError

_Step = tuple[SyncRule, AttributeFlow, str | None, bool]
"""A flow to run: its rule, the flow, its first source, whether it is a plain copy."""
_Target = tuple[str, tuple[int, ...], bool]
"""A target attribute: its flows (step numbers) by precedence, whether all are Update."""


class FlowPlan:
    """The flows of some rules, ordered for resolution; see the module documentation."""

    __slots__ = ("_needs_input", "_steps", "_targets", "rules")

    def __init__(self, rules: tuple[SyncRule, ...], *, creating: bool) -> None:
        self.rules = rules
        steps: list[_Step] = [
            (
                rule,
                flow,
                flow.sources[0] if flow.sources else None,
                flow.flow_type is FlowType.DIRECT and not flow.allowed_values,
            )
            for rule in rules
            if rule.flows_attributes
            for flow in rule.flows
            if creating or not flow.apply_once
        ]
        by_target: dict[str, list[int]] = {}
        for number, (_, flow, _, _) in enumerate(steps):
            by_target.setdefault(flow.target, []).append(number)
        self._targets: tuple[_Target, ...] = tuple(
            (
                target,
                # sorted() is stable: one rule's flows into one target keep their order
                tuple(sorted(numbers, key=lambda n: (steps[n][0].precedence, steps[n][0].name))),
                all(merge_family(steps[n][1].merge_type) is MergeType.UPDATE for n in numbers),
            )
            for target, numbers in by_target.items()
        )
        self._steps = tuple(steps)
        self._needs_input = any(step[1].flow_type is FlowType.EXPRESSION for step in steps)

    def run(
        self,
        attributes: Mapping[str, Values],
        multi_valued: Collection[str],
        parameters: Mapping[str, str],
    ) -> tuple[dict[str, Resolved], list[FlowError]]:
        """The winning values per target attribute; flow errors, then conflicts."""
        kinds, values, errors = self._evaluate(attributes, multi_valued, parameters)
        resolved: dict[str, Resolved] = {}
        conflicts: list[tuple[int, FlowError]] = []
        steps = self._steps
        for target, numbers, updates_only in self._targets:
            if updates_only and len(numbers) == 1:
                # the common case, one Update flow: the loop below with a single step
                number = numbers[0]
                if kinds[number] is not None:  # else the flow failed: as if it did not exist
                    resolved[target] = _one_update(kinds[number], values[number], steps[number])
                continue
            if updates_only:
                outcome = _updates(numbers, kinds, values, steps)
                if outcome is not None:
                    resolved[target] = outcome
                continue
            present = [
                Contribution(steps[n][0], steps[n][1], kind, values[n])
                for n in numbers
                if (kind := kinds[n]) is not None
            ]
            if not present:
                continue
            try:
                resolved[target] = resolve_items(present)
            except SyncError as exc:
                # reported in the order the targets' first contributions came
                first = min(n for n in numbers if kinds[n] is not None)
                conflicts.append((first, FlowError(present[0].rule.name, target, str(exc))))
        errors.extend(conflict for _, conflict in sorted(conflicts, key=lambda item: item[0]))
        return resolved, errors

    def _evaluate(
        self,
        attributes: Mapping[str, Values],
        multi_valued: Collection[str],
        parameters: Mapping[str, str],
    ) -> tuple[list[Kind | None], list[Values], list[FlowError]]:
        """Each flow's kind and values (kind ``None``: the flow failed, see the errors)."""
        kinds: list[Kind | None] = []
        values: list[Values] = []
        errors: list[FlowError] = []
        source: dict[str, Any] | None = (
            expression_input(attributes, multi_valued) if self._needs_input else None
        )
        for rule, flow, first_source, plain in self._steps:
            if plain:
                found = attributes.get(first_source, ()) if first_source is not None else ()
                kinds.append(Kind.VALUE if found else Kind.NULL)
                values.append(found)
                continue
            try:
                kind, found = flow_value(flow, attributes, source, parameters)
            except ExpressionEvalError as exc:
                errors.append(FlowError(rule.name, flow.target, exc.message))
                kinds.append(None)
                values.append(())
                continue
            kinds.append(kind)
            values.append(found)
        return kinds, values, errors


def _updates(
    numbers: tuple[int, ...], kinds: list[Kind | None], values: list[Values], steps: Sequence[_Step]
) -> Resolved | None:
    """Update semantics, written out: the outcome of a target fed by several Update flows
    (``None``: none of them ran)."""
    ran = contributed = False
    for number in numbers:
        kind = kinds[number]
        if kind is None:
            continue  # the flow failed: as if it did not exist
        ran = True
        if kind is Kind.IGNORE:
            continue
        contributed = True
        if kind is Kind.VALUE:
            return Resolved(values[number], steps[number][0].name)
        if kind is Kind.AUTHORITATIVE_NULL:
            return Resolved((), steps[number][0].name)
    return Resolved((), None, keep=not contributed) if ran else None


def _one_update(kind: Kind | None, values: Values, step: _Step) -> Resolved:
    """The outcome of a target fed by one Update flow that ran."""
    if kind is Kind.VALUE:
        return Resolved(values, step[0].name)
    if kind is Kind.AUTHORITATIVE_NULL:
        return Resolved((), step[0].name)
    return Resolved((), None, keep=kind is Kind.IGNORE)  # IGNORE keeps; NULL clears


_PLANS: dict[tuple[tuple[int, ...], bool], FlowPlan] = {}
"""Plans by the identity of their rules: a plan holds its rules, so ids stay unique."""


def plan_for(rules: Sequence[SyncRule], *, creating: bool) -> FlowPlan:
    """The plan of these rules (built on first use; a sync asks for a handful)."""
    key = (tuple(map(id, rules)), creating)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= 512:
            _PLANS.clear()  # rule sets replaced many times over (tests): start afresh
        plan = _PLANS[key] = FlowPlan(tuple(rules), creating=creating)
    return plan
