"""The package's public names: what the sync engine builds against."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import hybridsync.expressions as expressions
from hybridsync.core.values import Reference as CoreReference
from hybridsync.expressions import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    CompiledExpression,
    MultiValue,
    Reference,
    compile_expression,
)


def test_all_is_sorted_and_complete() -> None:
    # Constants first, then the other names, each group in order (ruff's RUF022 order).
    assert expressions.__all__ == sorted(expressions.__all__, key=lambda n: (not n.isupper(), n))
    # Some names load on first use (module __getattr__): each listed name must resolve.
    for name in expressions.__all__:
        assert getattr(expressions, name) is not None, name


def test_the_engine_api() -> None:
    compiled = compile_expression("[a]")
    assert isinstance(compiled, CompiledExpression)
    parameters = list(inspect.signature(compiled.evaluate).parameters)
    assert parameters == ["attributes", "parameters", "imported"]
    assert compiled.evaluate(attributes={"a": ("x",)}, parameters={}, imported={}) == (
        MultiValue(["x"])
    )
    assert isinstance(MultiValue(["x"]), tuple)
    assert IGNORE_THIS_FLOW is not AUTHORITATIVE_NULL


def test_only_the_parser_imports_lark() -> None:
    package = Path(expressions.__file__).parent
    importers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import lark|from lark)", path.read_text(encoding="utf-8"), re.M)
    }
    assert importers == {"parser.py"}


def test_core_re_exports_the_same_reference() -> None:
    assert CoreReference is Reference
