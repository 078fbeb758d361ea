"""The pure mapping between metaverse person attributes and Graph user JSON."""

from __future__ import annotations

import string

import pytest

from hybridsync.connectors.graph import mapping
from hybridsync.connectors.graph.mapping import Target
from hybridsync.errors import ObjectRejectedError

PROJECT = Target(synced_markers=True, password_on_create=False)
ENTRA = Target(synced_markers=False, password_on_create=True)


def person(**values: object) -> dict[str, tuple[object, ...]]:
    base: dict[str, object] = {
        "sourceAnchor": "QUJDRA==",
        "userPrincipalName": "ann.lee@partners.contoso.com",
        "displayName": "Ann Lee",
    }
    base.update(values)
    return {k: () if v is None else (v,) for k, v in base.items()}  # type: ignore[misc]


def test_every_managed_property_maps_to_its_graph_name() -> None:
    attributes = person(
        accountEnabled=False, givenName="Ann", surname="Lee", mail="ann@partners.contoso.com",
        mailNickname="annlee", userType="Guest", department="Sales", jobTitle="Buyer",
        employeeID="E1", companyName="Fabrikam", usageLocation="FR",
    )  # fmt: skip
    body = mapping.create_body(attributes, ENTRA)
    assert body | {"passwordProfile": None} == {
        "onPremisesImmutableId": "QUJDRA==",
        "userPrincipalName": "ann.lee@partners.contoso.com",
        "displayName": "Ann Lee",
        "accountEnabled": False,
        "givenName": "Ann",
        "surname": "Lee",
        "mail": "ann@partners.contoso.com",
        "mailNickname": "annlee",
        "userType": "Guest",
        "department": "Sales",
        "jobTitle": "Buyer",
        "employeeId": "E1",
        "companyName": "Fabrikam",
        "usageLocation": "FR",
        "passwordProfile": None,
    }


def test_synced_markers_go_only_to_the_projects_directory() -> None:
    attributes = person(
        onPremisesSAMAccountName="alee",
        onPremisesDistinguishedName="CN=Ann",
        proxyAddresses=None,
    )
    attributes["proxyAddresses"] = ("SMTP:ann@contoso.com", "smtp:a@contoso.com")
    body = mapping.create_body(attributes, PROJECT)
    assert body["onPremisesSamAccountName"] == "alee"
    assert body["onPremisesDistinguishedName"] == "CN=Ann"
    assert body["proxyAddresses"] == ["SMTP:ann@contoso.com", "smtp:a@contoso.com"]
    assert body["onPremisesSyncEnabled"] is True
    entra = mapping.create_body(attributes, ENTRA)
    assert not {"onPremisesSamAccountName", "proxyAddresses", "onPremisesSyncEnabled"} & set(entra)


def test_clearing_the_mail_nickname_keeps_or_rederives_it() -> None:
    assert mapping.patch_body([("mailNickname", ()), ("department", ("X",))], PROJECT) == {
        "department": "X"
    }
    renamed = [("mailNickname", ()), ("userPrincipalName", ("bo.b@contoso.com",))]
    assert mapping.patch_body(renamed, PROJECT) == {
        "userPrincipalName": "bo.b@contoso.com",
        "mailNickname": "bo.b",
    }


def test_multi_valued_proxy_addresses_read_back_as_values() -> None:
    user = {"id": "1", "proxyAddresses": ["SMTP:a@c.com", "smtp:b@c.com"]}
    assert mapping.attributes_from_user(user, PROJECT)["proxyAddresses"] == (
        "SMTP:a@c.com",
        "smtp:b@c.com",
    )


def test_cloud_filtered_is_never_written() -> None:
    assert "cloudFiltered" not in mapping.create_body(person(cloudFiltered=False), PROJECT)


def test_the_sync_marker_sent_again_before_its_confirmation_is_not_patched() -> None:
    # An update that follows a create before any import confirmed it re-sends the values
    # the create wrote, the marker among them: the update goes through without it.
    changes = [("onPremisesSyncEnabled", (True,)), ("jobTitle", ("Engineer",))]
    assert mapping.patch_body(changes, PROJECT) == {"jobTitle": "Engineer"}
    assert mapping.patch_body(changes, ENTRA) == {"jobTitle": "Engineer"}


