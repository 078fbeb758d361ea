"""``hybridsync serve``'s /readyz on Samba: unready while the DC is down, ready again after."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import ldap
import pytest
from tests.support.cloud_server import graph_connector_toml, serve_cloud
from tests.support.daemon import Events
from tests.support.samba import SambaDC, ad_connector_toml

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
COMPLETE_CYCLE = "5s"
"""Each complete cycle imports AD: the one after the DC stops finds it unreachable."""


@pytest.fixture(scope="module")
def config(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("serve-readyz")
    with serve_cloud(root / "cloud") as server:
        tenant = server.new_tenant("contoso.com")
        with contextlib.suppress(ldap.ALREADY_EXISTS):
            samba_dc.add_ou("Readyz")
        path = root / "hybridsync.toml"
        path.write_text(
            'store = "state.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
            + ad_connector_toml(samba_dc, PASSWORD_ENV, [samba_dc.ou("Readyz")])
            + graph_connector_toml(server, tenant, root),
            encoding="utf-8",
        )
        yield path


def readyz(url: str) -> httpx.Response:
    return httpx.get(f"{url}/readyz", timeout=10)


def wait_for_status(
    url: str, status: int, timeout: float = 120.0, events: Events | None = None
) -> httpx.Response:
    """The first /readyz answer with ``status`` (probed as a load balancer would)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = readyz(url)
        if answer.status_code == status:
            return answer
        time.sleep(0.2)  # a probe interval, not a timing assumption
    seen = events.caught_up()[-20:] if events is not None else []
    pytest.fail(f"/readyz never answered {status} within {timeout} s: {answer.text}\n{seen}")


def test_readyz_is_503_while_the_dc_is_down_and_200_once_it_is_back(
    samba_dc: SambaDC, config: Path
) -> None:
    env = {**os.environ, PASSWORD_ENV: samba_dc.admin_password, "PYTHONUNBUFFERED": "1"}
    command = [HYBRIDSYNC, "--log-format", "json", "serve", "-c", str(config),
               "--cycle", COMPLETE_CYCLE, "--admin", "127.0.0.1:0"]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    events = Events(process.stdout)
    try:
        events.until("serve.admin_listening", timeout=60)
        url = events.seen[-1]["url"]
        events.until("scheduler.cycle_finished", timeout=120)
        assert wait_for_status(url, 200).json()["ready"] is True
        samba_dc.stop()
        try:
            down = wait_for_status(url, 503).json()
            assert down["ready"] is False
            # A lost connection (connectivity) or a refused one (unreachable): either says why.
            assert re.match(
                r"\w+-import stopped-(connectivity|unreachable): ", down["checks"]["connector:ad"]
            )
            assert down["checks"]["connector:cloud"] == "ok"
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200  # alive
        finally:
            samba_dc.start()
        back = wait_for_status(url, 200, events=events).json()
        assert set(back["checks"].values()) == {"ok"}
        process.send_signal(signal.SIGTERM)
        events.until("serve.stopped", timeout=60)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(60)
        process.stdout.close()
