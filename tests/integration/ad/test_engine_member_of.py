"""ISMEMBEROF on a real Samba DC: a group membership change flips a rule's scope after a
delta cycle (DirSync reports only the group; the engine re-evaluates its members)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.rules import PILOT_RULE
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.config import load_config
from hybridsync.engine import Profile, Status
from hybridsync.wiring import build

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"


def _config(samba_dc: SambaDC, tmp_path: Path, ou: str, group: str) -> Path:
    (tmp_path / "pilot.toml").write_text(PILOT_RULE % group, encoding="utf-8")
    config = tmp_path / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"
rules = ["pilot.toml"]

[builtin_rules]
source = "ad"
target = "cloud"

{ad_connector_toml(samba_dc, PASSWORD_ENV, [ou])}
[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
""",
        encoding="utf-8",
    )
    return config


def test_membership_changes_flip_scope_after_a_delta_cycle(
    samba_dc: SambaDC, tmp_path: Path, ou: str, n: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    ann = samba_dc.add_user(n("pa"), ou_dn=ou, upn=f"{n('pa')}@contoso.com")
    bob = samba_dc.add_user(n("pb"), ou_dn=ou, upn=f"{n('pb')}@contoso.com")
    group = samba_dc.add_group(n("Pilot"), ou_dn=ou, members=[ann])
    built = build(load_config(_config(samba_dc, tmp_path, ou, group)))
    try:
        cloud = built.connectors["cloud"]

        def in_cloud() -> set[str]:
            objects = cloud.objects().values()  # type: ignore[attr-defined]
            return {str(o.attributes["onPremisesDistinguishedName"][0]) for o in objects}

        first = built.engine.cycle("initial")
        assert first.status == Status.SUCCESS, [str(e) for r in first.runs for e in r.errors]
        assert in_cloud() == {ann}

        samba_dc.add_members(group, [bob])
        samba_dc.remove_members(group, [ann])
        second = built.engine.cycle("delta")
        assert second.status == Status.SUCCESS, [str(e) for r in second.runs for e in r.errors]
        (ad_import,) = [r for r in second.runs if r.connector == "ad" and r.profile
                        is Profile.DELTA_IMPORT]  # fmt: skip
        assert ad_import.counts["membership-changed"] == 2
        assert in_cloud() == {bob}
        shown = built.engine.preview("ad", ann)
        assert shown["membership"] == [{"group": group, "group_found": True, "member": False}]
    finally:
        built.close()
