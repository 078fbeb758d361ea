"""``migrate verify`` refuses a configuration the switch-over could not run, without
Samba: the LDIF source cannot export, as the AD connector cannot (it writes only
mS-DS-ConsistencyGuid), so an enabled outbound rule to it is a configuration error a
staging run would otherwise never show."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.workspace import invoke, write_workspace

WRITE_BACK = """
[[rule]]
name = "Out to AD - User Exchange Hybrid"
direction = "outbound"
connector = "ad"
source_object_type = "person"
target_object_type = "user"
link_type = "Join"
precedence = 158
disabled = {disabled}

[[rule.flow]]
target = "msExchUCVoiceMailSettings"
type = "Direct"
source = "cloudMSExchUCVoiceMailSettings"
"""


def with_write_back(tmp_path: Path, *, disabled: bool) -> Path:
    config = write_workspace(tmp_path)
    (tmp_path / "write-back.toml").write_text(
        WRITE_BACK.format(disabled=str(disabled).lower()), "utf-8"
    )
    config.write_text('rules = ["write-back.toml"]\n' + config.read_text("utf-8"), "utf-8")
    return config


def test_an_enabled_rule_to_a_connector_that_cannot_export_is_refused(tmp_path: Path) -> None:
    config = with_write_back(tmp_path, disabled=False)
    code, output = invoke("migrate", "verify", "-c", str(config), "--json")
    assert code == 3, output
    document = json.loads(output[output.index("{") :])
    assert document["error"] == "configuration"
    (problem,) = document["problems"]
    assert problem["message"].startswith(
        "connector 'ad' cannot export, yet enabled outbound rules write to it "
        f"('Out to AD - User Exchange Hybrid' in {tmp_path / 'write-back.toml'}"
    )


def test_the_same_rule_disabled_verifies(tmp_path: Path) -> None:
    """The empty recording target: every sample user is an add, and nothing else."""
    config = with_write_back(tmp_path, disabled=True)
    code, output = invoke("migrate", "verify", "-c", str(config), "--json")
    assert code == 1, output
    document = json.loads(output)
    assert document["errors"] == []
    assert {change["kind"] for change in document["changes"]} == {"add"}
    assert len(document["changes"]) > 10
