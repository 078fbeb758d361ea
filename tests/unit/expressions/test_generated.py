"""Generated code becomes functions in one place: one naming scheme, one error path."""

from __future__ import annotations

import traceback

import pytest

from hybridsync.core.rules import ScopeClause, ScopeGroup, ScopeOperator
from hybridsync.core.scopegen import compile_scope
from hybridsync.expressions.generated import Constants, GeneratedCodeError, define, filename


def test_constants_are_named_once_per_object_and_never_by_their_value() -> None:
    constants = Constants()
    rule, text = object(), "') or True or ('"
    assert constants.name(rule) == "_k0"
    assert constants.name(text) == "_k1"
    assert constants.name(rule) == "_k0"  # the same object: the same name
    assert constants.names == {"_k0": rule, "_k1": text}


def test_a_function_reads_its_runtime_and_its_constants_as_globals() -> None:
    constants = Constants()
    double = define(
        f"def f(x):\n    return _twice(x) + {constants.name(1)}\n",
        "f",
        kind="test",
        runtime={"_twice": lambda x: 2 * x},
        constants=constants,
    )
    assert double(20) == 41


def test_source_python_cannot_compile_is_one_error_naming_the_kind() -> None:
    nested = "(" * 1000 + "1" + ")" * 1000
    with pytest.raises(GeneratedCodeError, match="generated scope filter code does not compile"):
        define(f"def f():\n    return {nested}\n", "f", kind="scope filter", runtime={})


def test_tracebacks_name_the_kind_of_generated_code() -> None:
    clause = ScopeClause("n", ScopeOperator.EQUAL, "x")
    in_scope = compile_scope((ScopeGroup((clause,)),))
    with pytest.raises(AttributeError) as raised:
        in_scope(None, None)  # type: ignore[arg-type]
    files = [frame.filename for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert filename("scope filter") in files
