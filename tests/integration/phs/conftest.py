"""Fixtures of the PHS integration tests: an OU of their own and the sync accounts."""

from __future__ import annotations

import hashlib
import logging

import pytest
import structlog
from tests.integration.phs.accounts import Account, grant_replication_rights
from tests.support.samba import SambaDC


@pytest.fixture(scope="module")
def tag(request: pytest.FixtureRequest) -> str:
    """A short name per test module: accounts are unique domain-wide (20 characters)."""
    return hashlib.sha1(request.module.__name__.encode()).hexdigest()[:6]


@pytest.fixture(scope="module")
def phs_ou(samba_dc: SambaDC, tag: str) -> str:
    return samba_dc.add_ou(f"PHS-{tag}")


@pytest.fixture(scope="module")
def sync_account(samba_dc: SambaDC, phs_ou: str, tag: str) -> Account:
    """An account with only the two replication rights (least privilege)."""
    password = "Sync-Acc0unt!Pw"
    dn = samba_dc.add_user(f"sync-{tag}", ou_dn=phs_ou, password=password)
    grant_replication_rights(samba_dc, dn)
    return Account(f"sync-{tag}", dn, password)


@pytest.fixture(scope="module")
def plain_account(samba_dc: SambaDC, phs_ou: str, tag: str) -> Account:
    """An ordinary user without replication rights."""
    password = "Plain-Acc0unt!Pw"
    dn = samba_dc.add_user(f"plain-{tag}", ou_dn=phs_ou, password=password)
    return Account(f"plain-{tag}", dn, password)


@pytest.fixture(scope="module")
def admin_account(samba_dc: SambaDC) -> Account:
    return Account("Administrator", samba_dc.admin_dn, samba_dc.admin_password)


@pytest.fixture(autouse=True)
def default_logging() -> None:
    """Logging as a library user has it: no CLI setup left by a command run in-process.

    ``hybridsync`` commands invoked through a CliRunner configure structlog and a root
    handler for streams that are closed afterwards; these tests read the default output.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_hybridsync", False)]:
        root.removeHandler(handler)
    structlog.reset_defaults()
