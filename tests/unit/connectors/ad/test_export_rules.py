"""The AD export's decisions that need no server: where it may write, what it sends for
member changes, how AD's diagnostics name the attribute, and the settings it refuses.
The same behaviour against a real DC: tests/integration/ad/test_export.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ldap
import pytest

from hybridsync.connectors.ad.connection import Modification
from hybridsync.connectors.ad.errors import ServerUnreachableError
from hybridsync.connectors.ad.export import Exporter, attribute_named, encode, generated_password
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import Scope
from hybridsync.connectors.ad.settings import ADSettings
from hybridsync.core.ports import AttributeChange, ExportChange, ExportKind, ExportOutcome
from hybridsync.core.values import Reference
from hybridsync.errors import TransientConnectorError

DOMAIN = "DC=corp,DC=contoso,DC=com"
OU = f"OU=Guests,{DOMAIN}"
GUID = "6f1d2c3b-0000-4000-8000-000000000001"


class Unreachable:
    """A connection to a DC that is gone: every request fails as unreachable."""

    server = "ldaps://dc1"

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise ServerUnreachableError("connection reset")

        return fail

    def forget(self) -> None:
        pass


class Refusing(Unreachable):
    """A connection that must not be used: the change is refused before any request."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"no request expected, got {name}")


def _exporter(conn: Any, **settings: Any) -> Exporter:
    values = {"url": "ldaps://dc1", "bind_user": "svc@corp.contoso.com", "password_env": "X",
              "export_ou": OU, **settings}  # fmt: skip
    configured = ADSettings(**values)
    reader = Reader(conn, Scope(DOMAIN), configured.all_attributes(), ("user", "group"))
    return Exporter(conn, configured, reader, lambda: "Initial-Pa55word!")


def _add(dn: str, change_id: str = "c1") -> ExportChange:
    return ExportChange(change_id, ExportKind.ADD, None, dn, "user",
                        (AttributeChange("sAMAccountName", ("x",)),))  # fmt: skip


@pytest.mark.parametrize(
    "dn",
    [
        f"CN=Evil,CN=Users,{DOMAIN}",  # a value with ",CN=Users,..." computed into the DN
        f"CN=Evil,OU=Guests-2,{DOMAIN}",  # a sibling whose name starts like the OU
        OU,  # the OU itself
        "CN=Evil",  # no parent at all
        "not a dn",
    ],
)
def test_adds_and_deletes_outside_the_export_ou_are_refused_before_any_request(dn: str) -> None:
    exporter = _exporter(Refusing())
    (added,) = exporter.export([_add(dn)])
    assert added.outcome is ExportOutcome.REJECTED
    delete = ExportChange("c2", ExportKind.DELETE, GUID, dn, "user")
    (deleted,) = exporter.export([delete])
    assert deleted.outcome is ExportOutcome.REJECTED
    assert dn in deleted.message


def test_a_lost_connection_makes_the_rest_of_the_batch_unknown_then_the_next_batch_transient() -> (
    None
):
    exporter = _exporter(Unreachable())
    results = list(exporter.export([_add(f"CN=a,{OU}", "c1"), _add(f"CN=b,{OU}", "c2")]))
    assert [r.outcome for r in results] == [ExportOutcome.UNKNOWN, ExportOutcome.UNKNOWN]
    assert "not sent" in results[1].message
    with pytest.raises(TransientConnectorError, match="retried next run"):
        list(exporter.export([_add(f"CN=c,{OU}", "c3")]))


class Modifies(Refusing):
    def __init__(self) -> None:
        self.sent: list[list[Modification]] = []

    def read_entry(self, dn: str, attributes: Sequence[str]) -> Any:
        return (f"CN=team,{OU}", {"userAccountControl": [b"66048"]})

    def modify(self, dn: str, changes: Sequence[Modification], *, permissive: bool = False) -> None:
        self.sent.append(list(changes))


def test_member_changes_are_the_difference_chunked_and_disable_keeps_other_bits() -> None:
    conn = Modifies()
    exporter = _exporter(conn, member_chunk=2)
    members = tuple(Reference(f"CN=u{i},{OU}") for i in range(6))
    change = ExportChange(
        "c1", ExportKind.UPDATE, GUID, f"CN=team,{OU}", "group",
        (AttributeChange("member", members[2:]), AttributeChange("accountDisabled", (True,))),
        {"member": members[:4]},
    )  # fmt: skip
    (result,) = exporter.export([change])
    assert result.outcome is ExportOutcome.APPLIED
    assert conn.sent == [
        [(ldap.MOD_REPLACE, "userAccountControl", [b"66050"])],  # 0x10200 | 0x2
        [(ldap.MOD_ADD, "member", [f"CN=u4,{OU}".encode(), f"CN=u5,{OU}".encode()])],
        [(ldap.MOD_DELETE, "member", [f"CN=u0,{OU}".encode(), f"CN=u1,{OU}".encode()])],
    ]


