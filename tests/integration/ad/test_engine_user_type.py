"""The issue's "done when": hybridsync imports the Samba directory through the built-in
AD rules and the userType feature, in both modes, and shows each user's userType."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.fixtures import contoso_users
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.config import load_config
from hybridsync.wiring import Built, build

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
MODES = {
    "attribute": 'source = "attribute"\nattribute = "extensionAttribute1"',
    "upn-suffix": 'source = "upn-suffix"\nsuffixes = ["@partners.contoso.com"]',
}


def _expected(mode: str) -> dict[str, str | None]:
    expected: dict[str, str | None] = {}
    for sam, values in contoso_users().items():
        upn = values.get("userPrincipalName")
        if upn is None or sam.startswith("MSOL_"):
            continue  # kept out of the cloud by the built-in rules (disabled users are synced)
        if mode == "attribute":
            expected[sam] = values.get("extensionAttribute1", "Member")  # the default
        else:
            expected[sam] = "Guest" if upn.endswith("@partners.contoso.com") else "Member"
    return expected


def _config(samba_dc: SambaDC, tmp_path: Path, mode: str, include: list[str] | None = None) -> Path:
    ous = include or [samba_dc.ou("Staff"), samba_dc.ou("Partners")]
    config = tmp_path / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"

[builtin_rules]
source = "ad"
target = "cloud"

[user_type]
{MODES[mode]}
{ad_connector_toml(samba_dc, PASSWORD_ENV, ous)}
[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
""",
        encoding="utf-8",
    )
    return config


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "hybridsync"), *args, "-c", str(config)],
        capture_output=True, text=True, cwd=config.parent, check=False,
    )  # fmt: skip


@pytest.fixture
def engine_of() -> Iterator[list[Built]]:
    built: list[Built] = []
    yield built
    for item in built:
        item.close()


def _dns() -> dict[str, str]:
    return {sam: values["dn"] for sam, values in contoso_users().items()}


def _metaverse_user_type(built: Built, dn: str) -> str | None:
    shown = built.engine.preview("ad", dn)
    values = shown["metaverse"].get("userType", {}).get("values")
    return values[0] if values else None


@pytest.mark.parametrize("mode", sorted(MODES))
def test_hybridsync_run_gives_every_sample_user_the_right_user_type(
    samba_dc: SambaDC, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch,
    engine_of: list[Built],
) -> None:  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    config = _config(samba_dc, tmp_path, mode)
    done = _cli(config, "run", "initial", "--json")
    cycle = json.loads(done.stdout)
    errors = [(e["dn"], e["message"]) for run in cycle["runs"] for e in run["errors"]]
    if mode == "upn-suffix":
        # The documented rule errors on a user without UPN (the sample's MSOL_ account,
        # which the built-in rules keep out of the cloud anyway): exit status 1.
        msol = contoso_users()["MSOL_4d2f9a1c"]["dn"]
        assert errors == [(msol, "UserPrincipalName is not present to determine UserType")]
        assert (done.returncode, cycle["status"]) == (1, "completed-sync-errors")
    else:
        assert errors == []
        assert (done.returncode, cycle["status"]) == (0, "success"), done.stderr
    built = build(load_config(config))
    engine_of.append(built)
    cloud = {
        str(o.attributes["userPrincipalName"][0]).split("@")[0]: o.attributes.get("userType")
        for o in built.connectors["cloud"].objects().values()  # type: ignore[attr-defined]
    }
    expected = _expected(mode)
    assert {sam: (v[0] if v else None) for sam, v in cloud.items()} == expected
    dns = _dns()
    assert {sam: _metaverse_user_type(built, dns[sam]) for sam in expected} == expected
    shown = _cli(config, "preview", "--connector", "ad", dns["msullivan"])
    assert shown.returncode == 0, shown.stderr
    assert "userType = Guest" in shown.stdout or mode == "attribute"


def test_a_delta_cycle_carries_a_user_type_change_from_ad(
    samba_dc: SambaDC, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ou: str,
    n: Callable[[str], str], engine_of: list[Built],
) -> None:  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    config = _config(samba_dc, tmp_path, "attribute", include=[ou])
    dn = samba_dc.add_user(n("flip"), ou_dn=ou, upn=f"{n('flip')}@partners.contoso.com",
                           attributes={"extensionAttribute1": "Member"})  # fmt: skip
    assert _cli(config, "run", "initial").returncode == 0
    samba_dc.modify(dn, {"extensionAttribute1": "Guest"})
    done = _cli(config, "run", "delta", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    built = build(load_config(config))
    engine_of.append(built)
    assert _metaverse_user_type(built, dn) == "Guest"
    (user,) = built.connectors["cloud"].objects().values()  # type: ignore[attr-defined]
    assert user.attributes["userType"] == ("Guest",)
