"""``hybridsync sync OBJECT`` in this process: text and JSON, one exit status per outcome,
the store's sync lock; an LDIF source, the recording target, a SQLite store."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from tests.unit.engine.conftest import ldif_user
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.cli.runlock import sync_lock


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "ad.ldif").write_text(
        "version: 1\n\n" + ldif_user("ann", title="Engineer") + "\n" + ldif_user("bob"),
        encoding="utf-8",
    )
    path = tmp_path / "hybridsync.toml"
    path.write_text(
        'store = "hybridsync.db"\n'
        '[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        "[safety]\ndeletion_threshold = 0\n"
        '[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "ad.ldif"\n'
        '[[connectors]]\ntype = "recording"\nname = "cloud"\npath = "cloud.db"\n',
        encoding="utf-8",
    )
    assert CliRunner().invoke(app, ["run", "initial", "-c", str(path)]).exit_code == 0
    return path


def sync(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sync", *args, "-c", str(config), "--admin", "off"])
    return result.exit_code, result.output


def change_title(config: Path, title: str) -> None:
    ldif = config.parent / "ad.ldif"
    ldif.write_text(ldif.read_text("utf-8").replace("title: Engineer", f"title: {title}"))


def test_a_change_is_exported_and_each_step_printed(config: Path) -> None:
    change_title(config, "Architect")

    code, output = sync(config, "ann@contoso.com")

    assert code == exit_codes.SUCCESS, output
    lines = output.splitlines()
    assert lines[0] == "sync ann@contoso.com (from ad): synced"
    assert lines[1].startswith("1. import: CN=ann,OU=Staff,DC=contoso,DC=com")
    assert "     title = Architect" in lines
    assert any(line.startswith("2. scope: in scope (rules: ") for line in lines)
    assert "     jobTitle: Engineer -> Architect   <- In from AD - User Common" in lines
    assert "     jobTitle = Architect" in lines
    assert any(line.startswith("     answer: ok (id ") for line in lines)


def test_json_has_the_four_steps(config: Path) -> None:
    change_title(config, "Architect")
    code, output = sync(config, "CN=ann,OU=Staff,DC=contoso,DC=com", "--json")
    assert code == exit_codes.SUCCESS, output
    report = json.loads(output)
    assert {"import", "scope", "metaverse", "export", "runs", "status"} <= set(report)
    assert report["export"][0]["attributes"] == {"jobTitle": ["Architect"]}


def test_exit_statuses_mean_one_thing_each(config: Path) -> None:
    code, output = sync(config, "nobody@contoso.com")
    assert code == exit_codes.NOT_FOUND
    assert "no object with the DN, UPN or anchor 'nobody@contoso.com'" in output

    code, output = sync(config, "ann@contoso.com", "--connector", "nope")
    assert code == exit_codes.CONFIG_ERROR, output

    ldif = config.parent / "ad.ldif"  # ann leaves scope: her cloud user would be deleted
    ldif.write_text(ldif.read_text("utf-8").replace("title: Engineer", "adminDescription: User_9"))
    code, output = sync(config, "ann@contoso.com")
    assert code == exit_codes.STOPPED, output
    assert "deletion threshold" in output
    code, output = sync(config, "ann@contoso.com", "--allow-deletes")
    assert code == exit_codes.SUCCESS, output
    assert "answer: ok" in output


def test_staging_shows_the_change_and_sends_nothing(config: Path) -> None:
    change_title(config, "Architect")
    code, output = sync(config, "ann@contoso.com", "--staging")
    assert code == exit_codes.SUCCESS, output
    assert "sync ann@contoso.com (from ad): staging" in output
    assert "answer: not sent (staging mode)" in output
    code, output = sync(config, "ann@contoso.com")  # now for real: still to send
    assert "     jobTitle = Architect" in output


def test_another_sync_holding_the_lock_stops_it(config: Path) -> None:
    change_title(config, "Architect")
    with sync_lock(config.parent / "hybridsync.db", "run delta"):
        code, output = sync(config, "ann@contoso.com")
    assert code == exit_codes.STOPPED
    assert "another sync is in progress" in output


def test_staging_cannot_go_through_a_service(config: Path) -> None:
    result = CliRunner().invoke(
        app, ["sync", "ann@contoso.com", "-c", str(config), "--staging", "--admin", "x:1"]
    )
    assert result.exit_code == exit_codes.CONFIG_ERROR
    assert "--admin off" in result.output


def test_something_else_at_the_services_address_is_not_asked(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    class NotTheService(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_error(404)

        def do_POST(self) -> None:
            asked.append(self.path)
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotTheService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("HYBRIDSYNC_SERVE_ADMIN", f"127.0.0.1:{server.server_port}")
        monkeypatch.setenv("HYBRIDSYNC_CONFIG", str(config))  # no --config: the address is tried
        change_title(config, "Architect")
        result = CliRunner().invoke(app, ["sync", "ann@contoso.com"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == exit_codes.SUCCESS, result.output
    assert "jobTitle = Architect" in result.output  # synced in this process
    assert asked == ["/healthz"]  # the key never went there


def test_help_lists_the_exit_statuses() -> None:
    result = CliRunner().invoke(app, ["sync", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for status in ("0 synced", "1 an export was refused", "2 stopped", "3 bad input",
                   "4 no object has that key", "5 a server"):  # fmt: skip
        assert status in text, text
    assert "Staging still imports the object and updates the metaverse" in text
