"""Program flow: IIF, Switch, Select, Where, With (written inline by the compiler), Error,
and the special functions outside the reference: ImportedValue, ValueCount."""

from __future__ import annotations

from typing import NoReturn

from hybridsync.errors import ExpressionUserError
from hybridsync.expressions.coerce import is_multi, multi, to_text, values_of
from hybridsync.expressions.signatures import FunctionSpec, function


def error(message: object) -> NoReturn:
    text = "Error() was called" if message is None else to_text(message, "the message")
    raise ExpressionUserError(text)


def choose_per_value(conditions: tuple[object, ...], if_true: object, if_false: object) -> object:
    """IIF with a multi-valued condition: choose per value, position by position.

    A multi-valued branch gives its value at the same position; a single-valued
    branch gives itself. Null choices are dropped.
    """
    true_values = values_of(if_true) if is_multi(if_true) else None
    false_values = values_of(if_false) if is_multi(if_false) else None

    def pick(index: int, chosen: bool) -> object:
        values, whole = (true_values, if_true) if chosen else (false_values, if_false)
        if values is None:
            return whole
        return values[index] if index < len(values) else None

    return multi(pick(index, bool(flag)) for index, flag in enumerate(conditions))


def value_count(value: object) -> int:
    return len(values_of(value))


FUNCTIONS: tuple[FunctionSpec, ...] = (
    function("Error", "Program flow", "void", ("str",), implementation=error),
    function("IIF", "Program flow", "var", ("exp", "var", "var")),
    function("Switch", "Program flow", "var", ("exp", "var"), pairs=True),
    function("Select", "Program flow", "mv", ("variable", "var", "var")),
    function("Where", "Program flow", "mv", ("variable", "var", "exp")),
    function("With", "Program flow", "var", ("variable", "var", "var")),
    function("ImportedValue", "Special", "var", ("name",)),
    function("ValueCount", "Special", "num", ("name",)),
)
