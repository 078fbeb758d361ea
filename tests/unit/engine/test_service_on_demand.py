"""Sync on demand inside the running service: ``SyncService.call`` runs the work in the
service's thread under its lock, and the admin address's ``POST /api/sync-object``
answers the step report (a real admin server on loopback; the service in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.tls import issue_server_certificate
from tests.unit.engine.test_service import WAIT, Running, running
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.cli.admin import state as state_module
from hybridsync.cli.admin.problems import Problem, problem_of
from hybridsync.cli.admin.server import AdminServer
from hybridsync.cli.admin.settings import TOKEN_ENV, AdminSettings
from hybridsync.cli.admin.state import AdminState, NotRunning, UnknownConnector
from hybridsync.cli.runlock import SyncInProgress
from hybridsync.engine.service import ServiceBusy, ServiceStopped
from hybridsync.errors import (
    AmbiguousKeyError,
    FatalConnectorError,
    HybridsyncError,
    NotFoundError,
    UnreachableError,
)

TOKEN = "on-demand-token-of-32-characters"


def test_work_runs_in_the_services_thread_under_its_lock(world: Any) -> None:
    world.set_users(world.user("ann", title="Engineer"))
    built = world.engine()
    held = threading.Event()

    @contextmanager
    def guard() -> Iterator[None]:
        held.set()
        try:
            yield
        finally:
            held.clear()

    with running(built) as service:
        service.service._guard = guard  # the lock serve passes: recorded
        world.put(world.user("ann", title="Architect"))

        def work() -> tuple[str, bool, dict[str, Any]]:
            report = built.engine.sync_object("ad", "ann@contoso.com")
            return threading.current_thread().name, held.is_set(), report

        thread, locked, report = service.service.call(work, WAIT)  # type: ignore[misc]

    assert thread == service.thread.name
    assert locked
    assert report["status"] == "synced"
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Architect"


def test_an_error_of_the_work_reaches_the_caller_and_a_stopped_service_refuses(
    world: Any,
) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    with running(built) as service:

        def fails() -> None:
            built.engine.sync_object("ad", "nobody@contoso.com")

        with pytest.raises(Exception, match="no object with the DN, UPN or anchor"):
            service.service.call(fails, WAIT)
    with pytest.raises(ServiceStopped):
        service.service.call(lambda: None, WAIT)


@pytest.fixture
def live(world: Any) -> Iterator[tuple[Any, Running]]:
    """The world's service in a thread (a delete is over its deletion threshold)."""
    world.set_users(world.user("ann", title="Engineer"), world.user("bob", title="Clerk"))
    built = world.engine(safety={"deletion_threshold": 0})
    with running(built) as service:
        yield built, service


@pytest.fixture
def served(world: Any, live: tuple[Any, Running]) -> Iterator[tuple[Any, Any, str]]:
    """The service's admin address on a free loopback port, with a token."""
    built, service = live
    state = AdminState()
    state.attach(service.service, built)
    server = AdminServer(AdminSettings("127.0.0.1", 0, token=TOKEN), state)
    server.start()
    try:
        yield world, built, server.url
    finally:
        server.stop()


def post(url: str, body: Any, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/api/sync-object", json=body, headers=headers, timeout=WAIT)


def test_the_admin_api_syncs_one_object_and_answers_the_step_report(
    served: tuple[Any, Any, str],
) -> None:
    world, built, url = served
    world.put(world.user("ann", title="Architect"))
    world.put(world.user("bob", title="Manager"))

    answer = post(url, {"key": "ann@contoso.com"})

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "synced"
    [export] = report["export"]
    assert export["attributes"] == {"jobTitle": ["Architect"]}
    assert (export["outcome"], export["confirmed"]) == ("ok", True)
    users = world.by_upn(built)
    assert (users["ann@contoso.com"]["jobTitle"], users["bob@contoso.com"]["jobTitle"]) == (
        "Architect",
        "Clerk",
    )


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"key": "nobody@contoso.com"}, 404, "not-found"),
        ({"key": "*)(objectClass=*"}, 404, "not-found"),
        ({"key": "ann@contoso.com", "connector": "nope"}, 400, "configuration"),
        ({"key": "ann@contoso.com", "allow_deletes": "yes"}, 400, "bad-request"),
        ({"key": ""}, 400, "bad-request"),
        ({"key": "x" * 2000}, 400, "bad-request"),
        ({"key": 42}, 400, "bad-request"),
        (["ann@contoso.com"], 400, "bad-request"),
    ],
)
def test_bad_keys_get_a_clear_answer_and_no_5xx(
    served: tuple[Any, Any, str], body: Any, status: int, kind: str
) -> None:
    _, _, url = served
    answer = post(url, body)
    assert (answer.status_code, answer.json()["kind"]) == (status, kind), answer.text
    assert answer.json()["error"]


