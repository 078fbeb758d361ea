"""Awkward directory data: every object still arrives, values intact."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.core.ports import ImportKind

pytestmark = pytest.mark.samba


def test_users_without_upn_non_ascii_long_values_and_special_dns(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    long_text = "Ω" * 1024  # the schema's upper bound for extensionAttribute1
    samba_dc.add_user(n("noupn"), ou_dn=ou, upn=None)
    values = {"givenName": "Zoë", "sn": "Schäfer-Łukasiewicz 🚀", "extensionAttribute1": long_text}
    special = samba_dc.add_user(
        n("zoe"),
        ou_dn=ou,
        cn="Schäfer, Zoë + Łukasz <ops>",
        upn=f"{n('zoe')}@contoso.com",
        attributes=values,
    )
    space.full(make_connector().full_import())
    assert "userPrincipalName" not in space.by_name(n("noupn")).attributes
    zoe = space.by_name(n("zoe"))
    assert zoe.dn == special
    assert zoe.attributes["sn"] == ("Schäfer-Łukasiewicz 🚀",)
    assert zoe.attributes["extensionAttribute1"] == (long_text,)


def test_binary_attributes_stay_bytes(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    guid = bytes(range(200, 216))  # not valid UTF-8 on purpose
    dn = samba_dc.add_user(n("bin"), ou_dn=ou, upn=f"{n('bin')}@contoso.com",
                           attributes={"mS-DS-ConsistencyGuid": guid})  # fmt: skip
    space.full(make_connector().full_import())
    user = space.by_name(n("bin"))
    assert user.attributes["mS-DS-ConsistencyGuid"] == (guid,)
    assert user.attributes["objectGUID"] == (samba_dc.object_guid(dn),)
    (sid,) = user.attributes["objectSid"]
    assert isinstance(sid, bytes)
    assert sid[:2] == b"\x01\x05"  # revision 1, five sub-authorities: a domain account


@pytest.mark.parametrize("mode", ["dirsync", "usn"])
def test_emptied_multi_valued_attribute(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], mode: str,
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    addresses = [f"SMTP:{n('multi')}@contoso.com", f"smtp:{n('multi')}@corp.contoso.com"]
    dn = samba_dc.add_user(n("multi"), ou_dn=ou, upn=f"{n('multi')}@contoso.com",
                           attributes={"proxyAddresses": addresses})  # fmt: skip
    connector = make_connector(delta_mode=mode)
    space.full(connector.full_import())
    assert sorted(space.by_name(n("multi")).attributes["proxyAddresses"]) == sorted(addresses)
    samba_dc.modify(dn, {"proxyAddresses": []})
    records = space.delta(connector.delta_import(space.watermark or ""))
    assert "proxyAddresses" not in space.by_name(n("multi")).attributes
    if mode == "dirsync":
        (record,) = records
        assert record.kind is ImportKind.UPDATE
        assert record.attributes["proxyAddresses"] == ()
