"""Session fixtures for real servers, registered in ``tests/conftest.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.conftest import REPO_ROOT, skip_unless_ci

if TYPE_CHECKING:
    from tests.support.samba import SambaDC

__all__ = ["CONTOSO_LDIF", "samba_dc"]

CONTOSO_LDIF = REPO_ROOT / "src" / "hybridsync" / "samples" / "contoso.ldif"


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    """A running Samba AD DC on its own loopback address, shared by the whole session.

    Loaded with the Contoso sample directory (OUs ``Staff`` and ``Partners``, every user
    with the password ``tests.support.samba.USER_PASSWORD``). A test that changes the
    directory works in an OU of its own (``samba_dc.add_ou(...)``) so tests stay
    independent. Locally skipped without samba or root; a failure when ``CI=true``.
    """
    if shutil.which("samba") is None and not Path("/usr/sbin/samba").exists():
        skip_unless_ci("samba is not installed (Debian package samba)")
    if os.geteuid() != 0:
        skip_unless_ci("a Samba DC needs root to add its loopback address")
    from tests.support.samba import running_samba_dc  # python-ldap is an optional extra

    with running_samba_dc(tmp_path_factory.mktemp("samba-dc"), seed=CONTOSO_LDIF) as dc:
        yield dc