def test_the_admin_api_wants_the_token_and_json(served: tuple[Any, Any, str]) -> None:
    _, built, url = served
    runs = len(built.store.runs(100))
    assert post(url, {"key": "ann@contoso.com"}, token=None).status_code == 401
    assert post(url, {"key": "ann@contoso.com"}, token="x" * 32).status_code == 401
    form = httpx.post(f"{url}/api/sync-object", content=b"key=ann",
                      headers={"Authorization": f"Bearer {TOKEN}",
                               "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert form.status_code == 415
    assert len(built.store.runs(100)) == runs  # none of them ran anything


def test_the_command_uses_the_running_service(
    served: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, built, url = served
    world.put(world.user("bob", title="Manager"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)

    result = CliRunner().invoke(app, ["sync", "bob@contoso.com", "--admin", url])

    assert result.exit_code == 0, result.output
    assert "jobTitle: Clerk -> Manager" in result.output
    assert "answer: ok" in result.output
    assert world.by_upn(built)["bob@contoso.com"]["jobTitle"] == "Manager"
    missing = CliRunner().invoke(app, ["sync", "nobody@contoso.com", "--admin", url, "--json"])
    assert missing.exit_code == 4, missing.output
    monkeypatch.delenv(TOKEN_ENV)
    refused = CliRunner().invoke(app, ["sync", "bob@contoso.com", "--admin", url])
    assert refused.exit_code == 3
    assert "HYBRIDSYNC_SERVE_ADMIN_TOKEN" in refused.output


def test_without_admin_the_command_finds_the_service_but_sends_it_no_token_over_http(
    served: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, built, url = served
    world.put(world.user("ann", title="Found"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("HYBRIDSYNC_SERVE_ADMIN", url.removeprefix("http://"))

    result = CliRunner().invoke(app, ["sync", "ann@contoso.com"])

    # Whatever answers /healthz there could read a token sent over plain http.
    assert result.exit_code == exit_codes.CONFIG_ERROR, result.output
    assert f"name it with --admin {url}" in result.output
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Engineer"


def test_an_explicit_config_syncs_in_this_process_not_in_a_found_service(
    served: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, url = served
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("HYBRIDSYNC_SERVE_ADMIN", url.removeprefix("http://"))

    result = CliRunner().invoke(app, ["sync", "ann@contoso.com", "-c", "no-such.toml"])

    assert result.exit_code == exit_codes.CONFIG_ERROR, result.output  # that file, not the service
    assert "no-such.toml" in result.output


def test_allow_deletes_goes_through_the_service(
    served: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, built, url = served
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    world.put(world.user("ann", adminDescription="User_9"))  # out of scope: a delete

    stopped = CliRunner().invoke(app, ["sync", "ann@contoso.com", "--admin", url])
    assert stopped.exit_code == exit_codes.STOPPED, stopped.output
    assert "deletion threshold" in stopped.output
    assert "ann@contoso.com" in world.by_upn(built)

    allowed = CliRunner().invoke(
        app, ["sync", "ann@contoso.com", "--admin", url, "--allow-deletes"]
    )
    assert allowed.exit_code == exit_codes.SUCCESS, allowed.output
    assert "ann@contoso.com" not in world.by_upn(built)


def test_a_busy_service_is_in_progress_409_and_exit_2(
    served: tuple[Any, Any, str], live: tuple[Any, Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, url = served
    service = live[1].service
    monkeypatch.setattr(state_module, "SYNC_OBJECT_TIMEOUT", 0.01)
    started, release = threading.Event(), threading.Event()

    def holds() -> None:
        started.set()
        release.wait(WAIT)

    holder = threading.Thread(target=service.call, args=(holds, WAIT))
    holder.start()
    try:
        assert started.wait(WAIT)
        answer = post(url, {"key": "ann@contoso.com"})
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        result = CliRunner().invoke(app, ["sync", "ann@contoso.com", "--admin", url])
    finally:
        release.set()
        holder.join(WAIT)
    assert (answer.status_code, answer.json()["kind"]) == (409, "in-progress"), answer.text
    assert result.exit_code == exit_codes.STOPPED, result.output
    assert "busy" in result.output


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["nobody@contoso.com"], exit_codes.NOT_FOUND),
        (["ann@contoso.com", "--connector", "nope"], exit_codes.CONFIG_ERROR),
    ],
)
def test_a_problem_exits_the_same_in_this_process_and_through_the_service(
    served: tuple[Any, Any, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    status: int,
) -> None:
    world, _, url = served
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = tmp_path / "local.toml"
    config.write_text(
        'store = "local.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        f'[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "{world.ldif}"\n'
        '[[connectors]]\ntype = "recording"\nname = "cloud"\npath = "local-cloud.db"\n',
        encoding="utf-8",
    )
    through = CliRunner().invoke(app, ["sync", *args, "--admin", url])
    local = CliRunner().invoke(app, ["sync", *args, "-c", str(config)])
    assert (through.exit_code, local.exit_code) == (status, status), through.output + local.output


def test_the_https_probe_uses_admin_ca_and_a_failed_probe_is_said(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_users(world.user("ann", title="Engineer"))
    built = world.engine()
    tls = issue_server_certificate(tmp_path / "tls", "localhost", "127.0.0.1")
    state = AdminState()
    with running(built) as service:
        state.attach(service.service, built)
        settings = AdminSettings("127.0.0.1", 0, tls.cert_file, tls.key_file, token=TOKEN)
        server = AdminServer(settings, state)
        server.start()
        try:
            world.put(world.user("ann", title="Secure"))
            monkeypatch.setenv(TOKEN_ENV, TOKEN)
            monkeypatch.setenv("HYBRIDSYNC_SERVE_ADMIN", server.url)
            unverified = CliRunner().invoke(app, ["sync", "ann@contoso.com"])
            verified = CliRunner().invoke(
                app, ["sync", "ann@contoso.com", "--admin-ca", str(tls.ca_file)]
            )
        finally:
            server.stop()
    assert unverified.exit_code == exit_codes.UNREACHABLE, unverified.output
    assert f"something listens at {server.url}" in unverified.output
    assert "--admin-ca" in unverified.output
    assert verified.exit_code == exit_codes.SUCCESS, verified.output
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Secure"


@pytest.mark.parametrize(
    ("error", "kind", "http_status", "exit_code"),
    [
        (NotFoundError("no object"), "not-found", 404, exit_codes.NOT_FOUND),
        (AmbiguousKeyError("two objects"), "ambiguous", 400, exit_codes.CONFIG_ERROR),
        (UnknownConnector("nope"), "configuration", 400, exit_codes.CONFIG_ERROR),
        (SyncInProgress("db", "run delta"), "in-progress", 409, exit_codes.STOPPED),
        (ServiceBusy("busy"), "in-progress", 409, exit_codes.STOPPED),
        (FatalConnectorError("failed"), "stopped", 502, exit_codes.STOPPED),
        (UnreachableError("no route"), "unreachable", 503, exit_codes.UNREACHABLE),
        (NotRunning("reloading"), "not-running", 503, exit_codes.UNREACHABLE),
    ],
)
def test_one_table_gives_each_error_its_http_and_exit_status(
    error: HybridsyncError, kind: str, http_status: int, exit_code: int
) -> None:
    assert problem_of(error) == Problem(kind, http_status, exit_code)


def test_the_token_comes_from_admin_token_file(
    served: tuple[Any, Any, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, built, url = served
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    world.put(world.user("bob", title="From a file"))
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n", "utf-8")

    synced = CliRunner().invoke(
        app, ["sync", "bob@contoso.com", "--admin", url, "--admin-token-file", str(token_file)]
    )
    missing = CliRunner().invoke(
        app, ["sync", "bob@contoso.com", "--admin", url, "--admin-token-file", "no-such-file"]
    )

    assert synced.exit_code == exit_codes.SUCCESS, synced.output
    assert world.by_upn(built)["bob@contoso.com"]["jobTitle"] == "From a file"
    assert missing.exit_code == exit_codes.CONFIG_ERROR
    assert "--admin-token-file no-such-file" in missing.output
    world.put(world.user("bob", title="From the file serve reads"))
    monkeypatch.setenv("HYBRIDSYNC_SERVE_ADMIN_TOKEN_FILE", str(token_file))
    by_env = CliRunner().invoke(app, ["sync", "bob@contoso.com", "--admin", url])
    assert by_env.exit_code == exit_codes.SUCCESS, by_env.output
    assert world.by_upn(built)["bob@contoso.com"]["jobTitle"] == "From the file serve reads"
