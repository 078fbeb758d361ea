"""The AD connector as an export connector, against the session's Samba DC.

Changes are built by hand here; the engine's path (rules, plan, threshold, staging,
confirmation by import) is tested in test_engine_export.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import ldap
import pytest
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector, ADSettings
from hybridsync.connectors.ad.connection import Connection, Modification
from hybridsync.connectors.ad.errors import ServerUnreachableError
from hybridsync.connectors.ad.export import (
    UF_ACCOUNTDISABLE,
    UF_SMARTCARD_REQUIRED,
)
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
)
from hybridsync.core.values import AttributeValue, Reference

pytestmark = pytest.mark.samba
PASSWORD = "Initial-Pa55word!"
DONT_EXPIRE_PASSWORD = 0x10000


class RecordingConnection(Connection):
    """A real connection that remembers each modify request it sent."""

    def __init__(self, settings: ADSettings) -> None:
        super().__init__(settings)
        self.modifies: list[list[Modification]] = []
        self.lose_next_add_answer = False

    def modify(self, dn: str, changes: Sequence[Modification], *, permissive: bool = False) -> None:
        self.modifies.append(list(changes))
        super().modify(dn, changes, permissive=permissive)

    def add(self, dn: str, attributes: Sequence[tuple[str, list[bytes]]]) -> None:
        super().add(dn, attributes)
        if self.lose_next_add_answer:
            # The server applied the add; its answer is what gets lost.
            self.lose_next_add_answer = False
            raise ServerUnreachableError("connection reset while waiting for the answer")


@pytest.fixture
def exporter(
    samba_dc: SambaDC, ou: str, make_connector: Callable[..., ADConnector]
) -> Callable[..., tuple[ADConnector, RecordingConnection]]:
    """``exporter(**settings)``: a connector exporting into ``ou`` on a recording connection."""

    def make(**overrides: Any) -> tuple[ADConnector, RecordingConnection]:
        probe = make_connector(export_ou=ou, **overrides)
        settings = probe._settings
        connection = RecordingConnection(settings)
        connector = ADConnector("corp", settings, connection=connection,
                                password=lambda: PASSWORD)  # fmt: skip
        return connector, connection

    return make


def _change(
    kind: ExportKind, dn: str, anchor: str | None = None, object_type: str = "user",
    change_id: str = "c1", previous: dict[str, tuple[AttributeValue, ...]] | None = None,
    **attributes: tuple[AttributeValue, ...],
) -> ExportChange:  # fmt: skip
    changes = tuple(AttributeChange(name, values) for name, values in sorted(attributes.items()))
    return ExportChange(change_id, kind, anchor, dn, object_type, changes, previous or {})


def _one(results: Any) -> ExportResult:
    (result,) = list(results)
    assert isinstance(result, ExportResult)
    return result


def _attrs(samba_dc: SambaDC, dn: str, *names: str) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = samba_dc.search(dn, attributes=list(names))[0][1]
    return found


def _add_user(connector: ADConnector, ou: str, sam: str, **extra: Any) -> ExportResult:
    change = _change(ExportKind.ADD, f"CN={sam},{ou}", sAMAccountName=(sam,),
                     userPrincipalName=(f"{sam}@corp.contoso.com",), **extra)  # fmt: skip
    return _one(connector.export([change]))


def test_add_creates_an_enabled_user_who_can_bind_with_the_initial_password(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    assert connector.capabilities.export
    result = _add_user(connector, ou, n("new"), givenName=("Ada",), displayName=("Ada L",))
    assert result.outcome is ExportOutcome.APPLIED, result.message
    dn = f"CN={n('new')},{ou}"
    assert result.anchor == str(uuid.UUID(bytes_le=samba_dc.object_guid(dn)))
    assert result.written["objectSid"]  # what AD set itself, expected back on import
    held = _attrs(samba_dc, dn, "givenName", "userAccountControl")
    assert held["givenName"] == [b"Ada"]
    assert int(held["userAccountControl"][0]) & UF_ACCOUNTDISABLE == 0
    samba_dc.connect(f"{n('new')}@corp.contoso.com", PASSWORD).unbind_s()
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        samba_dc.connect(f"{n('new')}@corp.contoso.com", "Wrong-Pa55word!")


def test_smart_card_is_required_when_configured(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter(smart_card_required=True)
    change = _change(ExportKind.ADD, f"CN={n('sc')},{ou}", sAMAccountName=(n("sc"),))
    result = _one(connector.export([change]))
    assert result.outcome is ExportOutcome.APPLIED, result.message
    control = int(_attrs(samba_dc, f"CN={n('sc')},{ou}", "userAccountControl")[
        "userAccountControl"][0])  # fmt: skip
    assert control & UF_SMARTCARD_REQUIRED


def test_a_password_never_comes_from_a_rule(
    ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    result = _add_user(connector, ou, n("pw"), unicodePwd=('"x"',))
    assert result.outcome is ExportOutcome.REJECTED
    assert "unicodePwd" in result.message
    assert "generates" in result.message


def test_modify_replaces_and_clears_values(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    added = _add_user(connector, ou, n("mod"), title=("Engineer",), department=("R&D",))
    dn = f"CN={n('mod')},{ou}"
    change = _change(ExportKind.UPDATE, dn, added.anchor, title=("Lead",), department=(),
                     proxyAddresses=("SMTP:a@contoso.com", "smtp:b@contoso.com"))  # fmt: skip
    result = _one(connector.export([change]))
    assert result.outcome is ExportOutcome.APPLIED, result.message
    held = _attrs(samba_dc, dn, "title", "department", "proxyAddresses")
    assert held["title"] == [b"Lead"]
    assert "department" not in held
    assert sorted(held["proxyAddresses"]) == [b"SMTP:a@contoso.com", b"smtp:b@contoso.com"]


def test_member_changes_send_only_the_additions_and_removals_in_chunks(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, connection = exporter(member_chunk=2)
    users = [_add_user(connector, ou, n(f"m{i}")) for i in range(5)]
    anchors = [Reference(str(u.anchor)) for u in users]
    group = _one(connector.export([_change(ExportKind.ADD, f"CN={n('grp')},{ou}",
                                           object_type="group",
                                           sAMAccountName=(n("grp"),))]))  # fmt: skip
    assert group.outcome is ExportOutcome.APPLIED, group.message
    gdn = f"CN={n('grp')},{ou}"
    first = _change(ExportKind.UPDATE, gdn, group.anchor, "group",
                    previous={"member": ()}, member=tuple(anchors[:3]))  # fmt: skip
    connection.modifies.clear()
    assert _one(connector.export([first])).outcome is ExportOutcome.APPLIED
    assert [[(op, len(values or [])) for op, _, values in m] for m in connection.modifies] == [
        [(ldap.MOD_ADD, 2)],
        [(ldap.MOD_ADD, 1)],
    ]
    # The previous values as last imported (DNs) against the new ones (anchors): only
    # the difference is sent.
    imported = tuple(Reference(f"CN={n(f'm{i}')},{ou}") for i in range(3))
    second = _change(ExportKind.UPDATE, gdn, group.anchor, "group", change_id="c2",
                     previous={"member": imported},
                     member=(anchors[1], anchors[2], anchors[3], anchors[4]))  # fmt: skip
    connection.modifies.clear()
    assert _one(connector.export([second])).outcome is ExportOutcome.APPLIED
    sent = [(op, values) for m in connection.modifies for op, _, values in m]
    assert [(op, len(values or [])) for op, values in sent] == [
        (ldap.MOD_ADD, 2),
        (ldap.MOD_DELETE, 1),
    ]
    members = _attrs(samba_dc, gdn, "member")["member"]
    assert sorted(m.decode().split(",")[0] for m in members) == sorted(
        f"CN={n(f'm{i}')}" for i in (1, 2, 3, 4)
    )
    # Sent again (an unknown outcome retried): harmless.
    assert _one(connector.export([second])).outcome is ExportOutcome.APPLIED


def test_rename_and_move_follow_the_rule_dn(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    sub = samba_dc.add_ou("Moved", ou)
    added = _add_user(connector, ou, n("ren"))
    renamed = _change(ExportKind.UPDATE, f"CN=Renamed {n('ren')},{ou}", added.anchor,
                      title=("After rename",))  # fmt: skip
    assert _one(connector.export([renamed])).outcome is ExportOutcome.APPLIED
    assert _attrs(samba_dc, f"CN=Renamed {n('ren')},{ou}", "title")["title"] == [b"After rename"]
    moved = _change(ExportKind.UPDATE, f"CN=Renamed {n('ren')},{sub}", added.anchor)
    assert _one(connector.export([moved])).outcome is ExportOutcome.APPLIED
    assert samba_dc.search(f"CN=Renamed {n('ren')},{sub}", attributes=["cn"])
    outside = _change(ExportKind.UPDATE, f"CN=x,CN=Users,{samba_dc.base_dn}", added.anchor)
    refused = _one(connector.export([outside]))
    assert refused.outcome is ExportOutcome.REJECTED
    assert "outside the export OU" in refused.message


def test_disable_and_enable_flip_one_bit_and_keep_the_others(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    added = _add_user(connector, ou, n("dis"))
    dn = f"CN={n('dis')},{ou}"
    samba_dc.modify(dn, {"userAccountControl": 0x200 | DONT_EXPIRE_PASSWORD})

    def control() -> int:
        return int(_attrs(samba_dc, dn, "userAccountControl")["userAccountControl"][0])

    off = _change(ExportKind.UPDATE, dn, added.anchor, accountDisabled=(True,))
    assert _one(connector.export([off])).outcome is ExportOutcome.APPLIED
    assert control() == 0x200 | DONT_EXPIRE_PASSWORD | UF_ACCOUNTDISABLE
    on = _change(ExportKind.UPDATE, dn, added.anchor, accountDisabled=(False,))
    assert _one(connector.export([on])).outcome is ExportOutcome.APPLIED
    assert control() == 0x200 | DONT_EXPIRE_PASSWORD


def test_delete_removes_the_object_and_a_second_delete_is_applied(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    added = _add_user(connector, ou, n("del"))
    dn = f"CN={n('del')},{ou}"
    delete = _change(ExportKind.DELETE, dn, added.anchor)
    assert _one(connector.export([delete])).outcome is ExportOutcome.APPLIED
    assert connector.read_back(delete) is None
    assert _one(connector.export([delete])).outcome is ExportOutcome.APPLIED


def test_a_duplicate_sam_account_name_is_an_object_error_and_the_batch_goes_on(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    samba_dc.add_user(n("dup"), ou_dn=ou, cn="Made by hand")
    connector, _ = exporter()
    clash = _change(ExportKind.ADD, f"CN=Other,{ou}", sAMAccountName=(n("dup"),))
    fine = _change(ExportKind.ADD, f"CN={n('ok')},{ou}", change_id="c2",
                   sAMAccountName=(n("ok"),))  # fmt: skip
    results = {r.change_id: r for r in connector.export([clash, fine])}
    assert results["c1"].outcome is ExportOutcome.REJECTED
    assert results["c1"].message.startswith(f"CN=Other,{ou}: sAMAccountName: ")
    assert results["c2"].outcome is ExportOutcome.APPLIED


def test_an_add_of_an_existing_dn_joins_it(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    dn = samba_dc.add_user(n("there"), ou_dn=ou)
    connector, _ = exporter()
    result = _add_user(connector, ou, n("there"))
    assert result.outcome is ExportOutcome.APPLIED
    assert result.anchor == str(uuid.UUID(bytes_le=samba_dc.object_guid(dn)))


def test_an_answer_lost_after_the_add_is_unknown_then_read_back_without_a_duplicate(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, connection = exporter()
    connection.lose_next_add_answer = True
    first = _change(ExportKind.ADD, f"CN={n('lost')},{ou}", sAMAccountName=(n("lost"),))
    later = _change(ExportKind.ADD, f"CN={n('later')},{ou}", change_id="c2",
                    sAMAccountName=(n("later"),))  # fmt: skip
    results = {r.change_id: r for r in connector.export([first, later])}
    assert results["c1"].outcome is ExportOutcome.UNKNOWN
    assert results["c2"].outcome is ExportOutcome.UNKNOWN  # not sent on a lost connection
    found = connector.read_back(first)
    assert found is not None
    assert found.dn == f"CN={n('lost')},{ou}"
    assert connector.read_back(later) is None
    again = {r.change_id: r for r in connector.export([first, later])}
    assert again["c1"].outcome is ExportOutcome.APPLIED
    assert again["c1"].anchor == found.anchor
    assert again["c2"].outcome is ExportOutcome.APPLIED
    same_name = samba_dc.search(ou, f"(sAMAccountName={n('lost')})", scope=ldap.SCOPE_SUBTREE,
                                attributes=["cn"])  # fmt: skip
    assert len(same_name) == 1


def test_an_add_whose_dn_a_group_or_a_computer_holds_is_refused_not_joined(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    group_dn = samba_dc.add_group(n("taken"), ou_dn=ou)
    computer_dn = f"CN={n('pc')},{ou}"
    samba_dc.admin.add_s(computer_dn, [
        ("objectClass", [b"top", b"person", b"organizationalPerson", b"user", b"computer"]),
        ("sAMAccountName", [f"{n('pc')}$".encode()]),
    ])  # fmt: skip
    connector, _ = exporter()
    for dn, held in ((group_dn, "group"), (computer_dn, "computer")):
        change = _change(ExportKind.ADD, dn, sAMAccountName=(n("other"),))
        result = _one(connector.export([change]))
        assert result.outcome is ExportOutcome.REJECTED, dn
        assert result.message.startswith(f"{dn}: DN taken by a {held}, not a user")
        assert result.anchor is None
    # A group's add on a group's DN still joins it.
    joined = _one(connector.export([_change(ExportKind.ADD, group_dn, object_type="group",
                                            sAMAccountName=(n("taken"),))]))  # fmt: skip
    assert joined.outcome is ExportOutcome.APPLIED, joined.message
    assert joined.anchor == str(uuid.UUID(bytes_le=samba_dc.object_guid(group_dn)))


def test_a_delete_of_an_object_moved_out_of_the_export_ou_is_refused_where_it_is_now(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter()
    added = _add_user(connector, ou, n("away"))
    stale_dn = f"CN={n('away')},{ou}"
    elsewhere = samba_dc.move(stale_dn, new_parent=f"CN=Users,{samba_dc.base_dn}")
    result = _one(connector.export([_change(ExportKind.DELETE, stale_dn, added.anchor)]))
    assert result.outcome is ExportOutcome.REJECTED
    assert "outside the export OU" in result.message
    assert result.message.startswith(f"{elsewhere}: ")
    assert samba_dc.search(elsewhere, attributes=["cn"])  # still there
    samba_dc.delete(elsewhere)


def test_one_member_that_names_no_object_is_the_only_error_of_the_group_change(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, _ = exporter(member_chunk=2)
    users = [_add_user(connector, ou, n(f"bm{i}")) for i in range(3)]
    group = _one(connector.export([_change(ExportKind.ADD, f"CN={n('bgrp')},{ou}",
                                           object_type="group",
                                           sAMAccountName=(n("bgrp"),))]))  # fmt: skip
    gdn = f"CN={n('bgrp')},{ou}"
    missing = f"CN=Nobody {n('x')},{ou}"
    wanted = (Reference(missing), *(Reference(str(u.anchor)) for u in users))
    change = _change(ExportKind.UPDATE, gdn, group.anchor, "group", previous={"member": ()},
                     member=wanted)  # fmt: skip
    result = _one(connector.export([change]))
    assert result.outcome is ExportOutcome.REJECTED
    assert f"member: adding {missing}: " in result.message
    assert "export OU exist" not in result.message
    members = _attrs(samba_dc, gdn, "member")["member"]
    assert sorted(m.decode().split(",")[0] for m in members) == sorted(
        f"CN={n(f'bm{i}')}" for i in range(3)
    )


def test_user_account_control_from_a_rule_and_account_disabled_are_one_valid_value(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], exporter: Callable[..., Any]
) -> None:
    connector, connection = exporter(smart_card_required=True)
    added = _add_user(connector, ou, n("uac"))
    dn = f"CN={n('uac')},{ou}"
    both = _change(ExportKind.UPDATE, dn, added.anchor, title=("Lead",),
                   userAccountControl=(str(0x200 | DONT_EXPIRE_PASSWORD),),
                   accountDisabled=(True,))  # fmt: skip
    connection.modifies.clear()
    result = _one(connector.export([both]))
    assert result.outcome is ExportOutcome.APPLIED, result.message
    held = _attrs(samba_dc, dn, "userAccountControl", "title")
    assert int(held["userAccountControl"][0]) == (
        0x200 | DONT_EXPIRE_PASSWORD | UF_ACCOUNTDISABLE | UF_SMARTCARD_REQUIRED
    )
    assert held["title"] == [b"Lead"]
    bad = _change(ExportKind.UPDATE, dn, added.anchor, change_id="c2", title=("Other",),
                  userAccountControl=("abc",), accountDisabled=(False,))  # fmt: skip
    connection.modifies.clear()
    refused = _one(connector.export([bad]))
    assert refused.outcome is ExportOutcome.REJECTED
    assert refused.message.startswith(f"{dn}: userAccountControl: 'abc' is not an integer")
    assert connection.modifies == []
    assert _attrs(samba_dc, dn, "title")["title"] == [b"Lead"]
