"""The function table: every function of the reference, plus the ones default rules use."""

from __future__ import annotations

import re

from tests.conftest import DATA

from hybridsync.expressions.registry import FUNCTIONS, suggest


def _reference_functions() -> set[str]:
    spec = (DATA / "reference" / "sync-engine.md").read_text(encoding="utf-8")
    section = spec.split("### 3.5")[1].split("### 3.6")[0]
    names = set(re.findall(r"^\| ([A-Z]\w+) \| ", section, flags=re.MULTILINE))
    return names - {"Function"}


def test_every_function_of_the_reference_is_known() -> None:
    documented = _reference_functions()
    assert len(documented) == 85
    assert documented <= set(FUNCTIONS)


def test_functions_outside_the_reference_are_known() -> None:
    extra = {"CBin", "ValueCount", "Thumbprint", "Random", "ImportedValue", "GUID"}
    assert extra <= set(FUNCTIONS)


def test_every_function_has_an_implementation_or_is_compiled_inline() -> None:
    inline = {"IIF", "Switch", "Select", "Where", "With", "ImportedValue", "ValueCount"}
    missing = {name for name, spec in FUNCTIONS.items() if spec.implementation is None}
    assert missing == inline


def test_signatures_use_known_type_codes() -> None:
    codes = {"str", "strbin", "num", "bool", "exp", "dt", "bin", "ref", "mv", "enum", "var",
             "variable", "name"}  # fmt: skip
    used = {code for spec in FUNCTIONS.values() for sig in spec.signatures for code in sig}
    assert used <= codes


def test_suggest_finds_the_right_case() -> None:
    assert suggest("lcase") == "LCase"
    assert suggest("dncomponentrev") == "DNComponentRev"
    assert suggest("nothing") is None
