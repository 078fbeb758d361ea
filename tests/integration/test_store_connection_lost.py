"""A PostgreSQL store whose connection is lost mid-run: a clear stop, nothing committed
lost, and the next run completes. The server's own ``pg_terminate_backend`` ends the
store's session, exactly as a restarted server or a dropped network does."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.fixtures import PostgresDatabase
from tests.support.stores import postgres_target
from tests.unit.engine.conftest import World

from hybridsync.cli import scheduler
from hybridsync.connectors.recording import RecordingTarget
from hybridsync.core.ports import ImportPage
from hybridsync.engine import Profile, Status
from hybridsync.store import open_postgresql
from hybridsync.store.failures import StoreConnectionLost
from hybridsync.wiring import build_from_file

RUN = "from hybridsync.cli import main; main()"


def _terminate(database: PostgresDatabase, where: str = "") -> int:
    """End the sessions of ``database`` (those whose application name is like ``where``)."""
    with database.server.admin() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() AND application_name LIKE %s",
            (database.name, f"{where}%"),
        ).fetchall()
    return len(rows)


def _store(database: PostgresDatabase, tmp_path: Path) -> Any:
    target = postgres_target(database.server, database.name, tmp_path)
    return target.open()


def test_a_lost_connection_is_a_store_error_and_the_store_goes_on(
    postgres_database: PostgresDatabase, tmp_path: Path
) -> None:
    store = _store(postgres_database, tmp_path)
    with store.transaction():
        store.put_connector_state(store.connector_state("kept"))
    lost = pytest.raises(StoreConnectionLost, match="lost the connection to the store postgresql")
    with lost, store.transaction():  # the failure comes mid-transaction
        store.put_connector_state(store.connector_state("lost"))
        store.count_cs("ad")  # the write reaches the server
        assert _terminate(postgres_database) == 1
        store.count_cs("ad")
    # The next statement connects again: the committed row is there, the lost one not.
    assert store.connector_state("kept").attribute_hash == ""
    with store.transaction():
        names = store.connection.exec_driver_sql("SELECT connector FROM connector_state")
        assert [row[0] for row in names] == ["kept"]
    store.close()


def test_a_store_that_cannot_be_reached_again_is_named(
    postgres_database: PostgresDatabase, tmp_path: Path
) -> None:
    store = _store(postgres_database, tmp_path)
    allow = f'ALTER DATABASE "{postgres_database.name}" ALLOW_CONNECTIONS %s'
    with postgres_database.server.admin() as admin:
        admin.execute(allow % "false")
    try:
        _terminate(postgres_database)
        with pytest.raises(StoreConnectionLost, match="lost the connection to the store"):
            store.count_cs("ad")
        unreachable = pytest.raises(StoreConnectionLost, match="cannot connect to the store")
        with unreachable, store.transaction():
            store.count_cs("ad")
    finally:
        with postgres_database.server.admin() as admin:
            admin.execute(allow % "true")
    with store.transaction():
        assert store.count_cs("ad") == 0
    store.close()


@pytest.fixture
def world(tmp_path: Path, postgres_database: PostgresDatabase) -> Iterator[World]:
    created = World(
        tmp_path, postgres_target(postgres_database.server, postgres_database.name, tmp_path)
    )
    yield created
    created.close()


def test_a_run_that_loses_the_store_stops_and_the_next_one_completes(
    world: World, postgres_database: PostgresDatabase
) -> None:
    world.set_users(*(world.user(f"u{i}") for i in range(5)))
    built = world.engine()
    assert built.engine.cycle("initial").status == Status.SUCCESS
    world.set_users(*(world.user(f"u{i}") for i in range(10)))
    connector = built.connectors["ad"]
    delta_import = connector.delta_import  # type: ignore[attr-defined]

    def losing(watermark: str) -> Iterator[ImportPage]:
        _terminate(postgres_database)
        yield from delta_import(watermark)

    connector.delta_import = losing  # type: ignore[attr-defined]
    cycle = built.engine.cycle("delta")
    (lost,) = cycle.runs  # the cycle starts nothing after a store failure
    assert (lost.profile, lost.status) == (Profile.DELTA_IMPORT, Status.STOPPED_STORE)
    assert "lost the connection to the store postgresql+psycopg://" in lost.message
    assert any("store failed" in note for note in cycle.notes)
    assert built.store.runs(1)[0].status == Status.STOPPED_STORE  # recorded on reconnecting
    assert built.store.count_cs("ad") == 5  # what the first cycle committed
    connector.delta_import = delta_import  # type: ignore[attr-defined]
    assert built.engine.cycle("delta").status == Status.SUCCESS
    assert len(world.by_upn(built)) == 10


def _user(index: int) -> str:
    sam = f"user{index:05d}"
    guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le).decode()
    return (
        f"dn: CN={sam},OU=Staff,DC=contoso,DC=com\nobjectClass: user\nobjectGUID:: {guid}\n"
        f"sAMAccountName: {sam}\nuserPrincipalName: {sam}@contoso.com\n"
        f"displayName: User {index}\nuserAccountControl: 512\n"
    )


USERS = 4_000


def _workspace(root: Path, database: PostgresDatabase, users: int = USERS) -> Path:
    entries = [_user(i) for i in range(users)]
    (root / "ad.ldif").write_text("version: 1\n\n" + "\n".join(entries), encoding="utf-8")
    config = root / "hybridsync.toml"
    config.write_text(
        postgres_target(database.server, database.name, root).toml()
        + '[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        + '[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "ad.ldif"\n'
        + '[[connectors]]\ntype = "recording"\nname = "cloud"\npath = "cloud.db"\n',
        encoding="utf-8",
    )
    return config


def _in_full_sync(database: PostgresDatabase, process: Any) -> None:
    """Wait until the run process is in its first sync (its import committed before)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with _connect(database) as connection:
            row = connection.execute(
                "SELECT 1 FROM runs WHERE profile = 'full-sync' AND status = 'in-progress'"
            ).fetchone()
        if row is not None:
            return
        time.sleep(0.02)
    raise AssertionError("the run never reached its full sync")


