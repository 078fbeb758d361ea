"""The mS-DS-ConsistencyGuid write-back driven by the engine ("Out to AD - User ImmutableId").

An in-process directory stands in for AD here (the Samba test is
tests/integration/ad/test_engine_consistency_guid.py).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.engine.writable_directory import CONSISTENCY_GUID, WritableDirectory

from hybridsync.config import Config
from hybridsync.connectors.recording import RecordingConfig, RecordingTarget
from hybridsync.engine import Engine, EngineContext, Profile, Status
from hybridsync.store import MemoryStore

RULE = "Out to AD - User ImmutableId"


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.ad = WritableDirectory()
        self.cloud = RecordingTarget(RecordingConfig(name="cloud"))
        self.store = MemoryStore()
        """One store for every engine built, as one state file would be."""

    def engine(self, *, write_back: bool = True) -> Engine:
        self.ad.write_back = write_back
        config = Config.model_validate(
            {
                "builtin_rules": {"source": "ad", "target": "cloud"},
                "connectors": [
                    {"type": "ad", "name": "ad", "write_back_consistency_guid": write_back},
                    {"type": "recording", "name": "cloud"},
                ],
            }
        )
        connectors: dict[str, Any] = {"ad": self.ad, "cloud": self.cloud}
        return Engine(EngineContext(self.store, config.rule_set(), connectors))

    def immutable_ids(self) -> dict[str, str]:
        return {
            str(o.attributes["userPrincipalName"][0]): str(o.attributes["onPremisesImmutableId"][0])
            for o in self.cloud.objects().values()
        }


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = Setup(tmp_path)
    yield made
    made.cloud.close()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _exports(cycle: Any, connector: str) -> list[Any]:
    return [r for r in cycle.runs if r.connector == connector and r.profile is Profile.EXPORT]


def test_the_rule_exists_only_with_the_option() -> None:
    def rule_names(write_back: bool) -> set[str]:
        config = Config.model_validate(
            {
                "builtin_rules": {"source": "ad", "target": "cloud"},
                "connectors": [
                    {"type": "ad", "name": "ad", "write_back_consistency_guid": write_back},
                    {"type": "recording", "name": "cloud"},
                ],
            }
        )
        return {rule.name for rule in config.rule_set().rules}

    assert RULE in rule_names(True)
    assert RULE not in rule_names(False)


def test_a_cycle_writes_object_guid_into_an_empty_consistency_guid(setup: Setup) -> None:
    anchor, guid = setup.ad.add_user("ann")
    engine = setup.engine()
    cycle = engine.cycle("initial")
    assert cycle.status == Status.SUCCESS, [str(e) for r in cycle.runs for e in r.errors]
    assert setup.ad.value(anchor, CONSISTENCY_GUID) == (guid,)
    assert setup.immutable_ids() == {"ann@contoso.com": _b64(guid)}
    # Both exports ran in the same cycle, AD's first (configuration order).
    runs = [r.connector for r in cycle.runs if r.profile is Profile.EXPORT]
    assert runs == ["ad", "cloud"]
    assert [r.counts.get("update") for r in _exports(cycle, "ad")] == [1]


def test_a_later_import_confirms_it_and_the_anchor_never_changes(setup: Setup) -> None:
    _, guid = setup.ad.add_user("ann")
    engine = setup.engine()
    engine.cycle("initial")
    store = engine.context.store
    (cs,) = [store.get_cs(i) for i in store.cs_ids("ad")]
    assert cs is not None
    assert cs.unconfirmed == {CONSISTENCY_GUID: (guid,)}  # export status memory
    mv_before = store.get_mv(cs.mv_id or "")
    sent = len(setup.cloud.sent)

    second = engine.cycle("delta")
    assert second.status == Status.SUCCESS
    confirmed = store.get_cs(cs.cs_id)
    assert confirmed is not None
    assert confirmed.unconfirmed == {}
    assert confirmed.attributes[CONSISTENCY_GUID] == (guid,)
    assert store.get_mv(cs.mv_id or "") == mv_before
    assert mv_before is not None
    assert mv_before.attributes["sourceAnchor"] == (_b64(guid),)
    # Nothing is exported again, to AD or to the cloud.
    assert len(setup.ad.writes) == 1
    assert len(setup.cloud.sent) == sent
    assert not store.cs_ids_to_export("ad")
    assert not store.cs_ids_to_export("cloud")
    assert setup.immutable_ids() == {"ann@contoso.com": _b64(guid)}


def test_an_existing_consistency_guid_is_kept(setup: Setup) -> None:
    preset = bytes(range(16))
    anchor, guid = setup.ad.add_user("bob", **{CONSISTENCY_GUID: preset})
    engine = setup.engine()
    assert engine.cycle("initial").status == Status.SUCCESS
    engine.cycle("delta")
    assert setup.ad.writes == []
    assert setup.ad.value(anchor, CONSISTENCY_GUID) == (preset,)
    assert setup.immutable_ids() == {"bob@contoso.com": _b64(preset)}
    assert preset != guid


def test_without_the_option_nothing_is_written(setup: Setup) -> None:
    anchor, guid = setup.ad.add_user("ann")
    engine = setup.engine(write_back=False)
    cycle = engine.cycle("initial")
    assert cycle.status == Status.SUCCESS
    assert _exports(cycle, "ad") == []
    assert setup.ad.writes == []
    assert setup.ad.value(anchor, CONSISTENCY_GUID) == ()
    assert setup.immutable_ids() == {"ann@contoso.com": _b64(guid)}


def test_a_refused_write_fails_only_that_user_and_is_retried(setup: Setup) -> None:
    ann, ann_guid = setup.ad.add_user("ann")
    bob, bob_guid = setup.ad.add_user("bob")
    engine = setup.engine()
    engine.cycle("initial", export=False)
    # Someone else fills ann's value between sync and export: AD refuses the add.
    setup.ad.entries[ann].attributes[CONSISTENCY_GUID] = (ann_guid,)
    report = engine.run("ad", Profile.EXPORT)
    assert report.status == Status.COMPLETED_EXPORT_ERRORS
    assert [(e.dn, e.kind) for e in report.errors] == [(setup.ad.entries[ann].dn, "export")]
    assert setup.ad.value(bob, CONSISTENCY_GUID) == (bob_guid,)
    assert engine.run("cloud", Profile.EXPORT).status == Status.SUCCESS
    assert set(setup.immutable_ids()) == {"ann@contoso.com", "bob@contoso.com"}
    # The next import shows ann's value: it is what was wanted, nothing is left to send.
    setup.ad.entries[ann].seq = setup.ad.seq = setup.ad.seq + 1
    engine.cycle("delta")
    assert not engine.context.store.cs_ids_to_export("ad")


def test_turning_the_option_on_later_stamps_existing_users(setup: Setup) -> None:
    anchor, guid = setup.ad.add_user("ann")
    setup.engine(write_back=False).cycle("initial")
    cycle = setup.engine().cycle("delta")
    assert any("full sync is required" in note for note in cycle.notes)
    assert setup.ad.value(anchor, CONSISTENCY_GUID) == (guid,)
    assert setup.immutable_ids() == {"ann@contoso.com": _b64(guid)}


def test_preview_shows_the_write_back(setup: Setup) -> None:
    anchor, guid = setup.ad.add_user("ann")
    engine = setup.engine()
    engine.cycle("initial", export=False)
    shown = engine.preview("ad", anchor)
    write_back = shown["targets"]["ad"]
    assert write_back["action"] == "flow"
    assert write_back["rules_in_scope"] == [RULE]
    assert write_back["pending_export"] == {
        "kind": "update",
        "changes": {CONSISTENCY_GUID: ["base64:" + _b64(guid)]},
    }
    assert shown["targets"]["cloud"]["pending_export"]["kind"] == "add"
