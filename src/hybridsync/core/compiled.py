"""Rules compiled once, when they are loaded: scope selectors and flow plans.

A sync asks the same few questions of every object: which of a connector's inbound (or a
target's outbound) rules apply to it and have it in scope, and what those rules' flows
give. :class:`CompiledRuleSet` answers them for a whole :class:`RuleSet`: one
:class:`CompiledRules` per connector and direction, each with its generated selector
(:mod:`hybridsync.core.scopegen`) and the flow plans (:mod:`hybridsync.core.flowplan`) of
the sets of rules found in scope, built on first use and kept with the rules that made
them. Nothing is global: whoever loads the rules owns what was compiled from them, and
a compiled rule set may be shared between threads.

With ``reference=True`` the same questions are answered by the reference statements of
the semantics (:mod:`hybridsync.core.scope`, :mod:`hybridsync.core.flows`), not by
generated code: the switch that confirms or rules out a code-generation bug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hybridsync.core.flowplan import FlowPlan
from hybridsync.core.rules import Direction, RuleSet, SyncRule
from hybridsync.core.scope import MemberOf, in_scope
from hybridsync.core.scopegen import RuleSelector, compile_rules
from hybridsync.core.values import Values


class CompiledRules:
    """Some rules (one connector, one direction, in precedence order), compiled."""

    __slots__ = ("_plans", "_select", "reference", "rules")

    def __init__(self, rules: Sequence[SyncRule], *, reference: bool = False) -> None:
        self.rules = tuple(rules)
        self.reference = reference
        self._select: RuleSelector = (
            _reference_selector(self.rules) if reference else compile_rules(self.rules)
        )
        self._plans: dict[tuple[tuple[str, ...], bool], FlowPlan] = {}

    def in_scope(
        self,
        object_type: str,
        attributes: Mapping[str, Values],
        member_of: MemberOf | None = None,
    ) -> tuple[SyncRule, ...]:
        """The rules that apply to ``object_type`` and have the object in scope, in order."""
        return self._select(object_type, attributes, member_of)

    def plan(self, in_scope_rules: Sequence[SyncRule], *, creating: bool) -> FlowPlan:
        """The flow plan of some of these rules (built on first use, then kept).

        Rule names are unique in a rule set (the loader refuses a second definition), so
        the names of the rules in scope say which plan they need.
        """
        key = (tuple(rule.name for rule in in_scope_rules), creating)
        plan = self._plans.get(key)
        if plan is None:
            # Threads sharing these rules may both build it (a plan is pure, so both are
            # right); setdefault is atomic, so every caller gets the one that was kept.
            built = FlowPlan(tuple(in_scope_rules), creating=creating, reference=self.reference)
            plan = self._plans.setdefault(key, built)
        return plan

    def __len__(self) -> int:
        return len(self.rules)


def compiled(rules: Sequence[SyncRule] | CompiledRules) -> CompiledRules:
    """``rules`` compiled (compiled rules as they are; a plain list now, kept nowhere)."""
    return rules if isinstance(rules, CompiledRules) else CompiledRules(rules)


def _reference_selector(rules: tuple[SyncRule, ...]) -> RuleSelector:
    def select(
        object_type: str, attributes: Mapping[str, Values], member_of: MemberOf | None = None
    ) -> tuple[SyncRule, ...]:
        return tuple(
            rule
            for rule in rules
            if rule.applies_to(object_type) and in_scope(rule.scope, attributes, member_of)
        )

    return select


class CompiledRuleSet:
    """A rule set compiled: every connector's inbound and outbound rules."""

    __slots__ = ("_inbound", "_none", "_outbound", "outbound_names", "reference", "rules")

    def __init__(self, rules: RuleSet, *, reference: bool = False) -> None:
        self.rules = rules
        self.reference = reference
        connectors = dict.fromkeys(rule.connector for rule in rules.rules)
        self._inbound = {
            name: CompiledRules(rules.inbound(name), reference=reference) for name in connectors
        }
        self._outbound = {
            name: CompiledRules(rules.outbound(name), reference=reference) for name in connectors
        }
        self._none = CompiledRules((), reference=reference)
        self.outbound_names = frozenset(
            rule.name for rule in rules.rules if rule.direction is Direction.OUTBOUND
        )
        """Every outbound rule's name, disabled ones included (see ``is_target_object``)."""

    def inbound(self, connector: str) -> CompiledRules:
        return self._inbound.get(connector, self._none)

    def outbound(self, connector: str) -> CompiledRules:
        return self._outbound.get(connector, self._none)
