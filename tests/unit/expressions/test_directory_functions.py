"""Directory functions, beyond the shared vectors."""

from __future__ import annotations

import pytest
from tests.unit.expressions.support import evaluate

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import MultiValue, Reference

DN = "CN=Doe\\, John,OU=Sales,OU=EMEA,DC=contoso,DC=com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DNComponent([dn], 2)", "Sales"),
        ("DNComponent([dn], 0)", None),
        ("DNComponentRev([dn], 1)", "com"),
        ('DNComponentRev([dn], 2, "DC")', "Sales"),
        ("DNComponentRev([dn], 1, DC)", "EMEA"),
        ('DNComponent(CRef("CN=\\4A\\C3\\A9r\\C3\\B4me,DC=x"), 1)', "Jérôme"),
        ('EscapeDNComponent("a<b>;c=d")', "a\\<b\\>\\;c\\=d"),
        ('EscapeDNComponent("cn= lead")', "cn=\\ lead"),
    ],
)
def test_directory(text: str, expected: object) -> None:
    assert evaluate(text, dn=Reference(DN)) == expected


def test_dn_component_of_multi_valued_references() -> None:
    members = [Reference("CN=a,DC=x"), Reference("CN=b,DC=x")]
    assert evaluate("DNComponent([m], 1)", m=members) == MultiValue(["a", "b"])


def test_a_string_that_is_not_a_dn_is_an_error() -> None:
    with pytest.raises(ExpressionEvalError, match="not a distinguished name"):
        evaluate('DNComponent("plain text", 1)')
