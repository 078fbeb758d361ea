"""The agent as an operator runs it (``hybridsync agent register`` / ``run`` in their own
processes), and the promise that the password is written nowhere."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from tests.docs.runnable import DocShell, runnable_blocks
from tests.support.cloud_server import CloudTenant
from tests.support.samba import SambaDC
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client, sync_user

from hybridsync.cloud.signin.service import signin_of

pytestmark = [
    pytest.mark.samba,
    pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),
]
DOC = REPO_ROOT / "docs" / "signin.md"
DOCUMENTED_CLIENT_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def cli_agent(
    samba_dc: SambaDC, contoso: CloudTenant, tmp_path: Path
) -> Iterator[tuple[Path, Path]]:
    """docs/signin.md's ``fixture=signin-agent`` block as written: ``hybridsync agent
    register`` then ``hybridsync agent run`` as separate processes, with the served
    cloud's address and the tenant's admin application in place of the documented ones."""
    state = tmp_path / "agent-state"
    (tmp_path / "agent.toml").write_text(
        f'[ad]\nurl = "{samba_dc.ldaps_url}"\nbind_user = "{samba_dc.admin_upn}"\n'
        f'password_env = "HYBRIDSYNC_AD_PASSWORD"\nca_file = "{samba_dc.ca_file}"\n'
    )
    shell = DocShell(
        tmp_path,
        substitutions={
            "https://cloud.example:8443": contoso.server.base_url,
            "--tenant contoso.com": f"--tenant {contoso.id}",
            DOCUMENTED_CLIENT_ID: contoso.admin_app.application.client_id,
            "cloud-ca.pem": str(contoso.server.ca_path),
            "/var/lib/hybridsync-agent": str(state),
        },
        env={
            "HYBRIDSYNC_CLOUD_ADMIN_SECRET": contoso.admin_app.client_secret or "",
            "HYBRIDSYNC_AD_PASSWORD": samba_dc.admin_password,
        },
    )
    (block,) = runnable_blocks(DOC, "signin-agent")
    try:
        for step in block.commands():
            shell.run(step)
            if " agent register " in step.line:
                assert oct((state / "agent-key.pem").stat().st_mode & 0o777) == "0o600"
        ((_, process),) = shell.servers
        queue = signin_of(contoso.server.service).pta
        deadline = time.monotonic() + 30
        while not queue.connected_agents(contoso.id):
            assert process.poll() is None, (tmp_path / "server-0.log").read_text()
            assert time.monotonic() < deadline, "the agent process never polled"
            time.sleep(0.05)
        yield state, tmp_path / "server-0.log"
    finally:
        shell.close()


def test_password_is_written_nowhere(
    samba_dc: SambaDC,
    contoso: CloudTenant,
    cli_agent: tuple[Path, Path],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    started = time.time()
    password = f"Unique!{secrets.token_hex(12)}"
    ou = samba_dc.add_ou(f"T-leak-{secrets.token_hex(3)}")
    upn = f"leak{secrets.token_hex(3)}@partners.contoso.com"
    dn = samba_dc.add_user(upn.split("@")[0], ou_dn=ou, upn=upn, password=password)
    sync_user(contoso, upn=upn, anchor=samba_dc.object_guid(dn), guest=True)
    app = msal_app(contoso, public_client(contoso))

    good = app.acquire_token_by_username_password(upn, password, scopes=[GRAPH_USER_READ])
    wrong = app.acquire_token_by_username_password(upn, password + "x", scopes=[GRAPH_USER_READ])
    assert "access_token" in good, good
    assert wrong["error"] == "invalid_grant"

    needles = [password.encode(), password.encode("utf-16-le")]
    captured = capfd.readouterr()
    assert password not in captured.out + captured.err
    for path in _files_to_search(contoso, tmp_path, samba_dc, started):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # another process's temporary file, removed since
            continue
        assert not any(needle in data for needle in needles), f"the password is in {path}"


def _files_to_search(
    tenant: CloudTenant, tmp_path: Path, samba_dc: SambaDC, since: float
) -> list[Path]:
    """The cloud's database (and WAL), the agent's state and log, Samba's logs, and every
    temporary file written since the test started."""
    cloud_dir = Path(tenant.server.service.db.url.removeprefix("sqlite:///")).parent
    found = [*_files_under(cloud_dir), *_files_under(tmp_path)]
    found.append(samba_dc.workdir / "samba.out")
    for shared_temp in (Path("/tmp"), Path("/var/tmp")):
        found += [p for p in _files_under(shared_temp) if _modified_since(p, since)]
    assert any(p.name.startswith("cloud.db") for p in found)
    assert any(p.name == "server-0.log" for p in found)  # the agent's output
    return found


def _files_under(root: Path) -> list[Path]:
    """Files under ``root`` below 64 MiB, not descending into checkouts or environments:
    a shared temporary folder may hold whole clones of a repository (CI's among them),
    which no process under test writes a temporary file into."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        if ".git" in subfolders or "pyvenv.cfg" in files:
            subfolders.clear()
            continue
        for name in files:
            path = Path(folder, name)
            try:
                if path.is_file() and path.stat().st_size < 64 * 1024 * 1024:
                    found.append(path)
            except OSError:  # another process's temporary file, removed since
                continue
    return found


def _modified_since(path: Path, since: float) -> bool:
    try:
        return path.stat().st_mtime >= since
    except OSError:
        return False
