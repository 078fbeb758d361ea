"""Reading NT hashes over MS-DRSR from a real Samba AD DC."""

from __future__ import annotations

import uuid

import pytest
from tests.integration.phs.accounts import (
    Account,
    guid_text,
    object_sid,
    samba_tool_setpassword,
    settings_for,
)
from tests.support.samba import SambaDC

from hybridsync.connectors.drsr import (
    DrsrAuthenticationError,
    DrsrHashReader,
    ExtendedOperation,
    ReplicationAccessDeniedError,
    UserNotReadableError,
)
from hybridsync.core.password_hash_sync.hashes import (
    derive_password_hash,
    nt_hash_of_password,
    verify_password,
)

pytestmark = pytest.mark.samba


@pytest.fixture(scope="module")
def partner(samba_dc: SambaDC, phs_ou: str, tag: str) -> Account:
    password = "Partner-Pw!2026a"
    dn = samba_dc.add_user(f"partner-{tag}", ou_dn=phs_ou, password=password)
    return Account(f"partner-{tag}", dn, password)


def test_the_nt_hash_read_over_drsr_is_md4_of_the_password(
    samba_dc: SambaDC, sync_account: Account, partner: Account
) -> None:
    with DrsrHashReader(settings_for(samba_dc, sync_account)) as reader:
        nt_hash = reader.read_nt_hash(guid_text(samba_dc, partner.dn))
    assert nt_hash == nt_hash_of_password(partner.password)
    # The derived cloud hash verifies the AD password and nothing else.
    derived = derive_password_hash(nt_hash)
    assert verify_password(partner.password, derived)
    assert not verify_password(partner.password + "!", derived)


def test_the_hash_follows_samba_tool_setpassword(
    samba_dc: SambaDC, sync_account: Account, phs_ou: str, tag: str
) -> None:
    dn = samba_dc.add_user(f"chg-{tag}", ou_dn=phs_ou, password="Before-Pw!2026a")
    guid = guid_text(samba_dc, dn)
    reader = DrsrHashReader(settings_for(samba_dc, sync_account))
    with reader:
        assert reader.read_nt_hash(guid) == nt_hash_of_password("Before-Pw!2026a")
    samba_tool_setpassword(samba_dc, f"chg-{tag}", "After-Pw!2026b")
    with reader:
        after = reader.read_nt_hash(guid)
    assert after == nt_hash_of_password("After-Pw!2026b")
    assert after != nt_hash_of_password("Before-Pw!2026a")


def test_a_user_is_found_by_guid_sid_or_dn(
    samba_dc: SambaDC, sync_account: Account, partner: Account
) -> None:
    expected = nt_hash_of_password(partner.password)
    names = [guid_text(samba_dc, partner.dn), object_sid(samba_dc, partner.dn), partner.dn]
    with DrsrHashReader(settings_for(samba_dc, sync_account)) as reader:
        assert [reader.read_nt_hash(name) for name in names] == [expected] * 3


def test_many_users_in_one_session_and_a_missing_one_does_not_stop_the_rest(
    samba_dc: SambaDC, sync_account: Account, partner: Account, plain_account: Account
) -> None:
    missing = str(uuid.uuid4())
    users = [guid_text(samba_dc, partner.dn), missing, guid_text(samba_dc, plain_account.dn)]
    reader = DrsrHashReader(settings_for(samba_dc, sync_account))
    results = list(reader.read_nt_hashes(users))
    assert [r.anchor for r in results] == users
    assert results[0].nt_hash == nt_hash_of_password(partner.password)
    assert results[1].nt_hash is None
    assert results[1].error.startswith(f"user {missing}: not found on the DC")
    assert results[2].nt_hash == nt_hash_of_password(plain_account.password)
    assert not reader.is_open  # the session it opened is closed again


def test_a_single_missing_user_raises_an_object_error(
    samba_dc: SambaDC, sync_account: Account
) -> None:
    with (
        DrsrHashReader(settings_for(samba_dc, sync_account)) as reader,
        pytest.raises(UserNotReadableError, match="not found on the DC"),
    ):
        reader.read_nt_hash(f"CN=nobody,{samba_dc.base_dn}")


def test_an_account_without_replication_rights_is_refused_with_a_clear_error(
    samba_dc: SambaDC, plain_account: Account, partner: Account
) -> None:
    reader = DrsrHashReader(settings_for(samba_dc, plain_account))
    with pytest.raises(ReplicationAccessDeniedError) as caught:
        list(reader.read_nt_hashes([guid_text(samba_dc, partner.dn)]))
    message = str(caught.value)
    assert f"{samba_dc.fqdn}\\{plain_account.sam}" in message
    assert "ERROR_DS_DRA_ACCESS_DENIED" in message
    assert "'Replicating Directory Changes All'" in message
    assert not reader.is_open


def test_a_wrong_password_is_an_authentication_error(
    samba_dc: SambaDC, sync_account: Account
) -> None:
    wrong = "Not-The-Passw0rd!"
    with pytest.raises(DrsrAuthenticationError, match="check the user name") as caught:
        DrsrHashReader(settings_for(samba_dc, sync_account, password=wrong)).open()
    assert wrong not in str(caught.value)


def test_samba_grants_repl_secrets_to_administrators_and_repl_obj_to_the_sync_account(
    samba_dc: SambaDC, sync_account: Account, admin_account: Account, partner: Account
) -> None:
    """Samba answers EXOP_REPL_SECRETS only for DCs and administrators; AUTO falls back."""
    guid = guid_text(samba_dc, partner.dn)
    expected = nt_hash_of_password(partner.password)
    with DrsrHashReader(settings_for(samba_dc, admin_account)) as admin:
        assert admin.read_nt_hash(guid) == expected
        assert admin.extended_operation_used is ExtendedOperation.REPL_SECRETS
    with DrsrHashReader(settings_for(samba_dc, sync_account)) as least:
        assert least.read_nt_hash(guid) == expected
        assert least.extended_operation_used is ExtendedOperation.REPL_OBJ
    forced = settings_for(samba_dc, sync_account, operation=ExtendedOperation.REPL_SECRETS)
    with DrsrHashReader(forced) as reader, pytest.raises(ReplicationAccessDeniedError):
        reader.read_nt_hash(guid)


def test_a_user_without_a_password_is_an_error_result(
    samba_dc: SambaDC, sync_account: Account, phs_ou: str, tag: str
) -> None:
    dn = samba_dc.add_user(f"nopw-{tag}", ou_dn=phs_ou, password=None)
    guid = guid_text(samba_dc, dn)
    [result] = DrsrHashReader(settings_for(samba_dc, sync_account)).read_nt_hashes([guid])
    assert result.nt_hash is None
    assert result.error == f"user {guid}: has no password hash (unicodePwd) to sync"
