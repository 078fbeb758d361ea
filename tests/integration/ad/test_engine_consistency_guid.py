"""The engine drives the mS-DS-ConsistencyGuid write-back on a real Samba DC.

The connector-level write (add only, never overwrite) is tested in test_writeback.py;
here a whole cycle decides it through the built-in rule "Out to AD - User ImmutableId".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.config import load_config
from hybridsync.engine import Profile, Status
from hybridsync.wiring import Built, build

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
CONSISTENCY_GUID = "mS-DS-ConsistencyGuid"


def _config(samba_dc: SambaDC, tmp_path: Path, ou: str, *, write_back: bool) -> Path:
    config = tmp_path / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"

[builtin_rules]
source = "ad"
target = "cloud"

{ad_connector_toml(samba_dc, PASSWORD_ENV, [ou])}
write_back_consistency_guid = {json.dumps(write_back)}

[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def engine_for(
    samba_dc: SambaDC, tmp_path: Path, ou: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Built]]:
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    made: list[Built] = []

    def make(*, write_back: bool) -> Built:
        built = build(load_config(_config(samba_dc, tmp_path, ou, write_back=write_back)))
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()


def _consistency_guid(samba_dc: SambaDC, dn: str) -> list[bytes]:
    found: list[bytes] = samba_dc.search(dn, attributes=[CONSISTENCY_GUID])[0][1].get(
        CONSISTENCY_GUID, []
    )
    return found


def _immutable_ids(built: Built) -> dict[str, str]:
    cloud = built.connectors["cloud"]
    return {
        str(o.attributes["userPrincipalName"][0]).split("@")[0]: str(
            o.attributes["onPremisesImmutableId"][0]
        )
        for o in cloud.objects().values()  # type: ignore[attr-defined]
    }


def _exported(cycle: object) -> dict[str, dict[str, int]]:
    runs = getattr(cycle, "runs", [])
    return {r.connector: dict(r.counts) for r in runs if r.profile is Profile.EXPORT}


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def test_a_cycle_stamps_object_guid_once_and_keeps_existing_values(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], engine_for: Callable[..., Built],
) -> None:  # fmt: skip
    fresh = samba_dc.add_user(n("cg"), ou_dn=ou, upn=f"{n('cg')}@contoso.com")
    preset_value = bytes(range(16))
    preset = samba_dc.add_user(n("cgset"), ou_dn=ou, upn=f"{n('cgset')}@contoso.com",
                               attributes={CONSISTENCY_GUID: preset_value})  # fmt: skip
    built = engine_for(write_back=True)
    first = built.engine.cycle("initial")
    assert first.status == Status.SUCCESS, [str(e) for r in first.runs for e in r.errors]
    guid = samba_dc.object_guid(fresh)
    assert _consistency_guid(samba_dc, fresh) == [guid]
    assert _consistency_guid(samba_dc, preset) == [preset_value]
    assert _immutable_ids(built) == {n("cg"): _b64(guid), n("cgset"): _b64(preset_value)}
    assert _exported(first)["ad"].get("update") == 1  # only the empty one was written

    second = built.engine.cycle("delta")
    assert second.status == Status.SUCCESS
    assert _exported(second) == {"ad": {}, "cloud": {}}
    store = built.store
    (cs,) = [c for c in store.get_cs_many(store.cs_ids("ad")) if c.dn == fresh]
    assert cs.attributes[CONSISTENCY_GUID] == (guid,)  # confirmed by the import
    assert cs.unconfirmed == {}
    mv = store.get_mv(cs.mv_id or "")
    assert mv is not None
    assert mv.attributes["sourceAnchor"] == (_b64(guid),)
    assert _immutable_ids(built)[n("cg")] == _b64(guid)


def test_without_the_option_nothing_is_written_to_ad(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], engine_for: Callable[..., Built],
) -> None:  # fmt: skip
    dn = samba_dc.add_user(n("nocg"), ou_dn=ou, upn=f"{n('nocg')}@contoso.com")
    built = engine_for(write_back=False)
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.SUCCESS
    assert "ad" not in _exported(cycle)
    assert _consistency_guid(samba_dc, dn) == []
    assert _immutable_ids(built) == {n("nocg"): _b64(samba_dc.object_guid(dn))}