def _open(database: PostgresDatabase) -> Any:
    server = database.server
    return open_postgresql(database.url, password=server.password, ca_file=server.ca_file)


def _connect(database: PostgresDatabase) -> Any:
    import psycopg

    server = database.server
    return psycopg.connect(
        host=server.host,
        port=server.port,
        user="hybridsync_admin",
        dbname=database.name,
        password=server.password.get_secret_value(),
        sslmode="verify-full",
        sslrootcert=str(server.ca_file),
        autocommit=True,
    )


def test_the_cli_stops_with_status_2_and_the_next_run_completes(
    postgres_database: PostgresDatabase, tmp_path: Path
) -> None:
    config = _workspace(tmp_path, postgres_database)
    _open(postgres_database).close()  # migrated, so the progress can be read at once
    command = [sys.executable, "-c", RUN, "run", "initial", "-c", str(config), "--no-progress"]
    # ``with`` closes the pipe however the test ends (a run that dies early included).
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            _in_full_sync(postgres_database, process)
            assert _terminate(postgres_database, "hybridsync run") == 1
            output, _ = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 2, output
    assert "stopped-store-error" in output
    # The message may wrap at 80 columns.
    assert "lost the connection to the store postgresql+psycopg://" in " ".join(output.split())
    assert "Traceback" not in output
    store = _open(postgres_database)
    assert store.count_cs("ad") == USERS  # the committed import is kept
    store.close()
    done = subprocess.run(
        [*command[:4], "delta", *command[5:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built = build_from_file(config)
    try:
        cloud = built.connectors["cloud"]
        assert isinstance(cloud, RecordingTarget)
        assert len(cloud.objects()) == USERS
    finally:
        built.close()


def test_the_scheduler_goes_on_after_a_lost_store(
    postgres_database: PostgresDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _workspace(tmp_path, postgres_database, users=5)
    build = scheduler.build_from_file

    def losing_once(path: Path) -> Any:
        built = build(path)
        monkeypatch.setattr(scheduler, "build_from_file", build)
        _terminate(postgres_database)  # gone before the sync lock is taken
        return built

    monkeypatch.setattr(scheduler, "build_from_file", losing_once)
    ticks = scheduler.Scheduler(config, max_cycles=2, wait=lambda _seconds: False)
    ticks.run()
    assert ticks.statuses == [Status.STOPPED_STORE, Status.SUCCESS]
