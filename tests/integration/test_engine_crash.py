"""Crash and resume: a real ``hybridsync run`` process is killed (SIGKILL) at every
checkpoint of a cycle in turn, and at random moments; the next run must complete to
exactly the state an uninterrupted run reaches: one target object per in-scope user,
no duplicates, none missing, every attribute right.

On PostgreSQL too (``new_store``): the random moments, and every fifth checkpoint (the
SQLite run covers every one; a fifth keeps the suite's time in bounds).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.preloaded import CLI_MAIN, PreloadedPython
from tests.support.stores import BACKENDS, postgres_target

from hybridsync.wiring import build_from_file

pytestmark = pytest.mark.slow

RANDOM_CHECKPOINTS = 30
"""The random kills pick a checkpoint up to this one (an initial cycle passes more than 12)."""


def _user(index: int, department: str = "Sales") -> str:
    sam = f"user{index:03d}"
    guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le).decode()
    domain = "partners.contoso.com" if index % 5 == 0 else "contoso.com"
    return (
        f"dn: CN={sam},OU=Staff,DC=contoso,DC=com\nobjectClass: user\nobjectGUID:: {guid}\n"
        f"sAMAccountName: {sam}\nuserPrincipalName: {sam}@{domain}\ndisplayName: User {index}\n"
        f"department: {department}\nuserAccountControl: 512\n"
    )


def _directory(path: Path, indexes: range | list[int], changed: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    entries = [_user(i, "Finance" if i in changed else "Sales") for i in indexes]
    path.write_text("version: 1\n\n" + "\n".join(entries), encoding="utf-8")


FAULTS = "hybridsync.engine.faults"
"""Reads ``HYBRIDSYNC_KILL_AT`` when imported: reloaded in each run's process."""


@pytest.fixture(scope="module")
def processes() -> Iterator[PreloadedPython]:
    """Where the killed runs come from: each a process of its own, forked from one that
    imported hybridsync once (an import costs more than the run it would precede)."""
    with PreloadedPython(["hybridsync.cli.run", "hybridsync.wiring"], reload=[FAULTS]) as python:
        yield python


NewStore = Callable[[Path], str]
"""A fresh store for a scenario's directory: the ``store = ...`` line of its config."""


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest) -> Iterator[NewStore]:
    if request.param == "sqlite":
        yield lambda _root: 'store = "state.db"\n'
        return
    with _postgres_stores(request.getfixturevalue("postgres_server")) as create:
        yield create


@contextlib.contextmanager
def _postgres_stores(server: Any) -> Iterator[NewStore]:
    """A database per scenario, all dropped at the end."""
    databases: list[str] = []

    def create(root: Path) -> str:
        root.mkdir(parents=True, exist_ok=True)
        databases.append(server.create_database())
        return postgres_target(server, databases[-1], root).toml()

    try:
        yield create
    finally:
        for database in databases:
            server.drop_database(database)


def _sqlite_store(_root: Path) -> str:
    return 'store = "state.db"\n'


def _setup(root: Path, new_store: NewStore = _sqlite_store) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hybridsync.toml").write_text(
        new_store(root) + '[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        '[user_type]\nsource = "upn-suffix"\nsuffixes = ["@partners.contoso.com"]\n'
        "[safety]\nbatch_size = 3\n"
        '[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "ad.ldif"\n'
        '[[connectors]]\ntype = "recording"\nname = "cloud"\npath = "cloud.db"\nbatch_size = 3\n',
        encoding="utf-8",
    )
    return root / "hybridsync.toml"


def _run(processes: PreloadedPython, config: Path, cycle: str, kill_at: int = 0) -> int:
    env = {**os.environ, "HYBRIDSYNC_KILL_AT": str(kill_at)}
    done = processes.run(["-c", "run", cycle, "-c", str(config)], CLI_MAIN, env=env)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def _rerun(config: Path, cycle: str) -> None:
    """The run after a crash, in this process (only the killed runs need their own)."""
    built = build_from_file(config)
    try:
        report = built.engine.cycle(cycle)
        assert report.status == "success", report.as_dict()
    finally:
        built.close()


def _target(root: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(root / "cloud.db") as db:
        rows = db.execute("SELECT dn, attributes FROM objects WHERE deleted = 0").fetchall()
    users = []
    for dn, text in rows:
        attributes = json.loads(text)
        users.append(
            (
                dn,
                attributes["userPrincipalName"][0],
                attributes["department"][0],
                attributes["userType"][0],
            )
        )
    return sorted(users)


def _scenario(
    processes: PreloadedPython, root: Path, kill_at: int, new_store: NewStore = _sqlite_store
) -> tuple[int, list[tuple[str, str, str, str]]]:
    """Initial cycle (possibly killed) and its rerun, then a delta cycle (possibly killed)."""
    config = _setup(root, new_store)
    _directory(root / "ad.ldif", range(10))
    first = _run(processes, config, "initial", kill_at) if kill_at else 0
    _rerun(config, "initial")
    _directory(root / "ad.ldif", [i for i in range(12) if i not in (3, 4)], changed={1, 7, 10})
    second = _run(processes, config, "delta", kill_at) if kill_at else 0
    _rerun(config, "delta")
    killed = (first != 0) + (second != 0)
    return killed, _target(root)


def test_killed_at_every_checkpoint_the_next_run_completes_exactly(
    tmp_path: Path, processes: PreloadedPython
) -> None:
    _, expected = _scenario(processes, tmp_path / "reference", 0)
    assert len(expected) == 10
    assert len({upn for _, upn, _, _ in expected}) == 10
    assert ("Finance", "Guest") in {(dept, kind) for _, _, dept, kind in expected}
    kill_at = 1
    while True:
        root = tmp_path / f"kill-{kill_at}"
        killed, state = _scenario(processes, root, kill_at)
        assert state == expected, f"killed at checkpoint {kill_at}"
        shutil.rmtree(root)
        if not killed:
            break
        kill_at += 1
    assert kill_at > 12, "the cycle should pass many checkpoints"


def test_killed_at_every_fifth_checkpoint_on_postgresql(
    tmp_path: Path, postgres_server: Any, processes: PreloadedPython
) -> None:
    with _postgres_stores(postgres_server) as new_store:
        _, expected = _scenario(processes, tmp_path / "reference", 0, new_store)
        assert len(expected) == 10
        kill_at = 1
        while True:
            killed, state = _scenario(processes, tmp_path / f"kill-{kill_at}", kill_at, new_store)
            assert state == expected, f"killed at checkpoint {kill_at}"
            if not killed:
                break
            kill_at += 5
        assert kill_at > 12, "the cycle should pass many checkpoints"


def test_killed_at_random_moments(
    tmp_path: Path, new_store: NewStore, processes: PreloadedPython
) -> None:
    # A random checkpoint rather than a random time: the kill lands where the run really
    # is, however loaded the machine (past the last checkpoint, the run completes).
    _, expected = _scenario(processes, tmp_path / "reference", 0, new_store)
    rng = random.Random(20261122)
    for attempt in range(3):
        root = tmp_path / f"random-{attempt}"
        config = _setup(root, new_store)
        _directory(root / "ad.ldif", range(10))
        _run(processes, config, "initial", rng.randint(1, RANDOM_CHECKPOINTS))
        _rerun(config, "initial")
        _directory(root / "ad.ldif", [i for i in range(12) if i not in (3, 4)], changed={1, 7, 10})
        _rerun(config, "delta")
        assert _target(root) == expected
