"""The value index and the password-sync state table, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import inspect, select
from tests.support.stores import StoreTarget

from hybridsync.core.objects import CSObject
from hybridsync.core.password_hash_sync.changes import PasswordSyncState
from hybridsync.core.storage_limits import INDEXED_BYTES
from hybridsync.store import SqlStore, tables

MIGRATION = "0003_password_sync_state"


@pytest.fixture
def store(store_target: StoreTarget) -> Iterator[SqlStore]:
    opened = store_target.open()
    yield opened
    opened.close()


def test_a_value_too_long_to_index_is_left_out_and_the_rest_is_indexed(store: SqlStore) -> None:
    huge = secrets.token_urlsafe(3_000)  # random: PostgreSQL cannot compress it to fit
    store.set_indexed_attributes("ad", ["proxyAddresses"])
    objects = [
        CSObject("c1", "ad", "a1", "CN=one", "user", {"proxyAddresses": ("smtp:one", huge)}),
        CSObject("c2", "ad", "a2", "CN=two", "user", {"proxyAddresses": ("SMTP:Two",)}),
    ]
    with structlog.testing.capture_logs() as logs, store.transaction():
        store.put_cs_many(objects)
    assert store.get_cs("c1") == objects[0]  # the object keeps the value
    assert store.cs_ids_by_value("ad", "proxyAddresses", ("smtp:one",), True) == {"c1"}
    assert store.cs_ids_by_value("ad", "proxyAddresses", ("smtp:two",), False) == {"c2"}
    assert store.cs_ids_by_value("ad", "proxyAddresses", (huge,), True) == set()
    assert store.ids_by_values("ad", "proxyAddresses", [huge, "SMTP:Two"], True) == {
        "s:SMTP:Two": {"c2"}  # keyed by value key
    }
    (note,) = [e for e in logs if e["event"] == "store.value_not_indexed"]
    assert (note["object_id"], note["attribute"], note["limit"]) == ("c1", "proxyAddresses", 2000)
    assert note["bytes"] > INDEXED_BYTES


def _migrations(store: SqlStore) -> list[str]:
    rows = store.connection.execute(select(tables.schema_migrations.c.name))
    return sorted(row.name for row in rows)


def _forget_migration(store: SqlStore, *, drop_table: bool) -> None:
    """Make the store look like one from before the migration."""
    with store.transaction():
        if drop_table:
            store.connection.exec_driver_sql("DROP TABLE password_sync_state")
        store.connection.execute(
            tables.schema_migrations.delete().where(tables.schema_migrations.c.name == MIGRATION)
        )


@pytest.mark.parametrize("had_table", [True, False], ids=["table-there", "no-table"])
def test_a_store_from_before_the_password_sync_migration_migrates_cleanly(
    store_target: StoreTarget, had_table: bool
) -> None:
    store = store_target.open()
    state = PasswordSyncState({"ana": 133_000_000_000_000_000}, {}, "w7")
    if had_table:  # created on first use, as hybridsync did before the migration
        store.save_password_sync_state("ad", state)
    _forget_migration(store, drop_table=not had_table)
    assert MIGRATION not in _migrations(store)
    store.close()

    again = store_target.open()
    assert MIGRATION in _migrations(again)
    assert "password_sync_state" in inspect(again.connection).get_table_names()
    states = again
    expected = state if had_table else PasswordSyncState()
    assert states.load_password_sync_state("ad") == expected
    states.save_password_sync_state("ad", PasswordSyncState({}, {}, "w8"))
    assert states.load_password_sync_state("ad").watermark == "w8"
    again.close()