@pytest.mark.parametrize(
    ("upn", "nickname"),
    [
        ("ann.lee@contoso.com", "ann.lee"),
        ("o'brien@contoso.com", "o'brien"),
        ("Jürgen Groß,(x)@contoso.com", "JrgenGrox"),
        (".hidden@contoso.com", "hidden"),
        ("a" * 80 + "@contoso.com", "a" * 64),
    ],
)
def test_mail_nickname_is_derived_from_the_upn_with_valid_characters_only(
    upn: str, nickname: str
) -> None:
    body = mapping.create_body(person(userPrincipalName=upn), PROJECT)
    assert body["mailNickname"] == nickname


def test_a_nickname_with_no_valid_character_is_refused() -> None:
    with pytest.raises(ObjectRejectedError, match="mailNickname"):
        mapping.create_body(person(userPrincipalName="éé@contoso.com"), PROJECT)


@pytest.mark.parametrize(("value", "expected"), [("guest", "Guest"), (" MEMBER ", "Member")])
def test_user_type_is_normalized(value: str, expected: str) -> None:
    assert mapping.patch_body([("userType", (value,))], PROJECT) == {"userType": expected}


def test_an_unset_user_type_is_sent_as_member() -> None:
    assert mapping.patch_body([("userType", ())], PROJECT) == {"userType": "Member"}


def test_any_other_user_type_is_refused_with_the_value() -> None:
    with pytest.raises(ObjectRejectedError, match="userType: 'External'"):
        mapping.patch_body([("userType", ("External",))], PROJECT)


def test_patch_clears_optional_properties_and_refuses_to_clear_required_ones() -> None:
    assert mapping.patch_body([("department", ())], PROJECT) == {"department": None}
    with pytest.raises(ObjectRejectedError, match="displayName: cannot be cleared"):
        mapping.patch_body([("displayName", ())], PROJECT)


def test_multiple_values_for_a_single_valued_property_are_refused() -> None:
    with pytest.raises(ObjectRejectedError, match="jobTitle: 2 values"):
        mapping.patch_body([("jobTitle", ("a", "b"))], PROJECT)


def test_unknown_attributes_are_refused_by_name() -> None:
    with pytest.raises(ObjectRejectedError, match=r"^shoeSize: not a user property"):
        mapping.patch_body([("shoeSize", ("44",))], PROJECT)


@pytest.mark.parametrize(("value", "expected"), [("TRUE", True), (0, False), (True, True)])
def test_account_enabled_is_a_boolean(value: object, expected: bool) -> None:
    assert mapping.patch_body([("accountEnabled", (value,))], PROJECT) == {  # type: ignore[list-item]
        "accountEnabled": expected
    }


def test_a_binary_source_anchor_becomes_base64() -> None:
    body = mapping.create_body(person(sourceAnchor=b"\x01\x02\xff"), PROJECT)
    assert body["onPremisesImmutableId"] == "AQL/"


def test_required_properties_must_be_there_to_create() -> None:
    with pytest.raises(ObjectRejectedError, match="displayName: required"):
        mapping.create_body(person(displayName=None), PROJECT)


def test_account_enabled_defaults_to_true_on_create() -> None:
    assert mapping.create_body(person(), PROJECT)["accountEnabled"] is True


def test_a_password_is_only_invented_when_the_target_requires_one() -> None:
    assert "passwordProfile" not in mapping.create_body(person(), PROJECT)
    profile = mapping.create_body(person(), ENTRA)["passwordProfile"]
    assert profile["forceChangePasswordNextSignIn"] is False
    assert (
        profile["password"] != mapping.create_body(person(), ENTRA)["passwordProfile"]["password"]
    )


def test_random_passwords_meet_the_cloud_policy() -> None:
    for _ in range(50):
        password = mapping.random_password()
        assert len(password) == 32
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            assert any(c in chars for c in password)
        assert any(not c.isalnum() for c in password)


def test_users_read_back_as_attributes_with_nulls_as_cleared() -> None:
    user = {"id": "1", "displayName": "Ann", "department": None, "accountEnabled": True}
    assert mapping.attributes_from_user(user, ENTRA) == {
        "displayName": ("Ann",),
        "department": (),
        "accountEnabled": (True,),
    }


def test_dn_is_the_hex_of_the_immutable_id_like_entra_connect() -> None:
    assert mapping.dn_for({"id": "x", "onPremisesImmutableId": "QUJD"}) == "CN={51554A44}"
    assert mapping.dn_for({"id": "x", "onPremisesImmutableId": None}) == "CN={x}"
