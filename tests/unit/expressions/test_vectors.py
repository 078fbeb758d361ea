"""Every expression vector (tests/data/vectors/expressions.json), loaded from the file itself."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from tests.conftest import DATA

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import IGNORE_THIS_FLOW, MultiValue, compile_expression
from hybridsync.expressions.datetimes import iso

VECTORS: list[dict[str, Any]] = json.loads(
    (DATA / "vectors" / "expressions.json").read_text(encoding="utf-8")
)


def _evaluate(vector: dict[str, Any]) -> object:
    compiled = compile_expression(vector["expression"])
    return compiled.evaluate(vector.get("attributes") or {}, vector.get("parameters"))


def _check_value(kind: str, expected: object, actual: object) -> None:
    if kind == "datetime":
        assert isinstance(actual, datetime)
        assert iso(actual) == expected
    elif kind == "mvstring":
        assert isinstance(actual, MultiValue)
        assert list(actual) == expected
    elif kind == "null":
        assert actual is None
    elif kind == "range":
        low, high = expected  # type: ignore[misc]
        assert isinstance(actual, int)
        assert low <= actual <= high
    elif kind == "ignore_this_flow":
        assert actual is IGNORE_THIS_FLOW
    elif kind == "boolean":
        assert actual is expected
    else:
        assert type(actual) is {"string": str, "number": int}[kind]
        assert actual == expected


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['id']}-{v['function']}" for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    if vector["expected_type"] == "error":
        with pytest.raises(ExpressionEvalError) as raised:
            _evaluate(vector)
        if vector["expected"] is not None:
            assert raised.value.message == vector["expected"]
        return
    _check_value(vector["expected_type"], vector["expected"], _evaluate(vector))


def test_the_vector_file_is_not_empty() -> None:
    assert len(VECTORS) >= 70
