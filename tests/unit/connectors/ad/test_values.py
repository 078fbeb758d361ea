"""Pure pieces of the AD connector: watermarks, scope, value conversion, error mapping."""

from __future__ import annotations

import uuid

import ldap
import pytest

from hybridsync.connectors.ad.convert import Converter, anchor_of, plain_dn
from hybridsync.connectors.ad.errors import (
    InsufficientRightsError,
    ServerUnreachableError,
    ldap_errors,
)
from hybridsync.connectors.ad.scope import Scope, object_type_of
from hybridsync.connectors.ad.watermark import DirSyncWatermark, UsnWatermark, decode, encode
from hybridsync.core.ports import ImportKind
from hybridsync.core.values import Reference
from hybridsync.errors import ConfigError, FatalConnectorError, TransientConnectorError

DOMAIN = "DC=corp,DC=contoso,DC=com"


@pytest.mark.parametrize(
    "watermark",
    [
        DirSyncWatermark({"user": b"\x00\xffcookie", "group": b""}),
        UsnWatermark("dc1.corp.contoso.com", str(uuid.uuid4()), 12345),
    ],
)
def test_watermarks_round_trip(watermark: DirSyncWatermark | UsnWatermark) -> None:
    assert decode(encode(watermark)) == watermark


def test_scope_include_exclude_case_and_escapes() -> None:
    scope = Scope.build(
        DOMAIN, [f"OU=Staff,{DOMAIN}"], [f"OU=Service\\, Accounts,OU=Staff,{DOMAIN}"]
    )
    assert scope.contains("CN=Ann,ou=staff,dc=CORP,DC=contoso,DC=com")
    assert not scope.contains(f"CN=svc,OU=Service\\2C Accounts,OU=Staff,{DOMAIN}")
    assert not scope.contains(f"CN=Bob,OU=Partners,{DOMAIN}")
    assert not scope.contains(f"CN=Ann,OU=XStaff,{DOMAIN}")
    assert not scope.contains("not a DN")
    assert scope.bases() == (f"OU=Staff,{DOMAIN}",)
    assert Scope.build(DOMAIN, [], []).bases() == (DOMAIN,)


def test_scope_refuses_ous_of_another_domain() -> None:
    with pytest.raises(ConfigError, match="fabrikam"):
        Scope.build(DOMAIN, ["OU=Staff,DC=fabrikam,DC=com"], [])


def test_object_types_from_object_class() -> None:
    assert object_type_of([b"top", b"person", b"user"]) == "user"
    assert object_type_of([b"top", b"user", b"computer"]) is None
    assert object_type_of([b"top", b"group"]) == "group"


def test_conversion_types_values_and_keeps_configured_names() -> None:
    guid = uuid.uuid4()
    converter = Converter(["objectGUID", "userAccountControl", "manager", "title",
                           "isCriticalSystemObject", "jpegPhoto", "description"])  # fmt: skip
    record = converter.record(
        f"<GUID={guid.hex}>;<SID=0105>;CN=Ann,{DOMAIN}",
        {
            "objectGUID": [guid.bytes_le],
            "USERACCOUNTCONTROL": [b"512"],
            "isCriticalSystemObject": [b"FALSE"],
            "manager": [f"<GUID=ab>;CN=Boss,{DOMAIN}".encode()],
            "jpegPhoto": [b"\xff\xd8"],
            "description": [b"\xff\xfe not utf-8"],
            "title": [],
            "notRequested": [b"x"],
        },
        "user",
        ImportKind.UPDATE,
    )
    assert record.anchor == str(guid) == anchor_of(guid.bytes_le)
    assert record.dn == f"CN=Ann,{DOMAIN}"
    assert record.attributes == {
        "objectGUID": (guid.bytes_le,),
        "userAccountControl": (512,),
        "isCriticalSystemObject": (False,),
        "manager": (Reference(f"CN=Boss,{DOMAIN}"),),
        "jpegPhoto": (b"\xff\xd8",),
        "description": (b"\xff\xfe not utf-8",),
        "title": (),
    }


@pytest.mark.parametrize("kind", [ImportKind.ADD, ImportKind.UPDATE])
def test_the_entry_dn_is_an_attribute_when_listed(kind: ImportKind) -> None:
    guid = uuid.uuid4()
    raw = {"objectGUID": [guid.bytes_le]}  # a DirSync change that is only a move
    listed = Converter(["objectGUID", "DistinguishedName"])
    record = listed.record(f"<GUID={guid.hex}>;CN=Ann,OU=Staff,{DOMAIN}", raw, "user", kind)
    assert record.attributes["DistinguishedName"] == (f"CN=Ann,OU=Staff,{DOMAIN}",)
    unlisted = Converter(["objectGUID"]).record(f"CN=Ann,{DOMAIN}", raw, "user", kind)
    assert "distinguishedName" not in unlisted.attributes


def test_plain_dn_keeps_ordinary_dns() -> None:
    assert plain_dn(f"CN=<x>,{DOMAIN}") == f"CN=<x>,{DOMAIN}"


ERRORS = [
    (ldap.SERVER_DOWN({"desc": "Can't contact"}), ServerUnreachableError, "unreachable"),
    (ldap.INVALID_CREDENTIALS({"desc": "Invalid"}), FatalConnectorError, "bad credentials"),
    (ldap.INSUFFICIENT_ACCESS({"desc": "x", "info": "0x2098"}), InsufficientRightsError, "0x2098"),
    (ldap.REFERRAL({"desc": "Referral", "info": "ldap://fabrikam.com/DC=fabrikam"}),
     FatalConnectorError, "referral to another domain.*fabrikam"),
    (ldap.TIMEOUT({"desc": "Timed out"}), TransientConnectorError, "did not answer in time"),
]  # fmt: skip


@pytest.mark.parametrize(("raised", "family", "text"), ERRORS)
def test_ldap_errors_are_translated_once(
    raised: ldap.LDAPError, family: type[Exception], text: str
) -> None:
    with pytest.raises(family, match=text) as caught, ldap_errors("ldaps://dc1", "search X"):
        raise raised
    assert caught.value.__cause__ is raised
    assert "search X on ldaps://dc1" in str(caught.value)
