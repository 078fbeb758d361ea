"""The userType feature on the 20-user sample, in both documented modes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hybridsync.engine import Status

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "contoso-20.ldif"
EMPLOYEES = {
    "wmoran",
    "aturner",
    "bchen",
    "cdiaz",
    "devans",
    "efoster",
    "fgarcia",
    "ghughes",
    "ikhan",
    "jlopez",
    "kmeyer",
    "lnguyen",
}
PARTNERS = {"msullivan", "nowens", "opatel", "pquinn", "rrossi", "sschmidt", "tturner", "uvogel"}
MODES = {
    "attribute": {"source": "attribute", "attribute": "extensionAttribute1"},
    "upn-suffix": {"source": "upn-suffix", "suffixes": ["@partners.contoso.com"]},
}


def _expected() -> dict[str, str]:
    expected = {f"{sam}@contoso.com": "Member" for sam in EMPLOYEES}
    expected.update({f"{sam}@partners.contoso.com": "Guest" for sam in PARTNERS})
    return expected


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_sample_user_gets_the_expected_user_type(world: Any, mode: str) -> None:
    shutil.copy(SAMPLE, world.ldif)
    built = world.engine(user_type=MODES[mode])
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.SUCCESS, [str(e) for r in cycle.runs for e in r.errors]
    users = world.by_upn(built)
    assert {upn: user["userType"] for upn, user in users.items()} == _expected()
    assert users["lnguyen@contoso.com"]["accountEnabled"] is False


@pytest.mark.parametrize("mode", sorted(MODES))
def test_preview_shows_the_rule_that_set_user_type(world: Any, mode: str) -> None:
    shutil.copy(SAMPLE, world.ldif)
    built = world.engine(user_type=MODES[mode])
    built.engine.cycle("initial")
    shown = built.engine.preview("ad", "CN=Megan Sullivan,OU=Partners,DC=contoso,DC=com")
    assert "In from AD - User UserType" in shown["rules_in_scope"]
    assert shown["metaverse"]["userType"] == {
        "values": ["Guest"],
        "rule": "In from AD - User UserType",
        "before": ["Guest"],
    }
    cloud = shown["targets"]["cloud"]["attributes"]["userType"]
    assert cloud == {"values": ["Guest"], "rule": "Out to Cloud - User UserType"}
    assert shown["join"]["rule"] == "In from AD - User Join"


def test_preview_before_the_first_sync_shows_the_projection_and_the_add(world: Any) -> None:
    shutil.copy(SAMPLE, world.ldif)
    built = world.engine(user_type=MODES["upn-suffix"])
    built.engine.cycle("initial", export=False)
    shown = built.engine.preview("ad", "CN=William Moran,OU=Staff,DC=contoso,DC=com")
    assert shown["join"]["action"] == "keep"
    assert shown["targets"]["cloud"]["pending_export"]["kind"] == "add"
    assert shown["targets"]["cloud"]["pending_export"]["changes"]["userType"] == ["Member"]


def test_an_invalid_value_is_an_object_error_naming_the_value(world: Any) -> None:
    world.set_users(
        world.user("ann", extensionAttribute1="Member"),
        world.user("bob", extensionAttribute1="Contractor"),
    )
    built = world.engine(user_type=MODES["attribute"])
    cycle = built.engine.cycle("initial")
    errors = [e for run in cycle.runs for e in run.errors]
    assert [(e.attribute, e.rule) for e in errors] == [("userType", "In from AD - User UserType")]
    assert "'Contractor'" in errors[0].message
    assert set(world.by_upn(built)) == {"ann@contoso.com"}


def test_upn_suffix_is_an_ends_with_test(world: Any) -> None:
    world.set_users(
        world.user("eve", upn="eve@partners.contoso.com.example.net"),
        world.user("pat", upn="Pat@PARTNERS.Contoso.com"),
    )
    built = world.engine(user_type=MODES["upn-suffix"])
    built.engine.cycle("initial")
    users = world.by_upn(built)
    assert users["eve@partners.contoso.com.example.net"]["userType"] == "Member"
    assert users["Pat@PARTNERS.Contoso.com"]["userType"] == "Guest"


def test_expression_mode_and_a_flip_in_a_delta_cycle(world: Any) -> None:
    world.set_users(world.user("ann", department="External"), world.user("bob"))
    built = world.engine(
        user_type={"expression": 'IIF([department] = "External", "guest", "member")'}
    )
    built.engine.cycle("initial")
    assert world.by_upn(built)["ann@contoso.com"]["userType"] == "Guest"
    assert world.by_upn(built)["bob@contoso.com"]["userType"] == "Member"
    world.put(world.user("bob", department="External"))
    built.engine.cycle("delta")
    assert world.by_upn(built)["bob@contoso.com"]["userType"] == "Guest"


def test_attribute_mode_without_a_value_makes_a_member(world: Any) -> None:
    world.set_users(world.user("ann", extensionAttribute1="Guest"), world.user("bob"))
    built = world.engine(user_type=MODES["attribute"])
    assert built.engine.cycle("initial").status == Status.SUCCESS
    users = world.by_upn(built)
    assert users["ann@contoso.com"]["userType"] == "Guest"
    assert users["bob@contoso.com"]["userType"] == "Member"
