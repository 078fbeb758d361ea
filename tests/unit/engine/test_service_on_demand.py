"""Sync on demand inside the running service: ``SyncService.call`` runs the work in the
service's thread under its lock, and the admin address's ``POST /api/sync-object``
answers the step report (a real admin server on loopback; the service in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from tests.unit.engine.test_service import WAIT, running
from typer.testing import CliRunner

from hybridsync.cli import app
from hybridsync.cli.admin.server import AdminServer
from hybridsync.cli.admin.settings import TOKEN_ENV, AdminSettings
from hybridsync.cli.admin.state import AdminState
from hybridsync.engine.service import ServiceStopped

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
def served(world: Any) -> Iterator[tuple[Any, Any, str]]:
    """The world's service in a thread, its admin address on a free loopback port."""
    world.set_users(world.user("ann", title="Engineer"), world.user("bob", title="Clerk"))
    built = world.engine()
    state = AdminState()
    with running(built) as service:
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
        ({"key": "ann@contoso.com", "connector": "nope"}, 404, "not-found"),
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


def test_without_admin_the_command_finds_the_service_at_its_address(
    served: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, built, url = served
    world.put(world.user("ann", title="Found"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("HYBRIDSYNC_SERVE_ADMIN", url.removeprefix("http://"))

    # A missing configuration: a sync in this process would stop with status 3.
    result = CliRunner().invoke(app, ["sync", "ann@contoso.com", "-c", "no-such.toml"])

    assert result.exit_code == 0, result.output
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Found"
