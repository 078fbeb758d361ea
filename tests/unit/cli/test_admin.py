"""The service's metrics, readiness and admin settings, fed with reports; the admin
server's guard and input checks before any service is attached."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hybridsync.cli.admin.metrics import ServiceMetrics
from hybridsync.cli.admin.readiness import readiness
from hybridsync.cli.admin.server import AdminServer
from hybridsync.cli.admin.settings import (
    TOKEN_ENV,
    AdminConfigError,
    AdminSettings,
    admin_settings,
)
from hybridsync.cli.admin.state import AdminState
from hybridsync.core.objects import ObjectError
from hybridsync.core.ports import RetryWait
from hybridsync.engine.control import RunProgress
from hybridsync.engine.password_hash_sync import PasswordSyncReport
from hybridsync.engine.report import CycleReport, Profile, RunReport, Status
from hybridsync.errors import UnreachableError

TOKEN = "s3cret-token-of-32-characters-xx"


def run(
    connector: str,
    profile: Profile,
    status: Status = Status.SUCCESS,
    counts: dict[str, int] | None = None,
    errors: int = 0,
) -> RunReport:
    report = RunReport(connector, profile, status=status, counts=counts or {}, seconds=0.2)
    report.errors = [ObjectError(connector, f"CN=u{i}", "bad value") for i in range(errors)]
    return report


def samples(metrics: ServiceMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, parsed by prometheus-client's own parser."""
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def test_runs_objects_and_errors_are_counted_by_connector_profile_and_status() -> None:
    metrics = ServiceMetrics()
    first = CycleReport("delta", [
        run("ad", Profile.DELTA_IMPORT, counts={"read": 3, "updated": 3}),
        run("ad", Profile.DELTA_SYNC, Status.COMPLETED_ERRORS, {"updated": 2}, errors=1),
        run("cloud", Profile.EXPORT, counts={"update": 2}),
    ])  # fmt: skip
    second = CycleReport("delta", [run("ad", Profile.DELTA_IMPORT, counts={"read": 1})])
    metrics.observe_cycle(first)
    metrics.observe_cycle(second)
    assert value(metrics, "hybridsync_runs_total", connector="ad", profile="delta-import",
                 status="success") == 2  # fmt: skip
    assert value(metrics, "hybridsync_runs_total", connector="ad", profile="delta-sync",
                 status="completed-sync-errors") == 1  # fmt: skip
    assert value(metrics, "hybridsync_run_objects_total", connector="ad", profile="delta-import",
                 outcome="read") == 4  # fmt: skip
    assert value(metrics, "hybridsync_object_errors_total", connector="ad",
                 profile="delta-sync") == 1  # fmt: skip
    assert value(metrics, "hybridsync_run_duration_seconds_count", connector="cloud",
                 profile="export") == 1  # fmt: skip
    assert value(metrics, "hybridsync_cycles_total", kind="delta",
                 status="completed-sync-errors") == 1  # fmt: skip


def test_the_age_of_the_last_successful_cycle_ignores_stopped_cycles() -> None:
    now = [1000.0]
    metrics = ServiceMetrics(clock=lambda: now[0])
    now[0] = 1030.0
    assert value(metrics, "hybridsync_last_successful_cycle_age_seconds") == 30  # since start
    assert value(metrics, "hybridsync_last_successful_cycle_timestamp_seconds") == 0
    metrics.observe_cycle(CycleReport("delta", [run("ad", Profile.DELTA_IMPORT)]))
    now[0] = 1100.0
    stopped = run("cloud", Profile.EXPORT, Status.STOPPED_DELETION_THRESHOLD)
    metrics.observe_cycle(CycleReport("delta", [stopped]))
    assert value(metrics, "hybridsync_last_successful_cycle_age_seconds") == 70
    assert value(metrics, "hybridsync_last_successful_cycle_timestamp_seconds") == 1030
    assert value(metrics, "hybridsync_runs_total", connector="cloud", profile="export",
                 status="stopped-deletion-threshold-exceeded") == 1  # fmt: skip


