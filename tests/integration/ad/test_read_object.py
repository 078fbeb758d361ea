"""``ADConnector.read_object`` (sync on demand's import) on Samba: one object by DN,
anchor or UPN, never more than one, and why an object found is not synced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.connectors.ad.reader import Reader
from hybridsync.core.ports import ImportedObject, ImportKind, OutOfScope

pytestmark = pytest.mark.samba


def full(connector: ADConnector) -> dict[str, ImportedObject]:
    return {obj.dn: obj for page in connector.full_import() for obj in page.objects}


def test_by_dn_anchor_or_upn_it_is_the_object_a_full_import_reads(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector], ou: str, n: Any
) -> None:
    connector = make_connector()
    dn = samba_dc.add_user(n("ann"), upn=f"{n('ann')}@contoso.com", ou_dn=ou,
                           attributes={"title": "Engineer"})  # fmt: skip
    expected = full(connector)[dn]

    for key in (dn, expected.anchor, expected.anchor.upper(), f"{n('ANN')}@Contoso.com"):
        found = connector.read_object(key)
        assert isinstance(found, ImportedObject), key
        assert found.kind is ImportKind.REPLACE
        assert (found.anchor, found.dn, found.attributes) == (
            expected.anchor, expected.dn, expected.attributes,
        )  # fmt: skip


def test_what_it_does_not_sync_is_out_of_scope_with_the_reason(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector], ou: str, n: Any
) -> None:
    connector = make_connector(object_types=("user",))
    elsewhere = samba_dc.add_user(n("bob"))  # CN=Users: outside the connector's OU
    found = connector.read_object(elsewhere)
    assert isinstance(found, OutOfScope)
    assert "outside the connector's OUs" in found.reason

    group = samba_dc.add_group(n("team"), ou_dn=ou)
    found = connector.read_object(group)
    assert isinstance(found, OutOfScope)
    assert found.reason.startswith("it is group; the connector syncs user")


@pytest.mark.parametrize(
    "key",
    ["*", "*@contoso.com", "*)(objectClass=*", "x@y)(|(objectClass=*", "not a key",
     "00000000-0000-0000-0000-000000000000", "CN=Nobody,DC=corp,DC=contoso,DC=com"],
)  # fmt: skip
def test_an_unknown_key_or_filter_syntax_reads_nothing(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector], ou: str, n: Any, key: str
) -> None:
    connector = make_connector()
    samba_dc.add_user(n("cy"), upn=f"{n('cy')}@contoso.com", ou_dn=ou)
    assert connector.read_object(key) is None


def test_a_search_stops_at_its_limit(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector], ou: str, n: Any
) -> None:
    connector = make_connector()
    for name in ("d1", "d2", "d3"):
        samba_dc.add_user(n(name), ou_dn=ou)
    reader: Reader = connector._read()
    found = reader.conn.search_at_most(ou, "(objectClass=user)", ["objectGUID"], 2)
    assert len(found) == 2
