"""``hybridsync serve`` as a real process between the Samba AD DC and the served cloud
directory: changes reach the cloud without any command, announced by the DC."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ldap
import pytest
from tests.support.cloud_server import (
    CloudServer,
    CloudTenant,
    graph_connector_toml,
    serve_cloud,
)
from tests.support.daemon import Events
from tests.support.samba import SambaDC, ad_connector_toml

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
NEVER = "10m"
"""The poll and complete-cycle interval, longer than any test here: a change that reaches
the cloud was carried by a small cycle that the DC's announcement started."""


class Service:
    """The running ``hybridsync serve`` process and its JSON log."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        assert process.stdout is not None
        self.events = Events(process.stdout)

    def cycles(self) -> list[dict[str, Any]]:
        seen = self.events.caught_up()
        return [e for e in seen if e.get("event") == "scheduler.cycle_finished"]

    def runs(self) -> list[dict[str, Any]]:
        return [e for e in self.events.caught_up() if e.get("event") == "scheduler.run"]

    def stop(self) -> None:
        """SIGTERM: the service finishes its batch and exits 0."""
        self.process.send_signal(signal.SIGTERM)
        self.events.until("serve.stopped", timeout=60)
        assert self.process.wait(60) == 0


def write_config(
    dc: SambaDC, root: Path, server: CloudServer, ou_name: str
) -> tuple[CloudTenant, Path]:
    """A tenant of its own, and the configuration syncing the OU ``ou_name`` into it."""
    tenant = server.new_tenant("contoso.com")
    with contextlib.suppress(ldap.ALREADY_EXISTS):
        dc.add_ou(ou_name)
    config = root / "hybridsync.toml"
    config.write_text(
        'store = "state.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        + ad_connector_toml(dc, PASSWORD_ENV, [dc.ou(ou_name)])
        + graph_connector_toml(server, tenant, root),
        encoding="utf-8",
    )
    return tenant, config


@contextlib.contextmanager
def serving(dc: SambaDC, config: Path) -> Iterator[Service]:
    """``hybridsync serve`` on ``config``, once its first cycle ran and AD is listened to;
    stopped with SIGTERM at the end (it must exit 0), unless the test stopped it."""
    env = {**os.environ, PASSWORD_ENV: dc.admin_password, "PYTHONUNBUFFERED": "1"}
    command = [HYBRIDSYNC, "--log-format", "json", "serve",
               "-c", str(config), "--cycle", NEVER, "--poll", NEVER,
               "--admin", "127.0.0.1:0"]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    running = Service(process)
    try:
        running.events.until("scheduler.cycle_finished", timeout=120)
        running.events.until("service.listening", timeout=60, connector="ad")
        yield running
        if process.poll() is None:
            running.stop()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(60)
        assert process.stdout is not None
        process.stdout.close()


@pytest.fixture(scope="module")
def tenant_and_config(
    samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CloudTenant, Path]]:
    root = tmp_path_factory.mktemp("serve-samba")
    with serve_cloud(root / "cloud") as server:
        yield write_config(samba_dc, root, server, "Serve")


@pytest.fixture(scope="module")
def service(samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path]) -> Iterator[Service]:
    with serving(samba_dc, tenant_and_config[1]) as running:
        yield running


def cloud_titles(tenant: CloudTenant) -> dict[str, str | None]:
    return tenant.property_by_upn("jobTitle")


def wait_for(
    check: Callable[[], bool], what: str, timeout: float = 60.0, service: Service | None = None
) -> float:
    """Seconds until ``check`` holds (read through Graph, as a user would see it)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)  # a read-back interval, not a timing assumption
    logged = "" if service is None else f"; the service logged: {service.events.caught_up()}"
    pytest.fail(f"{what}: not seen in the cloud within {timeout} s{logged}")


def new_user(dc: SambaDC, ou_name: str = "Serve") -> tuple[str, str]:
    sam = f"srv{uuid.uuid4().hex[:8]}"
    upn = f"{sam}@contoso.com"
    dn = dc.add_user(sam, upn=upn, ou_dn=dc.ou(ou_name))
    return dn, upn