def test_wake_to_export_is_observed_only_when_the_cycle_exported_something() -> None:
    metrics = ServiceMetrics()
    woken = time.monotonic() - 0.3
    nothing = CycleReport("delta", [run("cloud", Profile.EXPORT, counts={})])
    metrics.observe_cycle(nothing, woken)
    metrics.observe_cycle(CycleReport("delta", [run("cloud", Profile.EXPORT)]), None)
    assert value(metrics, "hybridsync_wake_to_export_seconds_count") == 0
    exported = CycleReport("delta", [run("cloud", Profile.EXPORT, counts={"update": 1})])
    metrics.observe_cycle(exported, woken)
    assert value(metrics, "hybridsync_wake_to_export_seconds_count") == 1
    assert 0.3 <= value(metrics, "hybridsync_wake_to_export_seconds_sum") < 30
    assert value(metrics, "hybridsync_wake_to_export_seconds_bucket", le="0.25") == 0


def test_each_retry_wait_is_counted_once_however_often_progress_repeats_it() -> None:
    metrics = ServiceMetrics()
    throttled = RetryWait("POST /v1.0/$batch: 429", 1, 5, 2.5)
    busy = RetryWait("POST /v1.0/$batch: 503", 2, 5, 1.0)
    for wait in (throttled, throttled, busy, throttled):
        metrics.progress(RunProgress("r1", "cloud", "export", 10, 100, waiting=wait))
    metrics.progress(RunProgress("r1", "cloud", "export", 100, 100, finished=True))
    assert value(metrics, "hybridsync_retry_wait_seconds_total", connector="cloud") == 3.5


def test_phs_users_synced_and_failed_and_failed_runs() -> None:
    metrics = ServiceMetrics()
    report = PasswordSyncReport("ad", Status.COMPLETED_PASSWORD_ERRORS, synced=4,
                                errors=[("a1", "unreadable"), ("a2", "rejected")])  # fmt: skip
    metrics.phs_reported(report)
    metrics.phs_failed(UnreachableError("ldaps://dc1: connection refused"))
    assert value(metrics, "hybridsync_phs_users_synced_total") == 4
    assert value(metrics, "hybridsync_phs_users_failed_total") == 2
    assert value(metrics, "hybridsync_phs_runs_total", status="completed-errors") == 1
    assert value(metrics, "hybridsync_phs_runs_total", status="failed") == 1


def test_pending_counts_are_read_at_scrape_time() -> None:
    pending = {"cloud": (1, 7)}
    metrics = ServiceMetrics(pending=lambda: pending)
    assert value(metrics, "hybridsync_pending_exports", connector="cloud") == 7
    pending["cloud"] = (0, 2)
    assert value(metrics, "hybridsync_pending_exports", connector="cloud") == 2
    assert value(metrics, "hybridsync_pending_imports", connector="cloud") == 0


def test_readiness_names_the_connector_that_is_not_connected() -> None:
    connectors = ("ad", "cloud")
    assert readiness(connectors, {}, None).checks == {
        "connector:ad": "no run yet", "connector:cloud": "no run yet",
        "store": "ok", "last_cycle": "no cycle has ended yet",
    }  # fmt: skip
    good = CycleReport("delta", [run("ad", Profile.DELTA_IMPORT), run("cloud", Profile.EXPORT)])
    last = {r.connector: r for r in good.runs}
    assert readiness(connectors, last, good).ready
    down = run("ad", Profile.DELTA_IMPORT, Status.STOPPED_UNREACHABLE)
    down.message = "ldaps://dc1:636: connection refused"
    failed = CycleReport("delta", [down])
    verdict = readiness(connectors, {**last, "ad": down}, failed)
    assert not verdict.ready
    assert verdict.checks["connector:ad"] == (
        "delta-import stopped-unreachable: ldaps://dc1:636: connection refused"
    )
    assert verdict.checks["connector:cloud"] == "ok"
    assert verdict.checks["last_cycle"] == "ad delta-import stopped-unreachable"


