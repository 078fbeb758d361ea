"""Scoping benchmark: the built-in rules' scope asked of N users, inbound and outbound.

Measures, in one run, the compiled selectors (``rules_in_scope`` and
``outbound_rules_in_scope``, as a sync calls them) beside the baseline: the reference
semantics in :mod:`hybridsync.core.scope` (``applies_to`` and ``in_scope`` per rule), run
over the same objects. Both must select the same rules for every object. The users look
like the engine benchmark's: mostly enabled, some disabled, a few filtered by
``adminDescription`` or marked critical; their MV objects carry ``cloudFiltered`` and
``sourceObjectType`` as the inbound rules set them.

Usage: ``uv run python bench/scope.py [N]`` (default 100,000).
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from hybridsync.config.rules import load_rules
from hybridsync.config.settings import builtin_rule_source
from hybridsync.core.compiled import CompiledRules
from hybridsync.core.inbound import rules_in_scope
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.outbound import outbound_rules_in_scope
from hybridsync.core.rules import SyncRule
from hybridsync.core.scope import in_scope
from hybridsync.core.values import Values

T = TypeVar("T", CSObject, MVObject)
Selection = Callable[[T], tuple[SyncRule, ...]]


def user_attributes(index: int) -> dict[str, Values]:
    attributes: dict[str, Values] = {
        "sAMAccountName": (f"u{index:06d}",),
        "userAccountControl": (514 if index % 20 == 0 else 512,),
        "department": ("Sales",),
    }
    if index % 50 == 0:
        attributes["adminDescription"] = (f"User_{index}",)
    if index % 1000 == 0:
        attributes["isCriticalSystemObject"] = (True,)
    return attributes


def reference(rules: tuple[SyncRule, ...], item: CSObject | MVObject) -> tuple[SyncRule, ...]:
    """The rules in scope, as the reference semantics state them."""
    return tuple(
        r for r in rules if r.applies_to(item.object_type) and in_scope(r.scope, item.attributes)
    )


def cpu(
    action: Callable[[], list[tuple[SyncRule, ...]]],
) -> tuple[float, list[tuple[SyncRule, ...]]]:
    """The best CPU time of three runs, and the answers."""
    best, answers = float("inf"), []
    for _ in range(3):
        started = time.process_time()
        answers = action()
        best = min(best, time.process_time() - started)
    return best, answers


def compare(label: str, objects: Sequence[T], base: Selection[T], compiled: Selection[T]) -> bool:
    """Print both CPU times; whether both selected the same rules for every object."""
    base_cpu, expected = cpu(lambda: [base(o) for o in objects])
    compiled_cpu, found = cpu(lambda: [compiled(o) for o in objects])
    per_object = 1e6 / len(objects)
    print(
        f"{label:<9} reference {base_cpu:6.3f} s CPU ({base_cpu * per_object:5.2f} µs/object)  "
        f"compiled {compiled_cpu:6.3f} s CPU ({compiled_cpu * per_object:5.2f} µs/object)  "
        f"{base_cpu / compiled_cpu:5.1f}x faster  "
        f"{'same rules' if found == expected else 'DIFFERENT RULES'}"
    )
    return found == expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=100_000)
    count: int = parser.parse_args(argv).users
    ruleset = load_rules([builtin_rule_source("ad", "cloud")])
    inbound, outbound = ruleset.inbound("ad"), ruleset.outbound("cloud")
    users = [
        CSObject(str(i), "ad", str(i), f"CN=u{i}", "user", user_attributes(i)) for i in range(count)
    ]
    people = [
        MVObject(
            str(i), "person", {"cloudFiltered": (i % 1000 == 0,), "sourceObjectType": ("User",)}
        )
        for i in range(count)
    ]
    gc.collect()
    gc.freeze()  # the objects stay: collections measure the benchmark's lists, not scoping
    print(f"{count:,} users; {len(inbound)} inbound and {len(outbound)} outbound built-in rules")
    compiled_inbound, compiled_outbound = CompiledRules(inbound), CompiledRules(outbound)
    same = [
        compare(
            "inbound",
            users,
            lambda o: reference(inbound, o),
            lambda o: rules_in_scope(compiled_inbound, o),
        ),
        compare(
            "outbound",
            people,
            lambda o: reference(outbound, o),
            lambda o: outbound_rules_in_scope(compiled_outbound, o),
        ),
    ]
    return 0 if all(same) else 1


if __name__ == "__main__":
    raise SystemExit(main())
