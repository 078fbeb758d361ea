"""The Samba AD DC fixture itself: what later tests rely on."""

from __future__ import annotations

import socket
import ssl
import subprocess

import ldap
import pytest
from tests.support.samba import USER_PASSWORD, SambaDC

pytestmark = pytest.mark.samba


def test_the_dc_serves_the_contoso_sample_over_ldaps(samba_dc: SambaDC) -> None:
    found = samba_dc.search(
        samba_dc.ou("Partners"),
        "(sAMAccountName=wmoran)",
        scope=ldap.SCOPE_SUBTREE,
        attributes=["userPrincipalName", "extensionAttribute1"],
    )
    assert found == [
        (
            f"CN=William Moran,OU=Partners,{samba_dc.base_dn}",
            {
                "userPrincipalName": [b"wmoran@partners.contoso.com"],
                "extensionAttribute1": [b"Guest"],
            },
        )
    ]


def test_sample_users_can_bind_with_the_documented_password(samba_dc: SambaDC) -> None:
    conn = samba_dc.connect("msullivan@partners.contoso.com", USER_PASSWORD)
    conn.unbind_s()
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        samba_dc.connect("msullivan@partners.contoso.com", USER_PASSWORD + "x")


def test_the_certificate_names_the_address_and_is_rejected_without_its_ca(
    samba_dc: SambaDC,
) -> None:
    verified = ssl.create_default_context(cafile=str(samba_dc.ca_file))
    with verified.wrap_socket(
        socket.create_connection((samba_dc.address, 636), timeout=5),
        server_hostname=samba_dc.address,
    ) as tls:
        assert tls.version() is not None
    system_store = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        system_store.wrap_socket(
            socket.create_connection((samba_dc.address, 636), timeout=5),
            server_hostname=samba_dc.address,
        )


def test_plain_ldap_simple_bind_is_refused(samba_dc: SambaDC) -> None:
    conn = ldap.initialize(samba_dc.ldap_url)
    with pytest.raises(ldap.STRONG_AUTH_REQUIRED):
        conn.simple_bind_s(samba_dc.admin_upn, samba_dc.admin_password)


def test_the_address_is_on_lo_and_private_to_this_dc(samba_dc: SambaDC) -> None:
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", "lo"], check=True, capture_output=True, text=True
    ).stdout
    assert f"{samba_dc.address}/32" in shown
    assert samba_dc.address != "127.0.0.1"


def test_changes_rename_delete_restore_and_restart(samba_dc: SambaDC) -> None:
    ou = samba_dc.add_ou("FixtureChecks")
    dn = samba_dc.add_user("fxcheck", ou_dn=ou, upn="fxcheck@contoso.com")
    samba_dc.modify(dn, {"title": "Tester", "extensionAttribute1": "Member"})
    moved = samba_dc.move(dn, new_rdn="CN=Fixture Check")
    guid = samba_dc.object_guid(moved)
    samba_dc.delete(moved)
    assert samba_dc.search(ou, "(sAMAccountName=fxcheck)", scope=ldap.SCOPE_SUBTREE) == []
    samba_dc.restore(guid, moved)
    samba_dc.stop()
    samba_dc.start()
    # Without the Recycle Bin a tombstone keeps only a few attributes (as in AD):
    # the restored object has its GUID and account name back, not its title.
    entry = samba_dc.search(moved, attributes=["title", "objectGUID", "sAMAccountName"])[0][1]
    assert entry == {"objectGUID": [guid], "sAMAccountName": [b"fxcheck"]}
