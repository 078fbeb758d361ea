"""The PHS runner on the real SQLite store with in-process fakes of the three ports."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from tests.support.stores import StoreTarget

from hybridsync.config.rules import load_rules
from hybridsync.config.settings import builtin_rule_source
from hybridsync.core.objects import CSObject, MVObject, PendingExport
from hybridsync.core.password_hash_sync.changes import NTHashRead, PasswordSyncState
from hybridsync.core.password_hash_sync.hashes import (
    PasswordHash,
    nt_hash_of_password,
    verify_password,
)
from hybridsync.core.password_hash_sync.targets import (
    HashUpload,
    UploadResult,
    password_sync_targets,
)
from hybridsync.core.ports import ExportKind, ImportedObject, ImportKind, ImportPage
from hybridsync.core.storage import Store
from hybridsync.engine.password_hash_sync import PasswordHashSync, PasswordSyncReport, run_forever
from hybridsync.errors import FatalConnectorError, HybridsyncError
from hybridsync.store import MemoryStore

RULES = load_rules([builtin_rule_source("ad", "cloud")], [])
ENABLED, DISABLED = ("512",), ("514",)
PASSWORDS = {"ana": "Ana-Pw!1", "ben": "Ben-Pw!1", "cy": "Cy-Pw!1", "dee": "Dee-Pw!1"}


def ad(anchor: str, control: tuple[str, ...] = ENABLED, mv: str | None = "mv-") -> CSObject:
    return CSObject(
        f"ad-{anchor}", "ad", anchor, f"CN={anchor},DC=corp", "user",
        {"userAccountControl": control}, mv_id=None if mv is None else mv + anchor,
    )  # fmt: skip


def cloud(anchor: str, cloud_id: str | None, delete: bool = False) -> CSObject:
    pending = PendingExport(ExportKind.DELETE) if delete else None
    return CSObject(
        f"cl-{anchor}", "cloud", cloud_id, "", "user", mv_id=f"mv-{anchor}", pending_export=pending
    )


def test_targets_are_enabled_linked_unfiltered_users_with_a_cloud_object() -> None:
    sources = [
        ad("ana"), ad("ben", DISABLED), ad("cy"), ad("dee"), ad("eve"), ad("fay", mv=None),
    ]  # fmt: skip
    metaverse = {f"mv-{a}": MVObject(f"mv-{a}", "person") for a in ("ana", "ben", "cy", "dee")}
    metaverse["mv-eve"] = MVObject("mv-eve", "person", {"cloudFiltered": (True,)})
    linked = {
        "mv-ana": [cloud("ana", "cloud-ana")],
        "mv-ben": [cloud("ben", "cloud-ben")],
        "mv-cy": [cloud("cy", None)],  # not exported yet
        "mv-dee": [cloud("dee", "cloud-dee", delete=True)],
        "mv-eve": [cloud("eve", "cloud-eve")],
    }
    targets = password_sync_targets(RULES, "ad", "cloud", sources, metaverse, linked)
    assert targets == {"ana": "cloud-ana"}


class Feed:
    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def password_changes(self, watermark: str | None) -> Iterator[ImportPage]:
        self.asked.append(watermark)
        records = [
            ImportedObject(a, f"CN={a}", "user", {"pwdLastSet": ("1",)}, ImportKind.UPDATE)
            for a in PASSWORDS
        ]
        yield ImportPage(records if watermark is None else [], f"w{len(self.asked)}")


class Hashes:
    def read_nt_hashes(self, anchors: Sequence[str]) -> Iterator[NTHashRead]:
        for anchor in anchors:
            yield NTHashRead(anchor, nt_hash_of_password(PASSWORDS[anchor]))


class Cloud:
    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.stored: dict[str, str] = {}

    def upload_password_hashes(self, uploads: Sequence[HashUpload]) -> Iterator[UploadResult]:
        for upload in uploads:
            if upload.cloud_id in self.refuse:
                yield UploadResult(upload.anchor, "refused")
            else:
                self.stored[upload.cloud_id] = upload.wire
                yield UploadResult(upload.anchor)


def runner(store: Store, cloud_target: Cloud, staging: bool = False) -> PasswordHashSync:
    with store.transaction():
        for anchor in ("ana", "ben"):
            store.put_cs(ad(anchor))
            store.put_cs(cloud(anchor, f"cloud-{anchor}"))
            store.put_mv(MVObject(f"mv-{anchor}", "person"))
    return PasswordHashSync(
        "ad", "cloud", RULES, store, store, Feed(), Hashes(),
        cloud_target, staging_mode=staging,
    )  # fmt: skip


def test_a_run_uploads_derived_hashes_and_stores_its_state(store_target: StoreTarget) -> None:
    target = Cloud(refuse={"cloud-ben"})
    store = store_target.open_store()
    phs = runner(store, target)
    report = phs.run_once()
    assert (report.synced, report.targets, report.status) == (1, 2, "completed-errors")
    assert report.errors == [("ben", "refused")]
    assert verify_password(PASSWORDS["ana"], PasswordHash.from_wire(target.stored["cloud-ana"]))

    reader = store_target.open_store()  # a second connection to a SQL store
    state = reader.load_password_sync_state("ad")
    reader.close()
    assert state.watermark == "w1"
    assert set(state.synced) == {"ana"}
    assert set(state.pending) == {"ben"}  # retried next run without a new change

    target.refuse.clear()
    assert phs.run_once().synced == 1
    assert "cloud-ben" in target.stored
    store.close()


def test_staging_mode_reads_and_uploads_nothing() -> None:
    target = Cloud(refuse=set())
    phs = runner(MemoryStore(), target, staging=True)
    assert phs.run_once().status == "stopped-staging-mode"
    assert target.stored == {}
    assert phs.state_store.load_password_sync_state("ad") == PasswordSyncState()


def test_the_schedule_survives_a_failed_run_and_stops_when_asked() -> None:
    stop = threading.Event()
    calls: list[int] = []
    failures: list[HybridsyncError] = []

    def once() -> PasswordSyncReport:
        calls.append(len(calls))
        if len(calls) == 1:
            raise FatalConnectorError("domain controller 127.0.0.9: unreachable")
        if len(calls) == 3:
            stop.set()
        return PasswordSyncReport("ad")

    run_forever(once, interval_seconds=0, stop=stop, on_error=failures.append)
    assert len(calls) == 3
    assert [str(f) for f in failures] == ["domain controller 127.0.0.9: unreachable"]
