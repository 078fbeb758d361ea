"""The documented userType derivation, end to end."""

from __future__ import annotations

import pytest

from hybridsync.errors import ExpressionUserError
from hybridsync.expressions import compile_expression

USER_TYPE = (
    "IIF(IsPresent([userPrincipalName]),IIF(CBool(InStr(LCase([userPrincipalName]),"
    '"@partners.fabrikam123.org")=0),"Member","Guest"),'
    'Error("UserPrincipalName is not present to determine UserType"))'
)


@pytest.mark.parametrize(
    ("upn", "expected"),
    [
        ("jdoe@contoso.com", "Member"),
        ("WMoran@Partners.Fabrikam123.org", "Guest"),
        ("wmoran@partners.fabrikam123.org", "Guest"),
        ("partners.fabrikam123.org@contoso.com", "Member"),
    ],
)
def test_user_type_of_a_upn(upn: str, expected: str) -> None:
    assert compile_expression(USER_TYPE).evaluate({"userPrincipalName": upn}) == expected


@pytest.mark.parametrize("attributes", [{}, {"userPrincipalName": ""}, {"userPrincipalName": None}])
def test_user_type_without_upn_is_the_documented_error(attributes: dict[str, object]) -> None:
    with pytest.raises(ExpressionUserError) as raised:
        compile_expression(USER_TYPE).evaluate(attributes)
    assert raised.value.message == "UserPrincipalName is not present to determine UserType"
    assert raised.value.function == "Error"
    assert (raised.value.line, raised.value.column) == (1, USER_TYPE.index("Error(") + 1)


def test_referenced_names_are_reported() -> None:
    compiled = compile_expression('[a] & %Domain.FQDN% & ImportedValue("b") & ValueCount("c")')
    assert compiled.referenced_attributes == frozenset({"a", "b", "c"})
    assert compiled.referenced_parameters == frozenset({"Domain.FQDN"})
    assert compiled.text.startswith("[a]")