def test_values_are_encoded_as_ad_takes_them() -> None:
    assert encode(True) == b"TRUE"
    assert encode(512) == b"512"
    assert encode(Reference(GUID)) == f"<GUID={GUID}>".encode()
    assert encode(Reference(f"CN=a,{OU}")) == f"CN=a,{OU}".encode()
    assert encode("Zoë") == "Zoë".encode()


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("00000057: LdapErr: DSID-0C090D8A, comment: Error in attribute conversion operation,"
         " data 0, v4563", None),
        ("0000202F: AtrErr: DSID-03152D2C, #1:\n\t0: 0000202F: DSID-03152D2C, problem 1005 "
         "(CONSTRAINT_ATT_TYPE), data 0, Att 90290 (userPrincipalName)\n", "userPrincipalName"),
        ("samldb: Account name (sAMAccountName) 'x' already in use!", "sAMAccountName"),
    ],
)  # fmt: skip
def test_the_attribute_is_named_from_the_diagnostic(info: str, expected: str | None) -> None:
    assert attribute_named(info, ["sAMAccountName", "userPrincipalName"]) == expected


def test_settings_refuse_an_export_ou_that_cannot_work() -> None:
    base = {"bind_user": "svc@corp.contoso.com", "password_env": "X"}
    with pytest.raises(ValueError, match="encrypted connection"):
        ADSettings(url="ldap://dc1", start_tls=False, export_ou=OU, **base)
    with pytest.raises(ValueError, match="outside include_ous"):
        ADSettings(url="ldaps://dc1", include_ous=(f"OU=Staff,{DOMAIN}",), export_ou=OU, **base)
    with pytest.raises(ValueError, match="inside one of exclude_ous"):
        ADSettings(url="ldaps://dc1", exclude_ous=(OU,), export_ou=OU, **base)
    with pytest.raises(ValueError, match="not a distinguished name"):
        ADSettings(url="ldaps://dc1", export_ou="no equals sign", **base)


def test_generated_passwords_are_random_and_meet_the_complexity_rules() -> None:
    passwords = {generated_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) == 24
        assert any(c.islower() for c in password)
        assert any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password)
        assert any(not c.isalnum() for c in password)


def test_bad_values_from_rules_are_object_errors_naming_them() -> None:
    exporter = _exporter(Refusing())
    bad_control = ExportChange("c1", ExportKind.ADD, None, f"CN=a,{OU}", "user",
                               (AttributeChange("userAccountControl", ("lots",)),))  # fmt: skip
    bad_anchor = ExportChange("c2", ExportKind.UPDATE, "not-a-guid", f"CN=b,{OU}", "user",
                              (AttributeChange("title", ("x",)),))  # fmt: skip
    password = ExportChange("c3", ExportKind.UPDATE, GUID, f"CN=c,{OU}", "user",
                            (AttributeChange("unicodePwd", ("secret",)),))  # fmt: skip
    results = {r.change_id: r for r in exporter.export([bad_control, bad_anchor, password])}
    assert results["c1"].message == f"CN=a,{OU}: userAccountControl: 'lots' is not an integer"
    assert "not an objectGUID" in results["c2"].message
    assert "unicodePwd" in results["c3"].message
    assert "secret" not in results["c3"].message
    assert {r.outcome for r in results.values()} == {ExportOutcome.REJECTED}


@pytest.mark.parametrize("value", ["abc", "12x", True])
def test_a_user_account_control_that_is_not_an_integer_is_refused_before_any_request(
    value: Any,
) -> None:
    change = ExportChange(
        "c1", ExportKind.UPDATE, GUID, f"CN=u,{OU}", "user",
        (AttributeChange("userAccountControl", (value,)),
         AttributeChange("accountDisabled", (True,)), AttributeChange("title", ("Lead",))),
    )  # fmt: skip
    (result,) = _exporter(Refusing()).export([change])
    assert result.outcome is ExportOutcome.REJECTED
    assert result.message.startswith(f"CN=u,{OU}: userAccountControl: ")
    assert "not an integer" in result.message


@pytest.mark.parametrize("smart_card", [False, True])
def test_user_account_control_and_account_disabled_go_out_as_one_value(smart_card: bool) -> None:
    conn = Modifies()  # the object holds 66048 = 0x10200
    change = ExportChange(
        "c1", ExportKind.UPDATE, GUID, f"CN=team,{OU}", "user",
        (AttributeChange("userAccountControl", ("512",)),
         AttributeChange("accountDisabled", (True,)), AttributeChange("title", ("Lead",))),
    )  # fmt: skip
    (result,) = _exporter(conn, smart_card_required=smart_card).export([change])
    assert result.outcome is ExportOutcome.APPLIED, result.message
    (sent,) = conn.sent
    controls = [values for _, name, values in sent if name.lower() == "useraccountcontrol"]
    expected = 0x200 | 0x2 | (0x40000 if smart_card else 0)
    assert controls == [[str(expected).encode()]]
    assert (ldap.MOD_REPLACE, "title", [b"Lead"]) in sent


def test_disabling_alone_keeps_the_smart_card_bit_when_it_is_required() -> None:
    conn = Modifies()
    change = ExportChange("c1", ExportKind.UPDATE, GUID, f"CN=team,{OU}", "user",
                          (AttributeChange("accountDisabled", (True,)),))  # fmt: skip
    (result,) = _exporter(conn, smart_card_required=True).export([change])
    assert result.outcome is ExportOutcome.APPLIED, result.message
    assert conn.sent == [[(ldap.MOD_REPLACE, "userAccountControl", [b"328194"])]]  # 0x50202