def test_readiness_store_failure_and_staging_mode() -> None:
    store = CycleReport("delta", [run("ad", Profile.DELTA_SYNC, Status.STOPPED_STORE)])
    verdict = readiness(("ad",), {"ad": store.runs[0]}, store)
    assert verdict.checks["store"] == "ad delta-sync stopped-store-error"
    assert not verdict.ready
    staging = CycleReport("delta", [run("ad", Profile.EXPORT, Status.STOPPED_STAGING)])
    assert readiness(("ad",), {"ad": staging.runs[0]}, staging).ready  # by configuration


@pytest.fixture
def no_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


@pytest.mark.usefixtures("no_token_env")
def test_loopback_needs_nothing_and_off_disables() -> None:
    assert admin_settings("off") is None
    settings = admin_settings("127.0.0.1:0")
    assert settings is not None
    assert settings.token is None
    assert settings.url == "http://127.0.0.1:0"
    settings = admin_settings("[::1]:8765")
    assert settings is not None
    assert settings.url == "http://[::1]:8765"


@pytest.mark.usefixtures("no_token_env")
@pytest.mark.parametrize("address", ["0.0.0.0:8765", "10.1.2.3:8765", "admin.contoso.com:443"])
def test_any_other_address_needs_tls_and_a_token(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x"), key.write_text("x")
    with pytest.raises(AdminConfigError, match=r"needs TLS .* and a bearer token"):
        admin_settings(address)
    with pytest.raises(AdminConfigError, match="needs TLS"):
        admin_settings(address, cert, key)  # TLS, no token
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with pytest.raises(AdminConfigError, match="needs TLS"):
        admin_settings(address)  # a token, no TLS
    settings = admin_settings(address, cert, key)
    assert settings is not None
    assert settings.url.startswith("https://")
    assert TOKEN not in repr(settings)


@pytest.mark.usefixtures("no_token_env")
def test_bad_admin_options_name_the_option(tmp_path: Path) -> None:
    for address in ("8765", "localhost", "127.0.0.1:99999", ":8765"):
        with pytest.raises(AdminConfigError, match="not HOST:PORT"):
            admin_settings(address)
    with pytest.raises(AdminConfigError, match="--admin-cert and --admin-key go together"):
        admin_settings("127.0.0.1:0", tmp_path / "cert.pem")
    with pytest.raises(AdminConfigError, match=r"--admin-cert .*cert\.pem: no such file"):
        admin_settings("127.0.0.1:0", tmp_path / "cert.pem", tmp_path / "key.pem")
    with pytest.raises(AdminConfigError, match=r"--admin-token-file .*token: No such file"):
        admin_settings("127.0.0.1:0", token_file=tmp_path / "token")
    (tmp_path / "token").write_text("short\n")
    with pytest.raises(AdminConfigError, match="at least 16 characters"):
        admin_settings("127.0.0.1:0", token_file=tmp_path / "token")
    (tmp_path / "token").write_text(TOKEN + "\n")
    settings = admin_settings("127.0.0.1:0", token_file=tmp_path / "token")
    assert settings is not None
    assert settings.token == TOKEN


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """The admin server on a free loopback port, before any service is attached."""
    server = AdminServer(AdminSettings("127.0.0.1", 0, token=TOKEN), AdminState())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client
    finally:
        server.stop()


def test_the_api_answers_only_with_the_token_and_never_fails_with_500(
    client: httpx.Client,
) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503  # no cycle yet
    for method, path in (("GET", "/api/status"), ("GET", "/api/runs"), ("GET", "/metrics"),
                         ("GET", "/api/runs/x/errors"), ("POST", "/api/sync")):  # fmt: skip
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Basic {TOKEN}"}):  # fmt: skip
            answer = client.request(method, path, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"] == "Bearer"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", headers=auth).status_code == 200
    answer = client.get("/api/status", headers=auth)  # no configuration attached yet
    assert answer.status_code == 503
    assert "not loaded" in answer.json()["error"]
    assert client.get("/api/runs?limit=0", headers=auth).status_code == 400
    assert client.get("/api/runs?limit=x", headers=auth).status_code == 400
    for body in (b"", b"{", b"[]", b'{"connector": 5}'):
        assert client.post("/api/sync", content=body, headers=auth).status_code == 400
    answer = client.post("/api/sync", json={"connector": "nobody"}, headers=auth)
    assert answer.status_code == 404
