"""Session fixtures for real servers, registered in ``tests/conftest.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from ldif import LDIFRecordList
from tests.conftest import REPO_ROOT, skip_unless_ci

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer
    from tests.support.samba import SambaDC

__all__ = [
    "CONTOSO_LDIF",
    "PostgresDatabase",
    "contoso_users",
    "postgres_database",
    "postgres_server",
    "samba_dc",
]

CONTOSO_LDIF = REPO_ROOT / "src" / "hybridsync" / "samples" / "contoso.ldif"


def contoso_users() -> dict[str, dict[str, str]]:
    """The bundled sample's users: sAMAccountName -> their single values, ``dn`` included."""
    with CONTOSO_LDIF.open("rb") as stream:
        records = LDIFRecordList(stream)
        records.parse()
    users: dict[str, dict[str, str]] = {}
    for dn, entry in records.all_records:
        if b"user" not in entry.get("objectClass", []):
            continue  # the sample's OUs and groups
        values = {k: v[0].decode("utf-8", "replace") for k, v in entry.items()}
        if "sAMAccountName" in values:
            users[values.pop("sAMAccountName")] = {**values, "dn": dn}
    return users


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    """A running Samba AD DC on its own loopback address, shared by the whole session.

    Loaded with the Contoso sample directory (OUs ``Staff`` and ``Partners``, every user
    with the password ``tests.support.samba.USER_PASSWORD``; ``Groups``, the sample's
    groups except its critical system group). A test that changes the
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server (TLS, password logins) shared by the whole session.

    Tests get a database of their own from ``postgres_database``. Locally skipped when
    PostgreSQL is not installed; a failure when ``CI=true``.
    """
    from tests.support.postgres import find_postgres_bin, new_root, running_postgres

    if find_postgres_bin() is None:
        skip_unless_ci("PostgreSQL is not installed (Debian package postgresql)")
    root = new_root()
    try:
        with running_postgres(root) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class PostgresDatabase:
    """One empty database: its store URL (no password), the password and the CA."""

    server: PostgresServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url_of(self.name)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[PostgresDatabase]:
    """An empty database for this test only, dropped afterwards."""
    name = postgres_server.create_database()
    yield PostgresDatabase(postgres_server, name)
    postgres_server.drop_database(name)
