"""One sync at a time per store: a lock file next to it, held by the operating system.

A PostgreSQL store is locked in the database instead (a session advisory lock, see
``hybridsync.store.postgres``), so the rule holds across machines sharing it.

``hybridsync run``, ``plan``, ``apply`` and every scheduler cycle take it, from any
number of processes. The lock is an OS file lock (``flock`` on POSIX, ``msvcrt`` on
Windows), so a process that dies releases it at once: there is no stale lock to clean
up. The file also records who holds it, for the message the others print.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hybridsync.errors import HybridsyncError

if TYPE_CHECKING:  # the store is imported when a lock is taken, not for a command's --help
    from hybridsync.store import SqlStore
    from hybridsync.wiring import Built

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class SyncInProgress(HybridsyncError):
    """Another process holds the lock: a run is in progress on this store."""

    def __init__(self, path: Path | str, holder: str) -> None:
        self.path = path
        self.holder = holder
        where = f"lock file {path}" if isinstance(path, Path) else path
        super().__init__(f"another sync is in progress ({holder}); {where}")


def run_lock(built: Built, purpose: str) -> contextlib.AbstractContextManager[None]:
    """The configured store's sync lock: the file lock for SQLite, else the database's."""
    path = built.config.store_file()
    if path is not None:
        return sync_lock(path, purpose)
    from hybridsync.store import SqlStore

    assert isinstance(built.store, SqlStore), "a store without a file is a database"
    return _database_lock(built.store, purpose)


@contextlib.contextmanager
def _database_lock(store: SqlStore, purpose: str) -> Iterator[None]:
    from hybridsync.store.postgres import SyncLockHeld, database_sync_lock

    try:
        with database_sync_lock(store, purpose):
            yield
    except SyncLockHeld as exc:
        raise SyncInProgress("the database's sync lock", exc.holder) from None


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except ValueError:
        return "unknown holder"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"


@contextlib.contextmanager
def sync_lock(store: Path, purpose: str) -> Iterator[None]:
    """Hold the store's sync lock for the block; raise :class:`SyncInProgress` if taken."""
    path = lock_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        if not _try_lock(handle):
            raise SyncInProgress(path, _holder(handle))
        try:
            handle.seek(0)
            handle.truncate()
            since = datetime.now(UTC).isoformat(timespec="seconds")
            info = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
            handle.write(json.dumps({**info, "purpose": purpose}))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            _unlock(handle)
