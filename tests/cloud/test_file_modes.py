"""The cloud directory's data directory is owner-only (0700), its files 0600, whatever the
umask: they hold password hashes, the master key and the encrypted signing keys."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cloud.test_cli import init

from hybridsync.cloud.db import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave everything world-readable and writable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_init_creates_an_owner_only_directory_and_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init(data_dir)

    assert _mode(data_dir) == 0o700
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert {"master.key", "cloud.db"} <= {p.name for p in files}
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


@pytest.mark.usefixtures("open_umask")
def test_the_database_and_its_wal_files_are_0600_and_a_loose_file_is_tightened(
    tmp_path: Path,
) -> None:
    loose = tmp_path / "loose.db"
    loose.touch(mode=0o666)
    for path in (tmp_path / "new" / "cloud.db", loose):
        database = Database(f"sqlite:///{path}")
        try:
            with database.write() as conn:  # a write makes SQLite create -wal and -shm
                conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
            siblings = sorted(path.parent.glob(path.name + "*"))
            assert len(siblings) == 3, siblings
            assert {p.name: _mode(p) for p in siblings} == {p.name: 0o600 for p in siblings}
        finally:
            database.close()
    assert _mode(tmp_path / "new") == 0o700