def test_an_ad_change_reaches_the_cloud_without_a_command(
    samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path], service: Service
) -> None:
    tenant, _ = tenant_and_config
    dn, upn = new_user(samba_dc)
    wait_for(lambda: upn in cloud_titles(tenant), f"the new user {upn}")
    samba_dc.modify(dn, {"title": "Announced"})
    wait_for(lambda: cloud_titles(tenant).get(upn) == "Announced", f"{upn}'s new title")
    # The small cycles read AD's delta and the cloud's (which confirms the last export).
    small = service.runs()[5:]
    assert {(r["connector"], r["profile"]) for r in small if "import" in r["profile"]} == {
        ("ad", "delta-import"),
        ("cloud", "delta-import"),
    }


def test_a_burst_of_changes_is_a_handful_of_cycles(
    samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path], service: Service
) -> None:
    tenant, _ = tenant_and_config
    users = [new_user(samba_dc) for _ in range(20)]
    upns = {upn for _, upn in users}
    wait_for(lambda: upns <= set(cloud_titles(tenant)), "the burst's new users")
    before = len(service.cycles())
    started = time.monotonic()
    # Sent without waiting for each answer, as a bulk change in AD would arrive: the DC
    # writes them back to back however loaded the machine is.
    sent = [
        samba_dc.admin.modify_ext(dn, [(ldap.MOD_REPLACE, "title", [f"Burst {n}".encode()])])
        for n, (dn, _) in enumerate(users * 10)
    ]
    for msgid in sent:
        samba_dc.admin.result(msgid)
    burst_seconds = time.monotonic() - started
    final = {upn: f"Burst {180 + i}" for i, (_, upn) in enumerate(users)}
    wait_for(
        lambda: all(cloud_titles(tenant).get(u) == t for u, t in final.items()),
        "the last title of every user of the burst",
    )
    # While announcements keep coming, a cycle waits for the burst up to a second: at
    # most one cycle per second of the burst, and a few for its tail, for 200 changes.
    cycles = len(service.cycles()) - before
    assert cycles <= burst_seconds + 4, (cycles, burst_seconds, service.cycles()[before:])
    assert cycles <= 40, cycles  # at least five changes per cycle, whatever the load


def test_a_dc_restart_loses_no_change(
    samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path], service: Service
) -> None:
    tenant, _ = tenant_and_config
    dn, upn = new_user(samba_dc)
    wait_for(lambda: upn in cloud_titles(tenant), f"the new user {upn}")
    samba_dc.stop()
    try:
        service.events.until("service.notifications_lost", timeout=60, connector="ad")
    finally:
        samba_dc.start()
    # Changed at once, before the service is listening again: its first look after
    # reconnecting finds the change.
    samba_dc.modify(dn, {"title": "After the restart"})
    wait_for(
        lambda: cloud_titles(tenant).get(upn) == "After the restart",
        f"{upn}'s title changed right after the DC came back",
        service=service,
    )


def test_sigterm_in_a_burst_leaves_a_store_the_restarted_service_completes(
    samba_dc: SambaDC, tmp_path: Path
) -> None:
    with serve_cloud(tmp_path / "cloud") as server:
        tenant, config = write_config(samba_dc, tmp_path, server, "ServeStop")
        users = [new_user(samba_dc, "ServeStop") for _ in range(10)]
        upns = {upn for _, upn in users}
        with serving(samba_dc, config) as first:
            wait_for(lambda: upns <= set(cloud_titles(tenant)), "the users", service=first)
            for number, (dn, _) in enumerate(users * 5):
                samba_dc.modify(dn, {"title": f"Stopped {number}"})
            first.stop()  # while the burst's cycles run, or before they all did
        final = {upn: f"Stopped {40 + i}" for i, (_, upn) in enumerate(users)}
        with serving(samba_dc, config) as second:
            wait_for(
                lambda: all(cloud_titles(tenant).get(u) == t for u, t in final.items()),
                "every last title, after the restart",
                service=second,
            )
