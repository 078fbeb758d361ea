"""Attribute flow planned once per set of in-scope rules, then run for each object.

:func:`~hybridsync.core.flows.contributions` and :func:`~hybridsync.core.flows.resolve`
state the semantics one contribution at a time. A sync runs the same few rule sets for
every object, so what depends on the rules alone is worked out once, here: which flows
run (apply-once ones only when creating), which flows feed each target attribute in
precedence order, and whether they all merge as Update. :meth:`FlowPlan.outcome` is
that plan compiled to one function (:mod:`~hybridsync.core.flowgen`), giving what the
inbound and outbound code need; :meth:`FlowPlan.run` walks the plan and gives each
target's :class:`~hybridsync.core.flows.Resolved`. Both give the outcome and the errors
of ``resolve(contributions(...))`` (``tests/unit/core/test_flowplan.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import partial
from typing import Any

from hybridsync.core.convert import expression_input
from hybridsync.core.flowgen import RunPlan, Step, Target, compile_plan, in_order, resolve_target
from hybridsync.core.flows import (
    Contribution,
    FlowError,
    FlowOutcome,
    Kind,
    Resolved,
    contributions,
    flow_value,
    merge_family,
    resolve,
)
from hybridsync.core.rules import FlowType, MergeType, SyncRule
from hybridsync.core.values import Values
from hybridsync.errors import ExpressionEvalError


class FlowPlan:
    """The flows of some rules, ordered for resolution; see the module documentation."""

    __slots__ = ("_needs_input", "_steps", "_targets", "outcome", "rules", "source")

    outcome: RunPlan
    """``outcome(attributes, multi_valued, parameters) -> FlowOutcome``: the plan's
    generated function (an attribute, not a method: one call less per object)."""
    source: str
    """The generated function's Python source."""

    def __init__(
        self, rules: tuple[SyncRule, ...], *, creating: bool, reference: bool = False
    ) -> None:
        self.rules = rules
        steps: list[Step] = [
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
        targets = []
        for target, numbers in by_target.items():
            # sorted() is stable: one rule's flows into one target keep their order
            ordered = tuple(
                sorted(numbers, key=lambda n: (steps[n][0].precedence, steps[n][0].name))
            )
            updates_only = all(
                merge_family(steps[n][1].merge_type) is MergeType.UPDATE for n in numbers
            )
            targets.append(Target(target, ordered, tuple(steps[n] for n in ordered), updates_only))
        self._targets = tuple(targets)
        self._steps = tuple(steps)
        self._needs_input = any(step[1].flow_type is FlowType.EXPRESSION for step in steps)
        if reference:
            self.outcome, self.source = partial(_reference_outcome, rules, creating), ""
        else:
            self.outcome, self.source = compile_plan(
                self._steps, self._targets, needs_input=self._needs_input
            )

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
        for target in self._targets:
            outcome = resolve_target(
                target, [kinds[n] for n in target.numbers], [values[n] for n in target.numbers],
                conflicts,
            )  # fmt: skip
            if outcome is not None:
                resolved[target.name] = outcome
        errors.extend(in_order(conflicts))
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


def _reference_outcome(
    rules: tuple[SyncRule, ...],
    creating: bool,
    attributes: Mapping[str, Values],
    multi_valued: Collection[str],
    parameters: Mapping[str, str],
) -> FlowOutcome:
    """What the reference statement of the semantics gives: every rule's contributions,
    resolved together (``resolve(contributions(...))``)."""
    found: list[Contribution] = []
    errors: list[FlowError] = []
    for rule in rules:
        items, failed = contributions(rule, attributes, multi_valued, parameters, creating=creating)
        found.extend(items)
        errors.extend(failed)
    resolved, conflicts = resolve(found)
    return FlowOutcome.of(resolved, [*errors, *conflicts])
