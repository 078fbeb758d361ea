"""Evaluations per second of the userType expression, against hand-written Python.

Usage: uv run python bench/expressions.py [EVALUATIONS] [--json]

Both sides evaluate the same objects in the same run, so the ratio does not depend on
the machine; the target is at least 300,000 evaluations/s and a ratio under 4.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping

from hybridsync.errors import ExpressionUserError
from hybridsync.expressions import compile_expression

USER_TYPE = (
    "IIF(IsPresent([userPrincipalName]),"
    'IIF(CBool(InStr(LCase([userPrincipalName]),"@partners.fabrikam123.org")=0),'
    '"Member","Guest"),'
    'Error("UserPrincipalName is not present to determine UserType"))'
)


def hand_written(attributes: Mapping[str, object]) -> str:
    """The same logic as USER_TYPE, written directly in Python."""
    upn = attributes.get("userPrincipalName")
    if upn is None or upn == "":
        raise ExpressionUserError("UserPrincipalName is not present to determine UserType")
    assert isinstance(upn, str)
    return "Member" if upn.lower().find("@partners.fabrikam123.org") < 0 else "Guest"


def _objects(count: int) -> list[dict[str, object]]:
    domains = ["contoso.com", "Partners.Fabrikam123.org", "fabrikam.com"]
    return [
        {"userPrincipalName": f"user{index}@{domains[index % len(domains)]}"}
        for index in range(count)
    ]


def _time(evaluate: Callable[[Mapping[str, object]], object],
          objects: list[dict[str, object]]) -> float:  # fmt: skip
    start = time.perf_counter()
    for attributes in objects:
        evaluate(attributes)
    return time.perf_counter() - start


def _rates(
    candidates: list[Callable[[Mapping[str, object]], object]],
    objects: list[dict[str, object]],
    repeats: int,
) -> list[float]:
    """Best rate of each candidate; passes alternate so that both see the same load."""
    best = [float("inf")] * len(candidates)
    for _ in range(repeats):
        for index, evaluate in enumerate(candidates):
            best[index] = min(best[index], _time(evaluate, objects))
    return [len(objects) / seconds for seconds in best]


def main(argv: list[str]) -> dict[str, float]:
    count = int(next((arg for arg in argv if arg.isdigit()), "200000"))
    objects = _objects(count)
    compiled = compile_expression(USER_TYPE)
    assert [compiled.evaluate(o) for o in objects[:6]] == [hand_written(o) for o in objects[:6]]
    expression_rate, python_rate = _rates([compiled.evaluate, hand_written], objects, repeats=7)
    result = {
        "evaluations": count,
        "expression_per_second": round(expression_rate),
        "python_per_second": round(python_rate),
        "ratio": round(python_rate / expression_rate, 2),
    }
    if "--json" in argv:
        print(json.dumps(result))
    else:
        print(f"userType expression : {result['expression_per_second']:>12,} evaluations/s")
        print(f"hand-written Python : {result['python_per_second']:>12,} evaluations/s")
        print(f"ratio (python/expr) : {result['ratio']:>12}x   (target: >= 300,000/s, <= 4x)")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
