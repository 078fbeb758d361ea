"""Full import against a real directory: paging, scoping, values, discovery."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.core.ports import ImportKind
from hybridsync.core.values import Reference

pytestmark = pytest.mark.samba


def test_full_import_reads_every_user_across_pages(
    samba_dc: SambaDC, n: Callable[[str], str], ou: str, make_connector: Callable[..., ADConnector]
) -> None:
    dns = samba_dc.add_users_bulk(1600, ou_dn=ou, prefix="bulk")
    pages = list(make_connector(object_types=("user",)).full_import())
    records = [record for page in pages for record in page.objects]
    assert len(pages) >= 3  # 1,000 per page, then the watermark page
    assert sorted(r.dn for r in records) == sorted(dns)
    assert len({r.anchor for r in records}) == 1600
    assert all(page.watermark is None for page in pages[:-1])
    assert pages[-1].watermark is not None
    assert not pages[-1].objects
    sample = next(r for r in records if r.dn == dns[1234])
    assert sample.kind is ImportKind.PRESENT
    assert sample.attributes["userPrincipalName"] == ("bulk001234@contoso.com",)
    assert sample.attributes["objectGUID"] == (samba_dc.object_guid(dns[1234]),)


def test_the_anchor_is_the_object_guid_as_ad_writes_it(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    make_connector: Callable[..., ADConnector],
    space: ConnectorSpace,
) -> None:
    dn = samba_dc.add_user(n("anchor1"), ou_dn=ou, upn=n("anchor1") + "@contoso.com")
    space.full(make_connector().full_import())
    guid = samba_dc.object_guid(dn)
    shown = samba_dc.search(f"<GUID={space.by_name(n('anchor1')).anchor}>", attributes=["cn"])
    assert shown[0][0] == dn
    assert space.by_name(n("anchor1")).attributes["objectGUID"] == (guid,)


def test_ou_include_and_exclude_lists(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    make_connector: Callable[..., ADConnector],
    space: ConnectorSpace,
) -> None:
    kept = samba_dc.add_ou("Kept", ou)
    dropped = samba_dc.add_ou("Dropped", kept)
    samba_dc.add_user(n("inkept"), ou_dn=kept, upn="inkept@contoso.com")
    samba_dc.add_user(n("indropped"), ou_dn=dropped, upn="indropped@contoso.com")
    samba_dc.add_user(n("atroot"), ou_dn=ou, upn="atroot@contoso.com")
    space.full(make_connector(include_ous=(kept,), exclude_ous=(dropped,)).full_import())
    assert sorted(o.attributes["sAMAccountName"][0] for o in space.objects.values()) == [
        n("inkept")
    ]


def test_whole_domain_includes_the_contoso_sample_and_groups_with_members(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    make_connector: Callable[..., ADConnector],
    space: ConnectorSpace,
) -> None:
    moran = f"CN=William Moran,OU=Partners,{samba_dc.base_dn}"
    group = samba_dc.add_group(n("Partners-All"), ou_dn=ou, members=[moran])
    samba_dc.add_group(n("Empty-Group"), ou_dn=ou)
    space.full(make_connector(include_ous=()).full_import())
    assert space.by_name("wmoran").attributes["extensionAttribute1"] == ("Guest",)
    assert space.by_name("msullivan").attributes["userPrincipalName"] == (
        "msullivan@partners.contoso.com",
    )
    groups = {o.dn: o for o in space.objects.values() if o.object_type == "group"}
    assert groups[group].attributes["member"] == (Reference(moran),)
    assert "member" not in groups[f"CN={n('Empty-Group')},{ou}"].attributes
    assert "Administrator" in {o.attributes["sAMAccountName"][0] for o in space.objects.values()}


def test_parameters_come_from_rootdse_and_partitions(
    samba_dc: SambaDC, n: Callable[[str], str], make_connector: Callable[..., ADConnector]
) -> None:
    assert make_connector().parameters() == {
        "Domain.FQDN": "corp.contoso.com",
        "Domain.Netbios": "CORP",
        "Domain.LDAP": samba_dc.base_dn,
        "Forest.FQDN": "corp.contoso.com",
        "Forest.Netbios": "CORP",
        "Forest.LDAP": samba_dc.base_dn,
    }


def test_start_tls_on_the_plain_port(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    make_connector: Callable[..., ADConnector],
    space: ConnectorSpace,
) -> None:
    samba_dc.add_user(n("starttls1"), ou_dn=ou, upn=n("starttls1") + "@contoso.com")
    space.full(make_connector(url=samba_dc.ldap_url, start_tls=True).full_import())
    assert space.by_name(n("starttls1")).attributes["userPrincipalName"] == (
        n("starttls1") + "@contoso.com",
    )
