"""``hybridsync serve`` as a real process for the tests: started on a configuration
between a Samba AD DC and the served cloud directory, its JSON log read as events."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import ldap
import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml
from tests.support.daemon import Events
from tests.support.samba import SambaDC, ad_connector_toml

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
        self.admin_url = ""
        """The admin address's URL, once it listens."""

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
def serving(dc: SambaDC, config: Path, options: Sequence[str] = ()) -> Iterator[Service]:
    """``hybridsync serve`` on ``config`` (with ``options`` added), once its first cycle ran
    and AD is listened to; stopped with SIGTERM at the end (it must exit 0), unless the
    test stopped it. With ``--console HOST:PORT`` it also waits for the console to listen."""
    env = {**os.environ, PASSWORD_ENV: dc.admin_password, "PYTHONUNBUFFERED": "1"}
    command = [HYBRIDSYNC, "--log-format", "json", "serve",
               "-c", str(config), "--cycle", NEVER, "--poll", NEVER,
               "--admin", "127.0.0.1:0", *options]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    running = Service(process)
    try:
        running.events.until("serve.admin_listening", timeout=60)
        running.admin_url = running.events.seen[-1]["url"]
        if "--console" in options:
            running.events.until("serve.console_listening", timeout=60)
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
