"""``hybridsync serve``'s admin address, on a real process: probes, the JSON API, sync on
demand, ``/metrics`` against the run history, and who may ask."""

from __future__ import annotations

import collections
import json
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.integration.product.conftest import invoke
from tests.support.daemon import Events
from tests.support.phs_config import PHS_SECTION, UNREACHABLE_CONNECTORS
from tests.support.tls import issue_server_certificate
from tests.support.workspace import write_workspace

from hybridsync.cli import exit_codes
from hybridsync.cli.admin.settings import TOKEN_ENV

HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
TOKEN = "admin-token-for-the-serve-tests-0123456789"
QUIET = ["--poll", "1h", "--cycle", "1h"]
"""No poll, no complete cycle during a test: every cycle after the first was asked for."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Service:
    process: subprocess.Popen[str]
    events: Events
    url: str
    config: Path

    def logged(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events.caught_up() if e.get("event") == name]


@contextmanager
def serving(config: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[Service]:
    """``hybridsync serve`` on ``config`` until the block ends, then SIGTERM: status 0."""
    command = [HYBRIDSYNC, "--log-format", "json", "serve", "-c", str(config),
               "--admin", "127.0.0.1:0", *QUIET, *options]  # fmt: skip
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert process.stdout is not None
    events = Events(process.stdout)
    try:
        events.until("serve.admin_listening", timeout=60)
        url = events.seen[-1]["url"]
        events.until("scheduler.cycle_finished", timeout=60)
        yield Service(process, events, url, config)
        process.send_signal(signal.SIGTERM)
        events.until("serve.stopped", timeout=60)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(60)
        process.stdout.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    config = write_workspace(tmp_path_factory.mktemp("serve-admin"))
    with serving(config, env={TOKEN_ENV: TOKEN}) as running:
        yield running


@pytest.fixture
def api(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, headers=AUTH, timeout=30) as client:
        yield client


def history(config: Path) -> list[dict[str, Any]]:
    code, output = invoke("history", "-c", str(config), "--json", "--limit", "1000")
    assert code == 0, output
    runs: list[dict[str, Any]] = json.loads(output)
    return runs


def test_health_and_readiness_after_the_first_cycle(service: Service) -> None:
    assert httpx.get(f"{service.url}/healthz").json() == {"alive": True}
    ready = httpx.get(f"{service.url}/readyz")  # probes need no token
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {
        "connector:ad": "ok", "connector:cloud": "ok", "store": "ok", "last_cycle": "ok",
    }}  # fmt: skip


def test_status_is_what_status_json_says_with_the_last_cycle(
    service: Service, api: httpx.Client
) -> None:
    served = api.get("/api/status").json()
    code, output = invoke("status", "-c", str(service.config), "--json")
    assert code == 0, output
    assert {k: v for k, v in served.items() if k not in ("last_cycle", "ready")} == json.loads(
        output
    )
    assert [row["connector"] for row in served["connectors"]] == ["ad", "cloud"]
    assert served["staging_mode"] is False
    assert served["thresholds"]["deletion_threshold"] > 0
    assert served["last_cycle"]["status"] == "success"
    assert served["ready"]["ready"] is True


def test_sync_on_demand_runs_a_small_cycle_with_the_change(
    service: Service, api: httpx.Client
) -> None:
    ldif = service.config.parent / "ad.ldif"
    text = ldif.read_text("utf-8")
    assert "title: Engineer\n" in text
    ldif.write_text(text.replace("title: Engineer\n", "title: Principal Engineer\n", 1), "utf-8")
    answer = api.post("/api/sync", json={"connector": "ad"})
    assert answer.status_code == 202
    assert answer.json() == {"connector": "ad", "accepted": True}
    service.events.until("serve.sync_requested", connector="ad")
    service.events.until("scheduler.cycle_finished", cycle="delta", status="success")
    cycle = service.logged("scheduler.run")[-3:]  # import and sync of ad, then the export
    assert [(r["connector"], r["profile"]) for r in cycle] == [
        ("ad", "delta-import"), ("ad", "delta-sync"), ("cloud", "export"),
    ]  # fmt: skip
    assert cycle[0]["counts"] == {"read": 1, "updated": 1}
    assert cycle[2]["counts"].get("update", 0) >= 1
    families = text_string_to_metric_families(api.get("/metrics").text)
    latency = {s.name: s.value for f in families for s in f.samples if not s.labels}
    assert latency["hybridsync_wake_to_export_seconds_count"] >= 1  # the wake was timed
    assert 0 < latency["hybridsync_wake_to_export_seconds_sum"] < 60


def test_sync_on_demand_refuses_what_it_cannot_do(api: httpx.Client) -> None:
    assert api.post("/api/sync", json={"connector": "nobody"}).status_code == 404
    assert api.post("/api/sync", content=b"ad").status_code == 400
    assert api.get("/api/sync").status_code == 405


def test_runs_and_their_errors_are_the_history(service: Service, api: httpx.Client) -> None:
    stored = history(service.config)
    served = api.get("/api/runs", params={"limit": 1000}).json()
    assert [r["run_id"] for r in served] == [r["run_id"] for r in stored]
    assert served[0] == {k: v for k, v in stored[0].items() if k != "errors"}
    assert [r["run_id"] for r in api.get("/api/runs", params={"limit": 2}).json()] == [
        r["run_id"] for r in stored[:2]
    ]
    one = api.get(f"/api/runs/{stored[0]['run_id']}/errors").json()
    assert one["run_id"] == stored[0]["run_id"]
    assert one["errors"] == []
    assert api.get("/api/runs/not-a-run/errors").status_code == 404
    assert api.get("/api/runs", params={"limit": 0}).status_code == 400


def test_metrics_parse_and_their_run_counters_equal_the_history(
    service: Service, api: httpx.Client
) -> None:
    text = api.get("/metrics").text
    counted: collections.Counter[tuple[str, str, str]] = collections.Counter()
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            if sample.name == "hybridsync_runs_total":
                labels = sample.labels
                key = (labels["connector"], labels["profile"], labels["status"])
                counted[key] += int(sample.value)
    stored = collections.Counter((r["connector"], r["profile"], r["status"])
                                 for r in history(service.config))  # fmt: skip
    assert counted == stored
    assert {
        "hybridsync_runs", "hybridsync_run_duration_seconds", "hybridsync_run_objects",
        "hybridsync_object_errors", "hybridsync_pending_exports", "hybridsync_pending_imports",
        "hybridsync_last_successful_cycle_age_seconds", "hybridsync_retry_wait_seconds",
        "hybridsync_phs_users_synced", "hybridsync_phs_users_failed",
        "hybridsync_wake_to_export_seconds",
    } <= names  # fmt: skip


@pytest.mark.parametrize("path", ["/api/status", "/api/runs", "/metrics", "/api/sync"])
def test_without_the_token_or_with_another_the_answer_is_401(service: Service, path: str) -> None:
    method = "POST" if path == "/api/sync" else "GET"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
                    {"Authorization": f"Basic {TOKEN}"}):  # fmt: skip
        answer = httpx.request(
            method, service.url + path, headers=headers, json={"connector": "ad"}
        )
        assert answer.status_code == 401, headers
        assert TOKEN not in answer.text
    assert all(TOKEN not in json.dumps(event) for event in service.events.caught_up())


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


@pytest.mark.usefixtures("no_token")
def test_an_address_off_loopback_without_tls_and_token_is_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = issue_server_certificate(workspace.parent / "tls", "localhost", "127.0.0.1")
    tls_options = ["--admin-cert", str(tls.cert_file), "--admin-key", str(tls.key_file)]
    for options in ([], tls_options):
        code, output = invoke("serve", "-c", str(workspace), "--admin", "0.0.0.0:0", *options)
        assert code == exit_codes.CONFIG_ERROR, output
        assert "needs TLS (--admin-cert and --admin-key) and a bearer token" in output
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    code, output = invoke("serve", "-c", str(workspace), "--admin", "0.0.0.0:0")
    assert code == exit_codes.CONFIG_ERROR, output
    assert not (workspace.parent / "state.db").exists()  # refused before anything ran


def test_a_busy_admin_port_is_a_configuration_error(workspace: Path, service: Service) -> None:
    address = service.url.removeprefix("http://")
    code, output = invoke("serve", "-c", str(workspace), "--admin", address, *QUIET)
    assert code == exit_codes.CONFIG_ERROR, output
    assert f"cannot listen on {address}" in output


def test_tls_and_a_token_file(tmp_path: Path) -> None:
    config = write_workspace(tmp_path)
    tls = issue_server_certificate(tmp_path / "tls", "localhost", "127.0.0.1")
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n", "utf-8")
    options = ["--admin-cert", str(tls.cert_file), "--admin-key", str(tls.key_file),
               "--admin-token-file", str(token_file)]  # fmt: skip
    with serving(config, *options) as running:
        assert running.url.startswith("https://127.0.0.1:")
        with httpx.Client(
            base_url=running.url, verify=ssl.create_default_context(cafile=tls.ca_file), timeout=30
        ) as client:
            assert client.get("/api/status").status_code == 401
            assert client.get("/api/status", headers=AUTH).json()["staging_mode"] is False
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
            httpx.get(running.url.replace("https://", "http://") + "/healthz")


def test_unreachable_servers_make_it_unready_and_failed_phs_runs_are_counted(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hybridsync.toml"
    config.write_text(
        'store = "state.db"\n'
        + UNREACHABLE_CONNECTORS.format(target="hybridsync")
        + PHS_SECTION.format(source="ad"),
        encoding="utf-8",
    )
    secrets = {"TEST_AD_PASSWORD": "ad-password", "TEST_PHS_PASSWORD": "phs-password"}
    with serving(config, env=secrets) as running:
        answer = httpx.get(f"{running.url}/readyz")
        assert answer.status_code == 503
        checks = answer.json()["checks"]
        assert checks["connector:ad"].startswith("full-import stopped-unreachable: ")
        assert checks["last_cycle"] == "ad full-import stopped-unreachable"
        assert httpx.get(f"{running.url}/healthz").status_code == 200
        running.events.until("phs.run.failed")
        families = text_string_to_metric_families(httpx.get(f"{running.url}/metrics").text)
        samples = {(s.name, tuple(s.labels.items())): s.value for f in families for s in f.samples}
        assert samples[("hybridsync_phs_runs_total", (("status", "failed"),))] >= 1
        assert samples[("hybridsync_last_successful_cycle_timestamp_seconds", ())] == 0
