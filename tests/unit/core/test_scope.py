from __future__ import annotations

import pytest

from hybridsync.core.rules import ScopeClause, ScopeGroup, ScopeOperator
from hybridsync.core.scope import clause_holds, in_scope

OBJECT = {
    "department": ("Sales",),
    "userAccountControl": (514,),
    "employeeNumber": ("120",),
    "adminDescription": ("User_abc",),
    "proxyAddresses": ("SMTP:a@contoso.com", "smtp:b@contoso.com"),
    "isCriticalSystemObject": (True,),
}


def holds(attribute: str, operator: str, value: str = "") -> bool:
    return clause_holds(ScopeClause(attribute, ScopeOperator.parse(operator), value), OBJECT)


@pytest.mark.parametrize(
    ("attribute", "operator", "value", "expected"),
    [
        ("department", "EQUAL", "sales", True),
        ("department", "EQUAL", "Finance", False),
        ("department", "NOTEQUAL", "Finance", True),
        ("missing", "NOTEQUAL", "x", True),
        ("missing", "EQUAL", "x", False),
        ("proxyAddresses", "EQUAL", "SMTP:a@contoso.com", False),
        ("proxyAddresses", "ISIN", "smtp:a@contoso.com", True),
        ("proxyAddresses", "ISNOTIN", "smtp:c@contoso.com", True),
        ("employeeNumber", "LESSTHAN", "200", True),
        ("employeeNumber", "LESSTHAN", "120", False),
        ("employeeNumber", "LESSTHAN_OR_EQUAL", "120", True),
        ("employeeNumber", "GREATERTHAN", "99", True),
        ("employeeNumber", "GREATERTHAN_OR_EQUAL", "121", False),
        ("department", "CONTAINS", "AL", True),
        ("department", "NOTCONTAINS", "x", True),
        ("department", "STARTSWITH", "sa", True),
        ("adminDescription", "NOTSTARTSWITH", "User_", False),
        ("adminDescription", "NOTSTARTWITH", "User_", False),
        ("missing", "NOTSTARTSWITH", "User_", True),
        ("department", "ENDSWITH", "LES", True),
        ("department", "NOTENDSWITH", "les", False),
        ("missing", "ISNULL", "", True),
        ("department", "ISNOTNULL", "", True),
        ("userAccountControl", "ISBITSET", "2", True),
        ("userAccountControl", "ISNOTBITSET", "2", False),
        ("userAccountControl", "ISBITNOTSET", "16", True),
        ("isCriticalSystemObject", "NOTEQUAL", "TRUE", False),
        ("missing", "ISBITSET", "2", False),
    ],
)
def test_operator(attribute: str, operator: str, value: str, expected: bool) -> None:
    assert holds(attribute, operator, value) is expected


def test_both_spellings_parse_to_one_operator() -> None:
    assert ScopeOperator.parse("ISBITNOTSET") is ScopeOperator.ISNOTBITSET
    assert ScopeOperator.parse("notstartwith") is ScopeOperator.NOTSTARTSWITH
    with pytest.raises(ValueError, match="BOGUS"):
        ScopeOperator.parse("BOGUS")


def test_member_of_asks_the_lookup() -> None:
    clause = ScopeClause("", ScopeOperator.ISMEMBEROF, "CN=Partners,DC=contoso,DC=com")
    assert clause_holds(clause, OBJECT, lambda dn: dn.startswith("CN=Partners"))
    negated = ScopeClause("", ScopeOperator.ISNOTMEMBEROF, "CN=Staff,DC=contoso,DC=com")
    assert clause_holds(negated, OBJECT, lambda dn: dn.startswith("CN=Partners"))


def test_groups_are_ored_and_clauses_anded() -> None:
    sales = ScopeClause("department", ScopeOperator.EQUAL, "Sales")
    enabled = ScopeClause("userAccountControl", ScopeOperator.ISNOTBITSET, "2")
    finance = ScopeClause("department", ScopeOperator.EQUAL, "Finance")
    assert not in_scope((ScopeGroup((sales, enabled)),), OBJECT)
    assert in_scope((ScopeGroup((sales, enabled)), ScopeGroup((sales,))), OBJECT)
    assert not in_scope((ScopeGroup((finance,)),), OBJECT)
    assert in_scope((), OBJECT)
