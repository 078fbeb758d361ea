"""What the SQL store does beyond the store contract (tests/contract/test_store_contract.py):
migrations, other connections, the planner; on SQLite and PostgreSQL (``store_target``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.fixtures import PostgresDatabase
from tests.support.stores import StoreTarget, postgres_target

from hybridsync.core.objects import MVObject
from hybridsync.core.values import Reference
from hybridsync.errors import MigrationError
from hybridsync.store import SqlStore, open_sqlite, tables

ATTRIBUTES = {
    "objectGUID": (b"\x00\x01\xff" * 5 + b"\x10",),
    "userAccountControl": (514,),
    "isCriticalSystemObject": (False,),
    "manager": (Reference("CN=Boss,DC=contoso,DC=com"),),
    "proxyAddresses": ("SMTP:a@contoso.com", "smtp:b@contoso.com"),
    "displayName": ("Zoë",),
}


@pytest.fixture
def store(store_target: StoreTarget) -> Iterator[SqlStore]:
    opened = store_target.open()
    yield opened
    opened.close()


def test_migrations_are_recorded_and_reopening_applies_nothing(store_target: StoreTarget) -> None:
    store = store_target.open()
    assert store.dialect.name == store_target.backend
    names = [row.name for row in store.connection.execute(select(tables.schema_migrations))]
    assert names == ["0001_initial", "0002_cs_connector_mv", "0003_password_sync_state",
                     "0004_audit_log"]  # fmt: skip
    store.close()
    again = store_target.open()
    assert [r.name for r in again.connection.execute(select(tables.schema_migrations))] == names
    if store_target.backend == "sqlite":
        mode = again.connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
    again.close()


def test_a_store_from_before_the_unlinked_index_gets_it(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "s.db")
    with store.transaction():
        store.connection.exec_driver_sql("DROP INDEX cs_connector_mv")
        store.connection.execute(
            tables.schema_migrations.delete().where(
                tables.schema_migrations.c.name == "0002_cs_connector_mv"
            )
        )
    store.close()
    again = open_sqlite(tmp_path / "s.db")
    plan = " ".join(
        str(row)
        for row in again.connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM cs_objects"
            " WHERE connector = 'cloud' AND mv_id IS NULL"
        )
    )
    assert "cs_connector_mv" in plan  # one index range, not a scan of unlinked objects
    again.close()


def test_an_unknown_migration_is_refused(store_target: StoreTarget) -> None:
    store = store_target.open()
    with store.transaction():
        store.connection.execute(
            tables.schema_migrations.insert().values(name="9999_future", applied_at="x")
        )
    store.close()
    with pytest.raises(MigrationError, match="9999_future"):
        store_target.open()


def test_a_batch_is_invisible_to_other_connections_until_it_commits(
    store_target: StoreTarget, store: SqlStore
) -> None:
    reader = store_target.open()
    try:
        with store.transaction():
            store.put_mv(MVObject("m1", "person", {}))
            assert store.count_mv() == 1  # the batch reads its own writes
            assert reader.count_mv() == 0
        assert reader.count_mv() == 1
    finally:
        reader.close()


def test_postgresql_statistics_follow_a_growing_table(
    postgres_database: PostgresDatabase, tmp_path: Path
) -> None:
    """Without it a fresh database's first import is planned as if its tables were empty.

    (PostgreSQL only: SQLite's planner prefers the indexes without statistics.)
    """
    store = postgres_target(postgres_database.server, postgres_database.name, tmp_path).open()
    try:
        store.set_indexed_attributes("mv", ["mail"])
        with store.transaction():
            for start in range(0, 3000, 500):
                for index in range(start, start + 500):
                    store.put_mv(MVObject(f"m{index:05d}", "person", {"mail": (f"u{index}@c",)}))
                store.count_mv()  # a read flushes the batch's writes
        estimated = store.connection.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname = 'value_index'"
        ).scalar_one()
        assert estimated >= 2000
        plan = store.connection.exec_driver_sql(
            "EXPLAIN SELECT object_id FROM value_index WHERE space = 'mv' "
            "AND attribute = 'mail' AND value_key IN ('s:u7@c', 's:u9@c')"
        ).all()
        assert "Index" in " ".join(row[0] for row in plan)
        assert store.ids_by_values("mv", "mail", ["u7@c"], True) == {"s:u7@c": {"m00007"}}
    finally:
        store.close()
