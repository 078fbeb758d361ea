"""The store contract: what every store does, on memory, SQLite and PostgreSQL alike.

The SQL-only behaviour (migrations, other connections, the planner) is tested in
tests/unit/store/test_sql_store.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support.stores import ALL_BACKENDS, StoreTarget, target_of

from hybridsync.core.objects import CSObject, MVObject, ObjectError, PendingExport, PendingImport
from hybridsync.core.password_hash_sync.changes import PasswordChange, PasswordSyncState
from hybridsync.core.ports import ExportKind, ImportedObject
from hybridsync.core.runs import ErrorKind, Profile, RunRecord, Status
from hybridsync.core.storage import ConnectorState, Store
from hybridsync.core.values import Reference

ATTRIBUTES = {
    "objectGUID": (b"\x00\x01\xff" * 5 + b"\x10",),
    "userAccountControl": (514,),
    "isCriticalSystemObject": (False,),
    "manager": (Reference("CN=Boss,DC=contoso,DC=com"),),
    "proxyAddresses": ("SMTP:a@contoso.com", "smtp:b@contoso.com"),
    "displayName": ("Zoë",),
}


@pytest.fixture(params=ALL_BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    with target_of(request.param, request, tmp_path) as made:
        yield made


@pytest.fixture
def store(target: StoreTarget) -> Iterator[Store]:
    opened = target.open_store()
    yield opened
    opened.close()


def _cs(cs_id: str, connector: str = "ad", **fields: object) -> CSObject:
    return replace(CSObject(cs_id, connector, f"a-{cs_id}", f"CN={cs_id}", "user"), **fields)


def test_objects_round_trip_with_every_value_type(store: Store) -> None:
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
    assert store.get_mv_many(["m1", "missing"]) == {"m1": mv}
    assert store.cs_by_anchor("ad", "anchor-1") == cs
    assert store.cs_by_anchors("ad", ["anchor-1", "other"]) == {"anchor-1": cs}
    assert store.cs_by_dn("ad", "CN=Zoë,DC=contoso,DC=com") == cs
    assert store.cs_by_dn("cloud", "CN=Zoë,DC=contoso,DC=com") is None  # per connector
    assert store.cs_ids_to_export("ad") == ["c1"]
    assert store.cs_linked_to("m1") == [cs]
    assert store.cs_linked_to_many(["m1", "m2"]) == {"m1": [cs], "m2": []}
    assert store.links_of(["m1", "m2"]) == {"m1": ["c1"], "m2": []}


def test_a_read_object_is_a_copy_the_caller_may_change(store: Store) -> None:
    with store.transaction():
        store.put_cs(_cs("c1", attributes={"sn": ("A",)}))
        store.put_mv(MVObject("m1", "person", {"sn": ("A",)}))
    read = store.get_cs("c1")
    mv = store.get_mv("m1")
    assert read is not None
    assert mv is not None
    read.attributes["sn"] = ("changed",)  # type: ignore[index]
    mv.attributes["sn"] = ("changed",)  # type: ignore[index]
    assert store.get_cs("c1") == _cs("c1", attributes={"sn": ("A",)})
    assert store.get_mv("m1") == MVObject("m1", "person", {"sn": ("A",)})


def test_objects_are_read_in_the_order_asked_and_missing_ones_left_out(store: Store) -> None:
    with store.transaction():
        store.put_cs_many([_cs("c1"), _cs("c2"), _cs("c3")])
    assert [cs.cs_id for cs in store.get_cs_many(["c3", "gone", "c1"])] == ["c3", "c1"]


def test_dns_are_found_exactly_or_ignoring_case(store: Store) -> None:
    with store.transaction():
        store.put_cs_many([_cs("c1", dn="CN=Ann,OU=Staff"), _cs("c2", dn="CN=Bob,OU=Staff")])
    found = store.cs_by_dns("ad", ["CN=Ann,OU=Staff", "cn=bob,ou=staff"])
    assert {dn: cs.cs_id for dn, cs in found.items()} == {"CN=Ann,OU=Staff": "c1"}
    found = store.cs_by_dns("ad", ["cn=bob,ou=staff"], ignore_case=True)
    assert {dn: cs.cs_id for dn, cs in found.items()} == {"cn=bob,ou=staff": "c2"}


def test_link_writes_change_only_the_link_and_yield_to_whole_writes(store: Store) -> None:
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
    assert store.cs_linked_to("m9") == []
    assert store.count_unlinked("ad") == 0
    with store.transaction():
        store.put_links([replace(other, mv_id="m4")])
        store.delete_cs("c2")
    assert store.get_cs("c2") is None
    assert store.cs_linked_to("m4") == []


def test_export_writes_change_only_the_export_state(store: Store) -> None:
    stored = _cs("c1", "cloud", anchor=None, attributes={"sn": ("A",)}, mv_id="m1")
    with store.transaction():
        store.put_cs(stored)
    store.mark_in_flight(["c1"])
    assert store.get_cs("c1") == replace(stored, export_in_flight=True)
    exported = replace(
        stored,
        anchor="new-anchor",
        dn="CN=Exported",
        attributes={"ignored": ("x",)},
        mv_id="ignored",
        unconfirmed={"sn": ("A",)},
    )
    with store.transaction():
        store.put_exported([exported])
    assert store.get_cs("c1") == replace(
        stored, anchor="new-anchor", dn="CN=Exported", unconfirmed={"sn": ("A",)}
    )
    assert store.cs_by_anchor("cloud", "new-anchor") is not None
    assert store.cs_ids_to_export("cloud") == ["c1"]  # unconfirmed values still wait


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:

    def crash() -> None:
        with store.transaction():
            store.put_mv(MVObject("m1", "person", {}))
            with store.transaction():  # nested: joins the outer one
                store.put_mv(MVObject("m2", "person", {}))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert store.count_mv() == 0


def test_a_failed_transaction_restores_what_it_changed_and_its_index(store: Store) -> None:
    store.set_indexed_attributes("mv", ["mail"])
    store.set_indexed_attributes("ad", ["mail"])
    kept = _cs("c1", attributes={"mail": ("ann@contoso.com",)}, mv_id="m1")
    gone = _cs("c2", attributes={"mail": ("bob@contoso.com",)})
    state = ConnectorState("ad", "w1")
    with store.transaction():
        store.put_cs_many([kept, gone])
        store.put_mv(MVObject("m1", "person", {"mail": ("ann@contoso.com",)}))
        store.put_connector_state(state)

    def crash() -> None:
        with store.transaction():
            store.put_cs(replace(kept, dn="CN=Moved", attributes={"mail": ("new@contoso.com",)}))
            store.put_links([replace(kept, mv_id="m9")])
            store.delete_cs("c2")
            store.put_mv(MVObject("m1", "person", {"mail": ("new@contoso.com",)}))
            store.put_cs(_cs("c3"))
            store.put_connector_state(ConnectorState("ad", "w2"))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert store.get_cs_many(["c1", "c2", "c3"]) == [kept, gone]
    assert store.cs_by_dn("ad", "CN=c1") == kept
    assert store.cs_linked_to("m1") == [kept]
    assert store.cs_linked_to("m9") == []
    assert store.cs_ids_by_value("ad", "mail", ("bob@contoso.com",), True) == {"c2"}
    assert store.cs_ids_by_value("ad", "mail", ("new@contoso.com",), True) == set()
    assert store.cs_ids_by_value("mv", "mail", ("ann@contoso.com",), True) == {"m1"}
    assert store.get_mv("m1") == MVObject("m1", "person", {"mail": ("ann@contoso.com",)})
    assert store.connector_state("ad") == state


def test_join_lookups_use_the_value_index_exact_or_ignoring_case(store: Store) -> None:
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
    assert store.ids_by_values(
        "mv", "mail", ["ANN@contoso.com", "bob@contoso.com", "x"], False
    ) == {
        "s:ann@contoso.com": {"m1"},
        "s:bob@contoso.com": {"m2"},
    }
    with store.transaction():
        store.delete_mv("m1")
    assert store.cs_ids_by_value("mv", "mail", ("ann@contoso.com",), False) == set()


def test_a_value_too_long_to_index_is_never_found_and_the_object_keeps_it(store: Store) -> None:
    store.set_indexed_attributes("ad", ["mail"])
    long_value = "x" * 3_000
    with store.transaction():
        store.put_cs(_cs("c1", attributes={"mail": (long_value, "short@contoso.com")}))
    assert store.cs_ids_by_value("ad", "mail", (long_value,), True) == set()
    assert store.cs_ids_by_value("ad", "mail", ("short@contoso.com",), True) == {"c1"}
    found = store.get_cs("c1")
    assert found is not None
    assert found.attributes["mail"][0] == long_value


def test_staging_pairs_imported_objects_with_current_ones_and_finds_the_missing(
    store: Store,
) -> None:
    with store.transaction():
        store.put_cs_many(
            [CSObject("c1", "ad", "a1", "CN=1", "user"), CSObject("c2", "ad", "a2", "CN=2", "user")]
        )
        store.stage(
            "ad",
            [
                ImportedObject("a3", "CN=3", "user", {}),
                ImportedObject("a1", "CN=1", "user", {"x": ("1",)}),
            ],
        )
        store.stage("other", [ImportedObject("a2", "CN=2", "user", {})])
    assert store.staged_count("ad") == 2
    pairs = [
        (obj.anchor, cs.cs_id if cs else None)
        for chunk in store.staged_with_current("ad", 1)
        for obj, cs in chunk
    ]
    assert pairs == [("a1", "c1"), ("a3", None)]  # in anchor order
    assert store.cs_ids_not_staged("ad") == ["c2"]
    with store.transaction():
        store.clear_staging("ad")
    assert store.staged_count("ad") == 0
    assert store.staged_count("other") == 1


def test_imported_objects_are_indexed_and_unchanged_ones_keep_their_index(
    store: Store,
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
    read = store.get_cs("c1")
    assert read is not None
    with store.transaction():
        store.put_cs(replace(read, mv_id="m1"))
    assert store.cs_ids_by_value("cloud", "onPremisesImmutableId", ("X",), True) == {"c1"}


def test_connector_state_and_runs_are_upserted_and_read_back(store: Store) -> None:
    with store.transaction():
        store.put_connector_state(ConnectorState("ad", "w1", "a", "r", True, False))
        store.put_connector_state(ConnectorState("ad", "w2", "a2", "r2", False, True))
    assert store.connector_state("ad") == ConnectorState("ad", "w2", "a2", "r2", False, True)
    assert store.connector_state("other") == ConnectorState("other")
    first = RunRecord("r1", "ad", Profile.FULL_IMPORT, Status.IN_PROGRESS, "t0", None, {}, "")
    second = RunRecord("r2", "ad", Profile.DELTA_IMPORT, Status.IN_PROGRESS, "t1", None, {}, "")
    finished = replace(first, status=Status.SUCCESS, ended="t2", counts={"add": 3})
    error = ObjectError("ad", "CN=x", "bad userType 'boss'", "a1", "rule", "userType")
    with store.transaction():
        store.start_run(first)
        store.start_run(second)
        store.finish_run(finished)
        store.record_errors("r2", [error, replace(error, kind=ErrorKind.IMPORT)])
    runs = store.runs()
    assert [run.run_id for run in runs] == ["r2", "r1"]  # newest first
    assert runs[1] == finished
    assert runs[1].status is Status.SUCCESS
    assert runs[1].profile is Profile.FULL_IMPORT
    assert [run.run_id for run in store.runs(limit=1)] == ["r2"]
    assert store.run_errors("r2") == [error, replace(error, kind=ErrorKind.IMPORT)]
    assert store.run_errors("r1") == []


def test_runs_since_picks_one_connectors_profile_after_a_time(store: Store) -> None:
    def run(run_id: str, connector: str, profile: Profile, started: str) -> RunRecord:
        return RunRecord(run_id, connector, profile, Status.SUCCESS, started, None, {"delete": 1})

    with store.transaction():
        for record in (
            run("old", "cloud", Profile.EXPORT, "2026-01-01T09:00:00+00:00"),
            run("new", "cloud", Profile.EXPORT, "2026-01-01T10:30:00+00:00"),
            run("sync", "cloud", Profile.DELTA_SYNC, "2026-01-01T10:31:00+00:00"),
            run("other", "ad", Profile.EXPORT, "2026-01-01T10:32:00+00:00"),
        ):
            store.start_run(record)
    since = store.runs_since("cloud", Profile.EXPORT, "2026-01-01T10:00:00+00:00")
    assert [(r.run_id, r.counts) for r in since] == [("new", {"delete": 1})]


def test_password_sync_state_round_trips_per_connector(store: Store) -> None:
    assert store.load_password_sync_state("ad") == PasswordSyncState()
    state = PasswordSyncState(
        {"ana": 133_000_000_000_000_000, "ben": None},
        {"cy": PasswordChange("cy", "CN=Cy,DC=contoso,DC=com", 133_000_000_000_000_001)},
        "w7",
    )
    store.save_password_sync_state("ad", state)
    assert store.load_password_sync_state("ad") == state
    assert store.load_password_sync_state("ad2") == PasswordSyncState()


def test_pending_deletes_and_exports_are_counted_by_flag(store: Store) -> None:
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
    assert store.count_unlinked("cloud") == 3
    store.mark_in_flight(["c3"])
    assert store.cs_ids_to_export("cloud") == ["c1", "c2", "c3"]


def test_pending_imports_are_listed_in_id_order(store: Store) -> None:
    with store.transaction():
        store.put_cs_many(
            [
                _cs("c3", pending_import=PendingImport.ADD),
                _cs("c1", pending_import=PendingImport.DELETE),
                _cs("c2"),
                _cs("c4", "cloud", pending_import=PendingImport.UPDATE),
            ]
        )
    assert store.cs_ids("ad") == ["c1", "c2", "c3"]
    assert store.cs_ids("ad", pending_only=True) == ["c1", "c3"]


def test_a_nul_character_is_stored_found_and_kept_in_values(
    target: StoreTarget, store: Store
) -> None:
    store.set_indexed_attributes("ad", ["mail"])
    with store.transaction():
        store.put_cs(CSObject("c1", "ad", "a\x001", "CN=x\x00y", "user", {"mail": ("a\x00b",)}))
    found = store.get_cs("c1")
    assert found is not None
    assert found.attributes == {"mail": ("a\x00b",)}  # values are kept exactly
    # PostgreSQL text cannot hold NUL: the DN and anchor read back with U+FFFD for it.
    expected = "\ufffd" if target.backend == "postgresql" else "\x00"
    assert (found.dn, found.anchor) == (f"CN=x{expected}y", f"a{expected}1")
    assert store.cs_by_dn("ad", "CN=x\x00y") == found
    assert store.cs_by_anchor("ad", "a\x001") == found
    assert store.cs_ids_by_value("ad", "mail", ("a\x00b",), True) == {"c1"}


def test_a_full_sync_leaves_out_only_settled_outbound_objects(store: Store) -> None:
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
