"""``hybridsync cloud app groups-claim``: show and set an application's groups claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cloud.test_cli import init, runner

from hybridsync.cli import app
from hybridsync.cloud import CloudService
from hybridsync.cloud.local import settings_for


def claim(data_dir: Path, *args: str) -> tuple[int, str]:
    command = ["cloud", "app", "groups-claim", *args, "--data-dir", str(data_dir)]
    result = runner.invoke(app, command)
    return result.exit_code, result.output


def as_json(data_dir: Path, *args: str) -> dict[str, Any]:
    code, output = claim(data_dir, *args, "--json")
    assert code == 0, output
    document: dict[str, Any] = json.loads(output)
    return document


def test_show_and_set_the_groups_claim(tmp_path: Path) -> None:
    client_id = str(init(tmp_path)["application"]["client_id"])  # type: ignore[index]
    assert as_json(tmp_path, client_id) == {
        "client_id": client_id,
        "groups": "None",
        "id_token_format": "object id",
        "access_token_format": "object id",
        "assigned_groups": "none",
    }
    document = as_json(
        tmp_path, client_id, "--groups", "SecurityGroup", "--format", "sam_account_name"
    )
    assert (document["groups"], document["id_token_format"], document["access_token_format"]) == (
        "SecurityGroup",
        "sam_account_name",
        "sam_account_name",
    )
    service = CloudService(settings_for(tmp_path))
    try:
        tenant = service.tenancy.only_tenant()
        body = {"displayName": "Portal", "mailEnabled": False, "mailNickname": "portal",
                "securityEnabled": True}  # fmt: skip
        group = service.groups.create(tenant.id, body)["id"]
        settings = service.app_claims.settings(client_id)
        assert settings["groupMembershipClaims"] == "SecurityGroup"
    finally:
        service.close()
    document = as_json(tmp_path, client_id, "--groups", "ApplicationGroup", "--assign-group", group)
    assert (document["groups"], document["assigned_groups"]) == ("ApplicationGroup", group)
    assert document["id_token_format"] == "sam_account_name"  # left as it was


def test_bad_settings_are_configuration_errors_naming_the_value(tmp_path: Path) -> None:
    client_id = str(init(tmp_path)["application"]["client_id"])  # type: ignore[index]
    code, output = claim(tmp_path, client_id, "--groups", "Everyone")
    assert (code, "--groups must be one of None, SecurityGroup, All" in output) == (3, True)
    code, output = claim(tmp_path, client_id, "--format", "upn")
    assert (code, "unknown --format upn" in output) == (3, True)
    code, output = claim(tmp_path, "00000000-0000-0000-0000-00000000000c")
    assert (code, "no application '00000000-0000-0000-0000-00000000000c'" in output) == (3, True)
    missing = "00000000-0000-0000-0000-00000000000d"
    code, output = claim(tmp_path, client_id, "--assign-group", missing)
    assert (code, f"Resource '{missing}' does not exist" in output) == (3, True)
    assert as_json(tmp_path, client_id)["groups"] == "None"  # nothing half-applied
