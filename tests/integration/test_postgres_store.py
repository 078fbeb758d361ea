"""``hybridsync`` on a PostgreSQL store: the commands, the sync lock, TLS and the password.

Against a real server (``postgres_server``: TLS with the test CA, SCRAM passwords).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from tests.support.fixtures import PostgresDatabase
from tests.support.postgres import PostgresServer
from tests.support.workspace import invoke, write_workspace

from hybridsync.config.store import DEFAULT_PASSWORD_ENV
from hybridsync.core.objects import MVObject
from hybridsync.errors import StoreError
from hybridsync.store import SqlStore, open_postgresql, tables
from hybridsync.store.migrations import MIGRATIONS
from hybridsync.store.postgres import SyncLockHeld, database_sync_lock
from hybridsync.wiring.demo import prepare

pytestmark = pytest.mark.postgres


def _url(database: PostgresDatabase) -> str:
    """The short form: the URL alone, the CA in it, the password from the environment."""
    return f"{database.url}?sslrootcert={database.server.ca_file}"


def _use_store(config: Path, store_line: str) -> None:
    text = config.read_text(encoding="utf-8")
    lines = [store_line if line.startswith("store = ") else line for line in text.splitlines()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _open(database: PostgresDatabase) -> SqlStore:
    server = database.server
    return open_postgresql(database.url, password=server.password, ca_file=server.ca_file)


@pytest.fixture
def password_in_env(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    secret = postgres_server.password.get_secret_value()
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, secret)
    return secret


def test_run_history_and_the_demo_on_a_postgresql_store(
    tmp_path: Path, postgres_database: PostgresDatabase, password_in_env: str
) -> None:
    config, _ = prepare(tmp_path / "demo")
    _use_store(config, f'store = "{_url(postgres_database)}"')
    code, output = invoke("run", "initial", "-c", str(config), "--json")
    assert code == 1, output  # the sample's one object error (a user without a UPN)
    assert "UserPrincipalName is not present" in output
    exports = [run for run in json.loads(output)["runs"] if run["profile"] == "export"]
    assert sum(run["counts"].get("add", 0) for run in exports) == 29  # 26 users, 3 groups
    assert not (tmp_path / "demo" / "hybridsync.db").exists()  # nothing went to SQLite
    code, output = invoke("history", "-c", str(config), "--json")
    assert code == 0, output
    assert password_in_env not in output
    assert {run["profile"] for run in json.loads(output)} >= {"full-import", "export"}
    code, output = invoke("demo", "--data-dir", str(tmp_path / "demo"), "--json")
    assert code == 0, output
    again = json.loads(output)
    assert again["exported"] == {"add": 0, "update": 0, "delete": 0}
    assert (len(again["guests"]), len(again["members"])) == (7, 19)
    store = _open(postgres_database)
    try:
        assert store.count_mv() == 29  # 26 persons, 3 groups
    finally:
        store.close()


def test_a_second_sync_on_the_same_database_is_refused_while_one_runs(
    tmp_path: Path, postgres_database: PostgresDatabase, password_in_env: str
) -> None:
    config = write_workspace(tmp_path)
    _use_store(config, f'store = "{_url(postgres_database)}"')
    holder = _open(postgres_database)
    try:
        with database_sync_lock(holder, "manual run"):
            code, output = invoke("run", "delta", "-c", str(config))
            assert code == 2, output
            assert "another sync is in progress (hybridsync manual run, pid" in output
            assert "the database's sync lock" in output
        code, output = invoke("run", "initial", "-c", str(config))
        assert code == 0, output
    finally:
        holder.close()


def test_a_holder_that_dies_releases_the_lock_at_once(postgres_database: PostgresDatabase) -> None:
    server = postgres_database.server
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pydantic import SecretStr\n"
        "from hybridsync.store import open_postgresql\n"
        "from hybridsync.store.postgres import database_sync_lock\n"
        "store = open_postgresql(sys.argv[1], password=SecretStr(sys.stdin.readline().strip()),"
        " ca_file=Path(sys.argv[2]))\n"
        "with database_sync_lock(store, 'doomed run'):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(120)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, postgres_database.url, str(server.ca_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(server.password.get_secret_value() + "\n")
    process.stdin.close()
    try:
        assert process.stdout.readline().strip() == "locked"
        store = _open(postgres_database)
        try:
            with pytest.raises(SyncLockHeld, match="doomed run"), database_sync_lock(store, "me"):
                pass
            process.kill()
            process.wait()
            with database_sync_lock(store, "me"):
                pass  # taken: the server dropped the dead session and its lock
        finally:
            store.close()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(
    postgres_database: PostgresDatabase,
) -> None:
    stores: list[SqlStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(_open(postgres_database))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        names = stores[0].connection.execute(select(tables.schema_migrations.c.name)).all()
        assert [row.name for row in names] == [name for name, _ in MIGRATIONS]
    finally:
        for store in stores:
            store.close()


def test_a_wrong_password_is_a_clear_error_that_never_shows_the_password(
    tmp_path: Path, postgres_database: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, "Wrong-Secret-9")
    config = write_workspace(tmp_path)
    _use_store(config, f'store = "{_url(postgres_database)}"')
    code, output = invoke("run", "initial", "-c", str(config))
    assert code == 3, output
    assert "password authentication failed" in output
    assert "Wrong-Secret-9" not in output
    with pytest.raises(StoreError) as failed:
        open_postgresql(
            postgres_database.url, password=None, ca_file=postgres_database.server.ca_file
        )
    assert "cannot connect to the store postgresql+psycopg://" in str(failed.value)


def test_the_server_certificate_is_verified_by_default(
    tmp_path: Path, postgres_database: PostgresDatabase, password_in_env: str
) -> None:
    config = write_workspace(tmp_path)
    # No CA given: the system's trust store, which does not know the test CA.
    _use_store(config, f'store = "{postgres_database.url}"')
    code, output = invoke("run", "initial", "-c", str(config))
    assert code == 3, output
    assert "certificate verify failed" in output
    # Plain connections are refused by this server; TLS without a check is still TLS.
    _use_store(config, f'store = "{postgres_database.url}?sslmode=require"')
    assert invoke("run", "initial", "-c", str(config))[0] == 0


def test_an_account_owning_only_its_database_is_enough(postgres_server: PostgresServer) -> None:
    """What docs/configuration.md asks for: an ordinary role owning an empty database."""
    password = SecretStr("Owner-Only-7")
    with postgres_server.admin() as admin:
        admin.execute("DROP ROLE IF EXISTS hybridsync_owner")
        admin.execute("CREATE ROLE hybridsync_owner LOGIN PASSWORD 'Owner-Only-7'")
        admin.execute(
            "CREATE DATABASE hybridsync_owned OWNER hybridsync_owner ENCODING 'UTF8' "
            "LOCALE 'C' TEMPLATE template0"
        )
    try:
        url = postgres_server.url_of("hybridsync_owned", user="hybridsync_owner")
        store = open_postgresql(url, password=password, ca_file=postgres_server.ca_file)
        try:
            with store.transaction():
                store.put_mv(MVObject("m1", "person", {"displayName": ("Ann",)}))
            assert store.get_mv("m1") is not None
        finally:
            store.close()
    finally:
        postgres_server.drop_database("hybridsync_owned")
        with postgres_server.admin() as admin:
            admin.execute("DROP ROLE hybridsync_owner")


def test_the_store_benchmark_runs_small(
    postgres_database: PostgresDatabase, password_in_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.store import main

    ca_file = str(postgres_database.server.ca_file)
    assert main(["200", "--url", postgres_database.url, "--ca-file", ca_file]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("delta cycle, 1% changed")
    assert lines[-1].endswith("x")
