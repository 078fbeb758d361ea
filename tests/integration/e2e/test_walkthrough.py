"""docs/walkthrough.md, step by step, against the session's Samba DC (Contoso sample):
``hybridsync cloud init``, ``cloud serve`` (a real process), ``init``, ``init --check``,
``run initial`` and ``run --delta``, each as the user types it."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.samba import SambaDC

pytestmark = pytest.mark.samba
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
MISSING_UPN = "UserPrincipalName is not present to determine UserType"


def hybridsync(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYBRIDSYNC, *args], cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})}, timeout=300,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    """Steps 1 and 2: the tenant, then ``cloud serve`` until the test ends."""
    init = hybridsync(
        tmp_path, "cloud", "init", "--data-dir", "cloud-data", "--tenant-domain",
        "contoso.com", "--domain", "partners.contoso.com", "--json",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    app = json.loads(init.stdout)["application"]
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [HYBRIDSYNC, "cloud", "serve", "--data-dir", "cloud-data", "--port", str(port)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "cloud serve did not start"
            time.sleep(0.2)
        yield app, port
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_walkthrough(
    served: tuple[dict[str, str], int], samba_dc: SambaDC, tmp_path: Path
) -> None:
    app, port = served
    ca = tmp_path / "cloud-data" / "tls" / "ca.pem"
    written = hybridsync(
        tmp_path, "init", "--config", "hybridsync.toml", "--ad-url", samba_dc.ldaps_url,
        "--bind-user", samba_dc.admin_upn, "--ad-ca-file", str(samba_dc.ca_file),
        "--include-ou", samba_dc.ou("Staff"), "--include-ou", samba_dc.ou("Partners"),
        "--partner-suffix", "@partners.contoso.com", "--cloud-url", f"https://127.0.0.1:{port}",
        "--tenant", "contoso.com", "--client-id", app["client_id"],
        "--cloud-ca-file", str(ca),
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    secrets = {
        "HYBRIDSYNC_AD_PASSWORD": samba_dc.admin_password,
        "HYBRIDSYNC_CLOUD_SECRET": app["client_secret"],
    }
    check = hybridsync(tmp_path, "init", "--config", "hybridsync.toml", "--check", env=secrets)
    assert check.returncode == 0, check.stdout + check.stderr

    first = hybridsync(
        tmp_path, "run", "initial", "--config", "hybridsync.toml", "--json", env=secrets
    )
    assert first.returncode == 1, first.stdout + first.stderr  # the MSOL_ account, documented
    report = json.loads(first.stdout)
    assert [e["message"] for r in report["runs"] for e in r["errors"]] == [MISSING_UPN]
    users = _cloud_users(port, ca, app)
    assert users["jdoe@contoso.com"] == "Member"
    assert users["wmoran@partners.contoso.com"] == "Guest"
    assert not [upn for upn in users if upn.lower().startswith("msol_")]

    preview = hybridsync(
        tmp_path, "preview", "jdoe@contoso.com", "--config", "hybridsync.toml", env=secrets
    )
    assert preview.returncode == 0, preview.stderr
    delta = hybridsync(
        tmp_path, "run", "--delta", "--config", "hybridsync.toml", "--json", env=secrets
    )
    assert delta.returncode in (0, 1), delta.stderr
    writes = [r["counts"] for r in json.loads(delta.stdout)["runs"] if r["profile"] == "export"]
    assert sum(c.get(k, 0) for c in writes for k in ("add", "update", "delete")) == 0


def _cloud_users(port: int, ca: Path, app: dict[str, str]) -> dict[str, str]:
    """userPrincipalName -> userType, read with the sync app's own token."""
    base = f"https://127.0.0.1:{port}"
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=ca)) as http:
        token = http.post(
            "/contoso.com/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": app["client_id"],
                  "client_secret": app["client_secret"],
                  "scope": "https://graph.microsoft.com/.default"},
        )  # fmt: skip
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = http.get(
            "/v1.0/users", params={"$select": "userPrincipalName,userType", "$top": "999"},
            headers=headers,
        )  # fmt: skip
    answer.raise_for_status()
    return {u["userPrincipalName"]: u["userType"] for u in answer.json()["value"]}
