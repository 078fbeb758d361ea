"""The $filter parser and evaluator, in process (fast)."""

from __future__ import annotations

import pytest

from hybridsync.cloud import odata
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.user_rules import FILTERABLE

ANN = {"displayName": "Ann O'Neil", "userType": "Guest", "accountEnabled": True,
       "otherMails": ["ann@a.example", "Ann@B.example"], "employeeId": None}  # fmt: skip


def test_and_binds_tighter_than_or() -> None:
    node = odata.parse_filter(
        "userType eq 'Member' and accountEnabled eq false or displayName eq 'x'"
    )
    assert isinstance(node, odata.Or)
    assert isinstance(node.left, odata.And)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("displayName eq 'ann o''neil'", True),
        ("startsWith(displayName, 'ANN')", True),
        ("otherMails eq 'ann@b.example'", True),
        ("endsWith(otherMails,'@b.example')", True),
        ("employeeId eq null", True),
        ("employeeId ne null", False),
        ("not (userType eq 'Guest' or accountEnabled eq false)", False),
        ("userType in ('Member', 'guest')", True),
    ],
)
def test_evaluation(expression: str, expected: bool) -> None:
    assert odata.matches(odata.parse_filter(expression), ANN) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "displayName eq",
        "eq 'x'",
        "(displayName eq 'x'",
        "displayName like 'x'",
        "startsWith(displayName, 3)",
        "displayName eq 'unterminated",
        "displayName eq 'x' and",
        "userType in ()",
    ],
)
def test_syntax_errors_are_bad_requests(expression: str) -> None:
    with pytest.raises(GraphError) as raised:
        odata.parse_filter(expression)
    assert raised.value.status == 400


def test_comparing_incompatible_types_is_a_bad_request() -> None:
    with pytest.raises(GraphError):
        odata.matches(odata.parse_filter("displayName ge 3"), ANN)


def test_advanced_operators_are_flagged() -> None:
    node = odata.parse_filter("not (userType eq 'Guest')")
    odata.check_filter(node, FILTERABLE, advanced=True)
    with pytest.raises(GraphError) as raised:
        odata.check_filter(node, FILTERABLE, advanced=False)
    assert raised.value.code == "Request_UnsupportedQuery"
