"""The generated Python: inline fast paths agree with the functions they stand for."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import compile_expression
from hybridsync.expressions.codegen import _FAST_PATHS
from hybridsync.expressions.registry import FUNCTIONS


def _outcome(run: Callable[..., object], *arguments: object) -> tuple[str, object]:
    try:
        return "value", run(*arguments)
    except ExpressionEvalError as error:
        return "error", error.message


_inputs = st.one_of(st.text(max_size=12), st.sampled_from(["", "True", "a@B.c", " x "]))


@pytest.mark.parametrize(("function", "arity"), sorted(_FAST_PATHS))
def test_fast_paths_are_used(function: str, arity: int) -> None:
    arguments = ", ".join(["[a]", *['"@b"'] * (arity - 1)])
    source = compile_expression(f"{function}({arguments})").source
    assert "if type(_a1) is str else" in source or "is True or" in source


@settings(max_examples=200, deadline=None)
@given(value=_inputs, literal=st.text(max_size=3))
@example(value="0\x1f", literal="")  # looks like an integer to the pattern, not to int()
def test_fast_paths_agree_with_the_functions(value: str, literal: str) -> None:
    for function, arity in _FAST_PATHS:
        implementation = FUNCTIONS[function].implementation
        assert implementation is not None
        extra = [literal] * (arity - 1)
        arguments = ", ".join(["[a]", *[f'"{text}"' for text in extra]])
        if '"' in literal or "\\" in literal:
            continue
        compiled = compile_expression(f"{function}({arguments})")
        inline = _outcome(compiled.evaluate, {"a": value})
        assert inline == _outcome(implementation, value, *extra), function


def test_boolean_fast_path_agrees_for_booleans() -> None:
    compiled = compile_expression("CBool([a])")
    assert compiled.evaluate({"a": True}) is True
    assert compiled.evaluate({"a": "False"}) is False
    assert compiled.evaluate({"a": 0}) is False


def test_no_dispatch_on_node_types_at_evaluation() -> None:
    source = compile_expression('IIF(IsPresent([a]), Left([a], 2) & "x", Error("no"))').source
    assert "isinstance" not in source
    assert source.count("_f_Left(") == 1
    assert "if _t1:" in source


def test_names_and_strings_cannot_inject_code() -> None:
    name = "a') or __import__('os') or ('"
    text = f'[{name}] & %P% & "\'); raise SystemExit(\'" & "\\" + 1 + \\""'
    compiled = compile_expression(text)
    value = compiled.evaluate({name: "1"}, {"P": "2"})
    assert value == "12'); raise SystemExit('\" + 1 + \""
