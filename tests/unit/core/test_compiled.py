"""A rule set compiled once: owned by whoever loaded it, shared safely between threads."""

from __future__ import annotations

import threading

import pytest

from hybridsync.core.compiled import CompiledRules, CompiledRuleSet
from hybridsync.core.rules import (
    AttributeFlow,
    Direction,
    FlowType,
    LinkType,
    RuleSet,
    ScopeClause,
    ScopeGroup,
    ScopeOperator,
    SyncRule,
)
from hybridsync.engine.settings import REFERENCE_ENV, EngineSettings

STAFF = ScopeGroup((ScopeClause("department", ScopeOperator.NOTEQUAL, "Partners"),))


def rule(name: str, direction: Direction, connector: str, precedence: int) -> SyncRule:
    return SyncRule(
        name, direction, connector, "user", "person", LinkType.PROVISION, precedence,
        scope=(STAFF,), flows=(AttributeFlow("displayName", FlowType.DIRECT, ("cn",)),),
    )  # fmt: skip


RULES = RuleSet.of([
    rule("in", Direction.INBOUND, "ad", 10),
    rule("out", Direction.OUTBOUND, "cloud", 20),
    SyncRule("off", Direction.OUTBOUND, "cloud", "person", "user", LinkType.PROVISION, 30,
             disabled=True),
])  # fmt: skip


def test_each_connector_and_direction_is_compiled_once_with_its_enabled_rules() -> None:
    compiled = CompiledRuleSet(RULES)
    assert [r.name for r in compiled.inbound("ad").rules] == ["in"]
    assert [r.name for r in compiled.outbound("cloud").rules] == ["out"]
    assert compiled.inbound("ad") is compiled.inbound("ad")
    assert len(compiled.inbound("cloud")) == 0  # no rules: an empty set, never an error
    assert compiled.outbound_names == {"out", "off"}  # disabled ones too: they still own links


def test_threads_sharing_compiled_rules_get_one_plan_per_set_of_rules() -> None:
    compiled = CompiledRuleSet(RULES).inbound("ad")
    in_scope = compiled.in_scope("user", {"department": ("Sales",)})
    assert [r.name for r in in_scope] == ["in"]
    start = threading.Barrier(8)
    plans: list[object] = []

    def build() -> None:
        start.wait()
        plans.append(compiled.plan(in_scope, creating=True))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(plans) == 8
    assert all(plan is plans[0] for plan in plans)


@pytest.mark.parametrize("reference", [False, True])
def test_both_paths_give_the_same_answers(reference: bool) -> None:
    rules = CompiledRules(RuleSet.of([rule("in", Direction.INBOUND, "ad", 10)]).rules,
                          reference=reference)  # fmt: skip
    assert rules.in_scope("user", {"department": ("Partners",)}) == ()
    (found,) = rules.in_scope("USER", {"department": ("Sales",)})
    outcome = rules.plan((found,), creating=True).outcome({"cn": ("Ann",)}, (), {})
    assert outcome.values == {"displayName": ("Ann",)}
    assert outcome.lineage == {"displayName": "in"}
    assert (rules.plan((found,), creating=True).source == "") is reference


def test_the_environment_variable_switches_the_engine_to_the_reference_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(REFERENCE_ENV, "1")
    assert EngineSettings().reference_evaluation
    monkeypatch.setenv(REFERENCE_ENV, "0")
    assert not EngineSettings().reference_evaluation
    monkeypatch.delenv(REFERENCE_ENV)
    assert not EngineSettings().reference_evaluation
    assert EngineSettings(reference_evaluation=True).reference_evaluation
