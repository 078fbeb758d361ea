"""``hybridsync init``: a commented configuration that loads; ``--check`` tests both sides."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from tests.integration.product.conftest import invoke
from tests.support.cloud_server import serve_cloud
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.config import load_config
from hybridsync.wiring import build


@pytest.fixture(autouse=True)
def secrets_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDSYNC_AD_PASSWORD", "unused")
    monkeypatch.setenv("HYBRIDSYNC_CLOUD_SECRET", "unused")


def test_the_cloud_configuration_loads_and_builds(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    code, output = invoke(
        "init", "-c", str(path), "--ad-url", "ldaps://dc1.corp.fabrikam.com",
        "--include-ou", "OU=Staff,DC=corp,DC=fabrikam,DC=com",
        "--include-ou", "OU=Partners,DC=corp,DC=fabrikam,DC=com",
        "--partner-suffix", "@partners.fabrikam.com", "--cloud-url", "https://cloud.fabrikam.com",
    )  # fmt: skip
    assert code == 0, output
    text = path.read_text("utf-8")
    assert "# Partners as guests" in text  # commented for the reader
    data = tomllib.loads(text)
    assert data["user_type"] == {"source": "upn-suffix", "suffixes": ["@partners.fabrikam.com"]}
    ad, cloud = data["connectors"]
    assert ad["include_ous"] == [
        "OU=Staff,DC=corp,DC=fabrikam,DC=com",
        "OU=Partners,DC=corp,DC=fabrikam,DC=com",
    ]
    assert cloud["base_url"] == "https://cloud.fabrikam.com/v1.0"
    assert cloud["target"] == "hybridsync"
    built = build(load_config(path))  # every key valid; nothing connects yet
    assert set(built.connectors) == {"ad", "cloud"}
    built.close()


def test_entra_and_the_attribute_variant(tmp_path: Path) -> None:
    path = tmp_path / "entra.toml"
    code, _ = invoke(
        "init", "-c", str(path), "--target", "entra",
        "--tenant", "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab",
        "--user-type-attribute", "extensionAttribute1",
    )  # fmt: skip
    assert code == 0
    data = tomllib.loads(path.read_text("utf-8"))
    assert data["user_type"] == {"source": "attribute", "attribute": "extensionAttribute1"}
    cloud = data["connectors"][1]
    assert cloud["target"] == "entra"
    assert cloud["authority"].startswith("https://login.microsoftonline.com/0f1e2d3c-")
    build(load_config(path)).close()


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    path.write_text("# mine\n", encoding="utf-8")
    code, output = invoke("init", "-c", str(path))
    assert code == 3
    assert "--force" in output
    assert path.read_text("utf-8") == "# mine\n"
    assert invoke("init", "-c", str(path), "--force")[0] == 0
    assert "[user_type]" in path.read_text("utf-8")
    assert invoke("init", "-c", str(path), "--target", "moon", "--force")[0] == 3


def test_check_reaches_the_served_cloud_and_reports_an_unreachable_dc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_cloud(tmp_path / "cloud") as server:
        tenant = server.new_tenant("contoso.com")
        path = tmp_path / "hybridsync.toml"
        code, _ = invoke(
            "init", "-c", str(path), "--ad-url", "ldaps://127.0.0.1:1",
            "--bind-user", "svc@corp.fabrikam.com", "--partner-suffix", "@partners.fabrikam.com",
            "--cloud-url", server.base_url, "--tenant", tenant.id,
            "--client-id", tenant.sync_app.application.client_id,
            "--cloud-ca-file", str(server.ca_path),
        )  # fmt: skip
        assert code == 0
        monkeypatch.setenv("HYBRIDSYNC_AD_PASSWORD", "irrelevant")
        monkeypatch.setenv("HYBRIDSYNC_CLOUD_SECRET", tenant.sync_app.client_secret or "")
        code, output = invoke("init", "-c", str(path), "--check", "--json")
        assert code == exit_codes.UNREACHABLE  # the DC is down: nothing else failed
        results = {r["connector"]: r for r in json.loads(output)}
        assert results["cloud"]["ok"] is True
        assert results["ad"]["ok"] is False
        assert results["ad"]["unreachable"] is True
        assert "ldaps://127.0.0.1:1" in results["ad"]["detail"]
        monkeypatch.setenv("HYBRIDSYNC_CLOUD_SECRET", "wrong")
        code, output = invoke("init", "-c", str(path), "--check")
        assert code == exit_codes.CONFIG_ERROR  # a refused secret is not "unreachable"
        assert "cloud        FAILED" in output


def test_example_values_are_marked_listed_and_refused_by_check(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    code, output = invoke("init", "-c", str(path), "--ad-url", "ldaps://dc1.corp.fabrikam.com")
    assert code == 0, output
    assert "5 example values to replace" in output
    assert 'suffixes = ["@partners.contoso.com"]: replace it (or give --partner-suffix)' in output
    assert "--ad-url" not in output  # given: not a placeholder
    lines = path.read_text("utf-8").splitlines()
    marked = [line for line in lines if "# placeholder:" in line and not line.startswith("#")]
    assert len(marked) == 5
    assert all("= " in line for line in marked)
    code, output = invoke("init", "-c", str(path), "--check")
    assert code == exit_codes.CONFIG_ERROR
    assert "still holds example values" in output
    assert f"{path}:" in output
    assert "client_id" in output


def test_init_json_prints_what_it_wrote_and_the_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    code, output = invoke("init", "-c", str(path), "--json", "--target", "entra")
    assert code == 0, output
    document = json.loads(output)
    assert document["written"] == str(path)
    keys = {item["key"] for item in document["placeholders"]}
    assert keys == {"suffixes", "url", "bind_user", "authority", "client_id"}
    assert all(isinstance(item["line"], int) for item in document["placeholders"])
    checked = CliRunner().invoke(app, ["init", "-c", str(path), "--check", "--json"])
    assert checked.exit_code == exit_codes.CONFIG_ERROR
    problems = json.loads(checked.stdout)["problems"]
    assert {problem["key"] for problem in problems} == keys


def test_a_value_given_equal_to_the_example_is_not_a_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    code, output = invoke(
        "init", "-c", str(path), "--ad-url", "ldaps://dc1.corp.contoso.com",
        "--bind-user", "Administrator@corp.contoso.com",
        "--partner-suffix", "@partners.contoso.com",
        "--cloud-url", "https://127.0.0.1:8443", "--tenant", "contoso.com",
        "--client-id", "11111111-2222-3333-4444-555555555555",
    )  # fmt: skip
    assert code == 0, output
    assert "example values" not in output
    assert "# placeholder:" not in path.read_text("utf-8").split("\n[builtin_rules]")[1]
