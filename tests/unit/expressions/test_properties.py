"""Property tests: whatever the text and whatever the values, only the language's own
errors come out of compiling and evaluating."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridsync.errors import ExpressionEvalError, ExpressionSyntaxError
from hybridsync.expressions import CompiledExpression, Reference, compile_expression
from hybridsync.expressions.compiled import INTERNAL
from hybridsync.expressions.registry import FUNCTIONS

_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_scalars = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["", "True", "12", "2013-01-10 4:00 PM -8", "cn=a,dc=b", "a,b:c"]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.binary(max_size=24),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.builds(Reference, st.text(max_size=20)),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=4), st.tuples(_scalars, _scalars))
_attributes = st.dictionaries(st.sampled_from(["a", "b", "m", "dn"]), _values, max_size=4)

_literal = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters='"\\'), max_size=8).map(
        lambda text: f'"{text}"'
    ),
    st.integers(min_value=-5, max_value=2**64).map(str),
    st.sampled_from(["True", "False", "NULL", "CRLF", "&HFF", "vbTextCompare", "UTF8",
                     "CaseInsensitive", "IgnoreThisFlow", "\"DC\"", "\"yyyy-MM-dd\"",
                     "\"a:b,c:\"", "$item", "%P%", "%Missing%"]),
    st.sampled_from(["[a]", "[b]", "[m]", "[dn]", "[absent]"]),
)  # fmt: skip
_FUNCTION_NAMES = sorted(FUNCTIONS)
_OPERATORS = ["&", "+", "-", "*", "/", "=", "<>", "<", "<=", ">", ">=", "&&", "||"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    call = st.tuples(
        st.sampled_from(_FUNCTION_NAMES), st.lists(children, min_size=0, max_size=4)
    ).map(lambda parts: f"{parts[0]}({', '.join(parts[1])})")
    binder = st.tuples(st.sampled_from(["Select", "Where", "With"]), children, children).map(
        lambda parts: f"{parts[0]}($item, {parts[1]}, {parts[2]})"
    )
    binary = st.tuples(children, st.sampled_from(_OPERATORS), children).map(
        lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"
    )
    return st.one_of(call, binder, binary)


_expressions = st.recursive(_literal, _extend, max_leaves=12)


def _evaluate_expecting_no_internal_error(
    compiled: CompiledExpression, attributes: dict[str, object], parameters: dict[str, object]
) -> None:
    """Evaluation errors are fine; a wrapped Python exception means a bug in a function."""
    try:
        compiled.evaluate(attributes, parameters, imported=attributes)  # type: ignore[arg-type]
    except ExpressionEvalError as error:
        failure = error.message
    else:
        return
    assert not failure.startswith(INTERNAL), f"{compiled.text}: {failure}"


@_SETTINGS
@given(text=st.text(max_size=80))
def test_arbitrary_text_compiles_or_raises_a_syntax_error(text: str) -> None:
    try:
        compile_expression(text)
    except ExpressionSyntaxError as error:
        located = (error.line, error.column)
    else:
        return
    assert min(located) >= 1


@_SETTINGS
@given(text=st.text(alphabet='IIF()[]"%$&|=<>,+-*/ 0123456789aHxT\\\n', max_size=60))
def test_text_made_of_the_language_s_characters_only_raises_syntax_errors(text: str) -> None:
    with contextlib.suppress(ExpressionSyntaxError):
        compile_expression(text)


@_SETTINGS
@given(expression=_expressions, attributes=_attributes, parameter=_scalars)
def test_generated_expressions_raise_only_expression_errors(
    expression: str, attributes: dict[str, object], parameter: object
) -> None:
    try:
        compiled = compile_expression(expression)
    except ExpressionSyntaxError:
        return
    _evaluate_expecting_no_internal_error(compiled, attributes, {"P": parameter})


@_SETTINGS
@given(
    function=st.sampled_from(_FUNCTION_NAMES),
    arguments=st.lists(st.sampled_from(["[a]", "[b]", "[m]", "[dn]"]), max_size=4),
    attributes=_attributes,
)
def test_every_function_on_arbitrary_attribute_values(
    function: str, arguments: list[str], attributes: dict[str, object]
) -> None:
    try:
        compiled = compile_expression(f"{function}({', '.join(arguments)})")
    except ExpressionSyntaxError:
        return
    _evaluate_expecting_no_internal_error(compiled, attributes, {})


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(ExpressionSyntaxError, match="nests deeper than 64"):
        compile_expression("Trim(" * 200 + '"x"' + ")" * 200)


def test_thousands_of_parentheses_parse_without_recursion() -> None:
    assert compile_expression("(" * 5000 + "1" + ")" * 5000).evaluate({}) == 1


def test_the_deepest_allowed_expression_compiles() -> None:
    depth = 63
    assert compile_expression("Trim(" * depth + '" x "' + ")" * depth).evaluate({}) == "x"
    nested_iif = "IIF([a]," * 40 + '"y"' + ',"n")' * 40
    assert compile_expression(nested_iif).evaluate({"a": True}) == "y"


def test_datetime_attribute_values_are_accepted() -> None:
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert compile_expression('FormatDateTime([d], "yyyy")').evaluate({"d": when}) == "2020"
