"""Password hash sync runs against Samba: change finder + DRSR reader + derived hashes.

The upload to the cloud directory comes with the engine; here the "cloud" is the dict of
wire-format hashes a run would upload, checked the way the cloud checks a sign-in.
"""

from __future__ import annotations

from collections.abc import Collection

import pytest
from tests.integration.phs.accounts import (
    Account,
    guid_text,
    samba_tool_setpassword,
    settings_for,
)
from tests.integration.phs.usn_feed import UsnPasswordFeed
from tests.support.samba import SambaDC

from hybridsync.connectors.drsr import DomainControllerUnreachableError, DrsrHashReader
from hybridsync.core.password_hash_sync.changes import (
    NTHashSource,
    PasswordChangeFeed,
    PasswordSyncState,
    plan_password_sync,
    record_outcome,
)
from hybridsync.core.password_hash_sync.hashes import (
    PasswordHash,
    derive_password_hash,
    verify_password,
)

pytestmark = pytest.mark.samba


def run_once(
    state: PasswordSyncState,
    feed: PasswordChangeFeed,
    source: NTHashSource,
    in_scope: Collection[str],
) -> tuple[PasswordSyncState, dict[str, str]]:
    """One PHS run as the engine will drive it; returns the new state and the uploads."""
    plan = plan_password_sync(state, feed.password_changes(state.watermark), in_scope)
    uploads = {
        read.anchor: derive_password_hash(read.nt_hash).to_wire()
        for read in source.read_nt_hashes([c.anchor for c in plan.to_sync])
        if read.nt_hash is not None
    }
    return record_outcome(state, plan, succeeded=uploads.keys()), uploads


def signs_in(uploads: dict[str, str], anchor: str, password: str) -> bool:
    return verify_password(password, PasswordHash.from_wire(uploads[anchor]))


def test_first_run_then_a_password_change_then_nothing(
    samba_dc: SambaDC, phs_ou: str, tag: str, sync_account: Account
) -> None:
    partners = samba_dc.add_ou("Partners", parent_dn=phs_ou)
    ana = guid_text(
        samba_dc, samba_dc.add_user(f"ana-{tag}", ou_dn=partners, password="Ana-Pw!2026a")
    )
    ben = guid_text(
        samba_dc, samba_dc.add_user(f"ben-{tag}", ou_dn=partners, password="Ben-Pw!2026a")
    )
    filtered = guid_text(
        samba_dc, samba_dc.add_user(f"flt-{tag}", ou_dn=partners, password="Flt-Pw!2026a")
    )
    feed = UsnPasswordFeed(samba_dc, partners)
    source = DrsrHashReader(settings_for(samba_dc, sync_account))
    in_scope = {ana, ben}

    state, uploads = run_once(PasswordSyncState(), feed, source, in_scope)
    assert set(uploads) == {ana, ben}  # the filtered user gets no hash
    assert signs_in(uploads, ana, "Ana-Pw!2026a")
    assert signs_in(uploads, ben, "Ben-Pw!2026a")
    assert not signs_in(uploads, ana, "Ben-Pw!2026a")
    assert filtered not in state.synced

    samba_tool_setpassword(samba_dc, f"ana-{tag}", "Ana-New!2026b")
    state, uploads = run_once(state, feed, source, in_scope)
    assert set(uploads) == {ana}
    assert signs_in(uploads, ana, "Ana-New!2026b")
    assert not signs_in(uploads, ana, "Ana-Pw!2026a")

    state, uploads = run_once(state, feed, source, in_scope)
    assert uploads == {}
    assert state.pending == {}


def test_a_user_that_cannot_be_read_is_retried_and_does_not_block_others(
    samba_dc: SambaDC, phs_ou: str, tag: str, sync_account: Account
) -> None:
    ou = samba_dc.add_ou("Retry", parent_dn=phs_ou)
    ok = guid_text(samba_dc, samba_dc.add_user(f"ok-{tag}", ou_dn=ou, password="Ok-Pw!2026ab"))
    no_password = guid_text(samba_dc, samba_dc.add_user(f"np-{tag}", ou_dn=ou, password=None))
    feed = UsnPasswordFeed(samba_dc, ou)
    source = DrsrHashReader(settings_for(samba_dc, sync_account))

    state, uploads = run_once(PasswordSyncState(), feed, source, {ok, no_password})
    assert set(uploads) == {ok}
    assert set(state.pending) == {no_password}

    samba_tool_setpassword(samba_dc, f"np-{tag}", "Np-Pw!2026abc")
    state, uploads = run_once(state, feed, source, {ok, no_password})
    assert set(uploads) == {no_password}
    assert signs_in(uploads, no_password, "Np-Pw!2026abc")
    assert state.pending == {}


def test_a_dc_that_goes_away_fails_the_run_and_the_next_run_completes_it(
    samba_dc: SambaDC, phs_ou: str, tag: str, sync_account: Account
) -> None:
    ou = samba_dc.add_ou("Down", parent_dn=phs_ou)
    cy = guid_text(samba_dc, samba_dc.add_user(f"cy-{tag}", ou_dn=ou, password="Cy-Pw!2026abc"))
    feed = UsnPasswordFeed(samba_dc, ou)
    source = DrsrHashReader(settings_for(samba_dc, sync_account))
    state, _ = run_once(PasswordSyncState(), feed, source, {cy})
    samba_tool_setpassword(samba_dc, f"cy-{tag}", "Cy-New!2026abc")
    pages = list(feed.password_changes(state.watermark))  # read before the DC goes away

    with source:
        samba_dc.stop()
        try:
            plan = plan_password_sync(state, pages, {cy})
            with pytest.raises(DomainControllerUnreachableError, match="connection was lost"):
                list(source.read_nt_hashes([c.anchor for c in plan.to_sync]))
            source.close()
            with pytest.raises(DomainControllerUnreachableError, match="cannot open MS-DRSR"):
                source.open()
        finally:
            samba_dc.start()

    # Nothing was recorded: the next run reads the same change and completes it.
    state, uploads = run_once(state, feed, source, {cy})
    assert set(uploads) == {cy}
    assert signs_in(uploads, cy, "Cy-New!2026abc")
