"""The store's contract, on SQLite and on PostgreSQL (``store_target``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.fixtures import PostgresDatabase
from tests.support.stores import StoreTarget, postgres_target

from hybridsync.core.objects import CSObject, MVObject, PendingExport, PendingImport
from hybridsync.core.ports import ExportKind, ImportedObject
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
    assert names == ["0001_initial", "0002_cs_connector_mv", "0003_password_sync_state"]
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


def test_objects_round_trip_with_every_value_type(store: SqlStore) -> None:
    cs = CSObject(
        "c1",
        "ad",
        "anchor-1",
        "CN=Zoë,DC=contoso,DC=com",
        "user",
        ATTRIBUTES,
        PendingImport.UPDATE,
        mv_id="m1",
        joined_by="rule",
        keeps_mv=True,
        pending_export=PendingExport(ExportKind.UPDATE, {"title": ("x",), "flag": (True,)}),
        unconfirmed={"mail": ("a@contoso.com",)},
        export_in_flight=True,
    )
    mv = MVObject("m1", "person", ATTRIBUTES, {"displayName": "rule"})
    with store.transaction():
        store.put_cs(cs)
        store.put_mv(mv)
    assert store.get_cs("c1") == cs
    assert store.get_mv("m1") == mv
    assert store.cs_by_anchor("ad", "anchor-1") == cs
    assert store.cs_ids_to_export("ad") == ["c1"]
    assert store.cs_linked_to("m1") == [cs]


def test_link_writes_change_only_the_link_and_yield_to_whole_writes(store: SqlStore) -> None:
    stored = CSObject("c1", "ad", "a1", "CN=A,DC=contoso,DC=com", "user", ATTRIBUTES)
    other = CSObject("c2", "ad", "a2", "CN=B,DC=contoso,DC=com", "user", {"sn": ("B",)})
    with store.transaction():
        store.put_cs_many([stored, other])
    linked = replace(stored, mv_id="m1", joined_by="rule", keeps_mv=True)
    # what a link write stores: the link and the pending import, nothing else it carries
    with store.transaction():
        store.put_links([replace(linked, dn="CN=Ignored", pending_import=PendingImport.NONE)])
    assert store.get_cs("c1") == replace(linked, pending_import=PendingImport.NONE)
    # a whole write after a link write, and a link write after a whole one, in one batch
    renamed = replace(other, dn="CN=Renamed,DC=contoso,DC=com")
    with store.transaction():
        store.put_links([replace(stored, mv_id="m9")])
        store.put_cs(replace(stored, mv_id="m2", attributes={"sn": ("A",)}))
        store.put_cs(renamed)
        store.put_links([replace(renamed, mv_id="m3")])
    assert store.get_cs("c1") == replace(stored, mv_id="m2", attributes={"sn": ("A",)})
    assert store.get_cs("c2") == replace(renamed, mv_id="m3")
    assert store.cs_linked_to("m3") == [replace(renamed, mv_id="m3")]
    with store.transaction():
        store.put_links([replace(other, mv_id="m4")])
        store.delete_cs("c2")
    assert store.get_cs("c2") is None


def test_a_failed_transaction_leaves_nothing(store: SqlStore) -> None:

    def crash() -> None:
        with store.transaction():
            store.put_mv(MVObject("m1", "person", {}))
            with store.transaction():  # nested: joins the outer one
                store.put_mv(MVObject("m2", "person", {}))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert store.count_mv() == 0


def test_join_lookups_use_the_value_index_exact_or_ignoring_case(store: SqlStore) -> None:
    store.set_indexed_attributes("mv", ["mail", "sourceAnchorBinary"])
    with store.transaction():
        store.put_mv(
            MVObject(
                "m1", "person", {"mail": ("Ann@Contoso.com",), "sourceAnchorBinary": (b"\x01",)}
            )
        )
        store.put_mv(MVObject("m2", "person", {"mail": ("bob@contoso.com",), "title": ("x",)}))
    assert store.cs_ids_by_value("mv", "mail", ("ann@contoso.com",), False) == {"m1"}
    assert store.cs_ids_by_value("mv", "mail", ("ann@contoso.com",), True) == set()
    assert store.cs_ids_by_value("mv", "sourceAnchorBinary", (b"\x01",), True) == {"m1"}
    assert store.cs_ids_by_value("mv", "title", ("x",), True) == set()  # not indexed
    with store.transaction():
        store.delete_mv("m1")
    assert store.cs_ids_by_value("mv", "mail", ("ann@contoso.com",), False) == set()


def test_staging_pairs_imported_objects_with_current_ones_and_finds_the_missing(
    store: SqlStore,
) -> None:
    with store.transaction():
        store.put_cs_many(
            [CSObject("c1", "ad", "a1", "CN=1", "user"), CSObject("c2", "ad", "a2", "CN=2", "user")]
        )
        store.stage(
            "ad",
            [
                ImportedObject("a1", "CN=1", "user", {"x": ("1",)}),
                ImportedObject("a3", "CN=3", "user", {}),
            ],
        )
    pairs = [
        (obj.anchor, cs.cs_id if cs else None)
        for chunk in store.staged_with_current("ad", 1)
        for obj, cs in chunk
    ]
    assert pairs == [("a1", "c1"), ("a3", None)]
    assert store.cs_ids_not_staged("ad") == ["c2"]


def test_imported_objects_are_indexed_and_unchanged_ones_keep_their_index(
    store: SqlStore,
) -> None:
    store.set_indexed_attributes("cloud", ["onPremisesImmutableId"])
    with store.transaction():
        store.stage(
            "cloud", [ImportedObject("a1", "CN=1", "user", {"onPremisesImmutableId": ("X",)})]
        )
    ((imported, _),) = next(store.staged_with_current("cloud", 10))
    with store.transaction():
        store.put_cs(CSObject("c1", "cloud", "a1", "CN=1", "user", imported.attributes))
    assert store.cs_ids_by_value("cloud", "onPremisesImmutableId", ("X",), True) == {"c1"}
    from dataclasses import replace

    read = store.get_cs("c1")
    assert read is not None
    with store.transaction():
        store.put_cs(replace(read, mv_id="m1"))
    assert store.cs_ids_by_value("cloud", "onPremisesImmutableId", ("X",), True) == {"c1"}


def test_connector_state_and_runs_are_upserted_and_read_back(store: SqlStore) -> None:
    from hybridsync.core.objects import ObjectError
    from hybridsync.core.runs import RunRecord
    from hybridsync.core.storage import ConnectorState

    with store.transaction():
        store.put_connector_state(ConnectorState("ad", "w1", "a", "r", True, False))
        store.put_connector_state(ConnectorState("ad", "w2", "a2", "r2", False, True))
    assert store.connector_state("ad") == ConnectorState("ad", "w2", "a2", "r2", False, True)
    assert store.connector_state("other") == ConnectorState("other")
    first = RunRecord("r1", "ad", "full-import", "in-progress", "t0", None, {}, "")
    second = RunRecord("r2", "ad", "delta-import", "in-progress", "t1", None, {}, "")
    with store.transaction():
        store.start_run(first)
        store.start_run(second)
        store.finish_run(RunRecord("r1", "ad", "full-import", "success", "t0", "t2", {"add": 3}))
        store.record_errors("r2", [ObjectError("ad", "CN=x", "bad userType 'boss'", "a1")])
    assert [run.run_id for run in store.runs()] == ["r2", "r1"]  # newest first
    assert store.runs()[1].counts == {"add": 3}
    assert store.run_errors("r2")[0].message == "bad userType 'boss'"


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


def test_pending_deletes_and_exports_are_counted_by_flag(store: SqlStore) -> None:
    delete = PendingExport(ExportKind.DELETE, {})
    add = PendingExport(ExportKind.ADD, {"mail": ("a@contoso.com",)})
    with store.transaction():
        store.put_cs_many(
            [
                CSObject("c1", "cloud", "a1", "CN=1", "user", pending_export=delete),
                CSObject("c2", "cloud", None, "CN=2", "user", pending_export=add),
                CSObject("c3", "cloud", "a3", "CN=3", "user"),
            ]
        )
    assert store.count_pending_deletes("cloud") == 1
    assert store.cs_ids_to_export("cloud") == ["c1", "c2"]
    assert (store.count_cs("cloud"), store.count_imported("cloud")) == (3, 2)
    store.mark_in_flight(["c3"])
    assert store.cs_ids_to_export("cloud") == ["c1", "c2", "c3"]


def test_a_nul_character_is_stored_found_and_kept_in_values(
    store_target: StoreTarget, store: SqlStore
) -> None:
    store.set_indexed_attributes("ad", ["mail"])
    with store.transaction():
        store.put_cs(CSObject("c1", "ad", "a\x001", "CN=x\x00y", "user", {"mail": ("a\x00b",)}))
    found = store.get_cs("c1")
    assert found is not None
    assert found.attributes == {"mail": ("a\x00b",)}  # values are kept exactly
    # PostgreSQL text cannot hold NUL: the DN and anchor read back with U+FFFD for it.
    expected = "\x00" if store_target.backend == "sqlite" else "\ufffd"
    assert (found.dn, found.anchor) == (f"CN=x{expected}y", f"a{expected}1")
    assert store.cs_by_dn("ad", "CN=x\x00y") == found
    assert store.cs_by_anchor("ad", "a\x001") == found
    assert store.cs_ids_by_value("ad", "mail", ("a\x00b",), True) == {"c1"}


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


def test_a_full_sync_leaves_out_only_settled_outbound_objects() -> None:
    store = open_sqlite(":memory:")
    objects = [
        CSObject("c1", "cloud", "a1", "CN=1", "user", mv_id="m1", joined_by="out"),
        CSObject("c2", "cloud", "a2", "CN=2", "user", {}, PendingImport.UPDATE, "m2", "out"),
        CSObject("c3", "cloud", "a3", "CN=3", "user"),
        CSObject("c4", "cloud", "a4", "CN=4", "user", mv_id="m4", joined_by="in"),
        CSObject("c5", "cloud", "a5", "CN=5", "user", joined_by="out"),
        CSObject("c6", "ad", "a6", "CN=6", "user", mv_id="m6", joined_by="other"),
    ]
    with store.transaction():
        store.put_cs_many(objects)
    assert store.cs_ids_to_sync("cloud", {"out", "other"}) == ["c2", "c3", "c4", "c5"]
    assert store.cs_ids_to_sync("cloud", set()) == ["c1", "c2", "c3", "c4", "c5"]
