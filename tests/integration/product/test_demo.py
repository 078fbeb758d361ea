"""``hybridsync demo``: the sample into the embedded cloud directory, twice, then the tour."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from hybridsync.cli import app
from hybridsync.errors import HybridsyncError
from hybridsync.wiring.demo import PARTNER_DOMAIN, TENANT
from hybridsync.wiring.embedded import EmbeddedCloud


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def demo(data_dir: Path) -> dict[str, Any]:
    code, output = invoke("demo", "--data-dir", str(data_dir), "--json")
    assert code == 0, output
    data: dict[str, Any] = json.loads(output)
    return data


PARTNERS = "partners.contoso.com"
SAMPLE_GROUPS = {
    "Partners - Project X": {
        f"wmoran@{PARTNERS}", f"msullivan@{PARTNERS}", f"dberger@{PARTNERS}",
        f"ccline@{PARTNERS}", "Project X - Northwind Traders",
    },
    "Project X - Northwind Traders": {f"ecattaneo@{PARTNERS}", f"isayers@{PARTNERS}"},
}  # fmt: skip


def test_first_run_creates_members_and_guests_second_run_exports_nothing(tmp_path: Path) -> None:
    first = demo(tmp_path / "demo")
    assert first["first_run"] is True
    # 26 users and 3 groups; the members and managers that name objects created in the
    # same export follow as updates (a reference waits for its object to exist).
    assert first["exported"] == {"add": 29, "update": 20, "delete": 0}
    guests = {u["userPrincipalName"]: u["userType"] for u in first["guests"]}
    members = {u["userPrincipalName"]: u["userType"] for u in first["members"]}
    assert len(guests) == 7
    assert set(guests.values()) == {"Guest"}
    assert all(upn.endswith("@partners.contoso.com") for upn in guests)
    assert len(members) == 19
    assert set(members.values()) == {"Member"}
    assert "msullivan@partners.contoso.com" in guests  # no extensionAttribute1: by UPN suffix
    groups = {g["displayName"]: set(g["members"]) for g in first["groups"]}
    # The critical system group (Domain Admins) stays out; the nested group is a member.
    assert set(groups) == {*SAMPLE_GROUPS, "Contoso Employees"}
    for name, expected in SAMPLE_GROUPS.items():
        assert groups[name] == expected
    employees = {upn for upn in members if upn not in {"rtemp@contoso.com"}}
    assert groups["Contoso Employees"] == employees
    second = demo(tmp_path / "demo")
    assert second["first_run"] is False
    assert second["exported"] == {"add": 0, "update": 0, "delete": 0}
    assert second["guests"] == first["guests"]
    assert second["members"] == first["members"]
    assert second["groups"] == first["groups"]


def test_the_demo_sets_employees_managers_in_the_cloud(tmp_path: Path) -> None:
    demo(tmp_path / "demo")
    cloud = EmbeddedCloud.open(tmp_path / "demo" / "cloud", TENANT, [PARTNER_DOMAIN])
    try:
        tenant, managers = cloud.tenant.id, cloud.service.managers
        by_upn = {str(u["userPrincipalName"]): str(u["id"]) for u in cloud.users()}

        def manager_of(upn: str) -> str | None:
            try:
                return str(managers.manager(tenant, by_upn[upn])["userPrincipalName"])
            except HybridsyncError:
                return None

        assert manager_of("awilber@contoso.com") == "mbowen@contoso.com"
        assert manager_of("mbowen@contoso.com") == "mgraham@contoso.com"
        assert manager_of("mgraham@contoso.com") == "pfernandez@contoso.com"
        assert manager_of("zschafer@contoso.com") == "nwilke@contoso.com"
        assert manager_of("pfernandez@contoso.com") is None
        assert manager_of(f"wmoran@{PARTNERS}") is None
        reports = managers.direct_reports(tenant, by_upn["pfernandez@contoso.com"])
        assert {r["userPrincipalName"] for r in reports} == {
            "mgraham@contoso.com", "nwilke@contoso.com", "lgu@contoso.com",
        }  # fmt: skip
    finally:
        cloud.close()


def test_the_demo_prints_its_groups_with_their_members(tmp_path: Path) -> None:
    code, output = invoke("demo", "--data-dir", str(tmp_path / "demo"))
    assert code == 0, output
    expected = "Groups (3)\n  Contoso Employees (18 members)\n"
    assert expected in output
    assert (
        "  Partners - Project X (5 members)\n"
        "    Project X - Northwind Traders\n"
        f"    ccline@{PARTNERS}\n"
        f"    dberger@{PARTNERS}\n"
        f"    msullivan@{PARTNERS}\n"
        f"    wmoran@{PARTNERS}\n"
        "  Project X - Northwind Traders (2 members)\n"
        f"    ecattaneo@{PARTNERS}\n"
        f"    isayers@{PARTNERS}\n"
    ) in output
    assert "Domain Admins" not in output
    assert output.index("Guests (7)") < output.index("Groups (3)")


def test_the_suggested_commands_work_on_the_demo_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    code, output = invoke("demo", "--data-dir", str(data_dir))
    assert code == 0, output
    assert "Guests (7)" in output
    assert "Members (19)" in output
    assert "exported to the cloud directory: 29 added, 20 updated\n" in output
    # plain columns, as every command prints its tables
    assert re.search(r"\n  msullivan@partners\.contoso\.com +Michael Sullivan +yes\n", output)
    assert not re.search("[┃━│]", output)
    config = str(data_dir / "hybridsync.toml")
    assert f"hybridsync plan --config {config}" in output
    assert f"hybridsync preview msullivan@partners.contoso.com --config {config}" in output
    assert f"hybridsync sync avance@contoso.com --config {config}" in output
    code, synced = invoke("sync", "avance@contoso.com", "--config", config)
    assert code == 0, synced
    assert synced.startswith("sync avance@contoso.com (from ad): ")
    code, output = invoke("plan", "--config", config)
    assert (code, output.split(": ", 1)[1].strip()) == (0, "no changes")
    dn = "CN=Michael Sullivan,OU=Partners,DC=corp,DC=contoso,DC=com"
    code, by_dn = invoke("preview", dn, "--connector", "ad", "--config", config)
    assert code == 0, by_dn
    assert "userType = Guest" in by_dn
    code, by_upn = invoke("preview", "MSullivan@Partners.Contoso.com", "--config", config)
    assert (code, by_upn) == (0, by_dn)  # any case; the first source connector by default
    ldif = data_dir / "contoso.ldif"
    ldif.write_text(ldif.read_text("utf-8").replace("title: Paralegal", "title: Counsel"), "utf-8")
    code, output = invoke("run", "--config", config, "--json")
    assert code in (0, 1), output
    exports = [r for r in json.loads(output)["runs"] if r["profile"] == "export"]
    assert exports[0]["counts"].get("update") == 1


def test_the_demo_runs_without_python_ldap(tmp_path: Path) -> None:
    # python-ldap is the optional "ad" extra: the demo must not import it.
    script = (
        "import sys; sys.modules['ldap'] = None\n"
        "from hybridsync.cli import main\n"
        f"sys.argv = ['hybridsync', 'demo', '--data-dir', {str(tmp_path / 'demo')!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Guests (7)" in done.stdout


def test_cloud_serve_browses_the_demo_directory_over_https(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    demo(data_dir)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable, "-c", "from hybridsync.cli import main; main()", "cloud", "serve",
        "--data-dir", str(data_dir / "cloud"), "--port", str(port),
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            ca = server.stdout.readline().split("trust this CA: ", 1)[1].strip()
            assert server.stdout.readline().startswith("serving https://")
            app = json.loads((data_dir / "cloud" / "sync-app.json").read_text("utf-8"))
            base = f"https://127.0.0.1:{port}"
            with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=ca)) as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        token = http.post(
                            "/contoso.com/oauth2/v2.0/token",
                            data={
                                "grant_type": "client_credentials",
                                "client_id": app["client_id"],
                                "client_secret": app["client_secret"],
                                "scope": "https://graph.microsoft.com/.default",
                            },
                        )
                        break
                    except httpx.ConnectError:
                        assert time.monotonic() < deadline
                        time.sleep(0.1)
                assert token.status_code == 200, token.text
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                users = http.get(
                    "/v1.0/users",
                    params={"$top": "999", "$select": "userPrincipalName,userType"},
                    headers=headers,
                )
            assert users.status_code == 200
            guests = [u for u in users.json()["value"] if u["userType"] == "Guest"]
            assert len(users.json()["value"]) == 26
            assert len(guests) == 7
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_the_demo_s_cloud_directory_can_be_browsed_with_a_token(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    code, output = invoke("demo", "--data-dir", str(data_dir))
    assert code == 0, output
    cloud = data_dir / "cloud"
    assert f"TOKEN=$(hybridsync cloud token --app-file {cloud}/sync-app.json)" in output
    assert f"curl --cacert {cloud}/tls/ca.pem" in output
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-c", "from hybridsync.cli import main; main()", "cloud", "serve",
               "--data-dir", str(cloud), "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline(), server.stdout.readline()]
        assert lines[1].startswith(f"serving https://127.0.0.1:{port}"), lines
        url = f"https://127.0.0.1:{port}"
        result = CliRunner().invoke(
            app, ["cloud", "token", "--app-file", str(cloud / "sync-app.json"), "--url", url]
        )  # the CA that serve generated next to the app file is trusted by default
        assert result.exit_code == 0, result.output
        answer = _get_users(
            f"{url}/v1.0/users?$top=999", result.stdout.strip(), cloud / "tls" / "ca.pem"
        )
        assert answer.status_code == 200
        assert len(answer.json()["value"]) == 26
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def _get_users(url: str, token: str, ca: Path) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as http:
        return http.get(url, headers=headers)


def test_status_on_the_demo_loads_no_web_application(tmp_path: Path) -> None:
    # status reads the local store: the embedded cloud directory's web application (FastAPI)
    # is built on the first request to it, and status sends none.
    demo(tmp_path / "demo")
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from hybridsync.cli import app\n"
        "result = CliRunner().invoke(app, ['status', '--config', sys.argv[1], '--json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.output)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    config = str(tmp_path / "demo" / "hybridsync.toml")
    done = subprocess.run(
        [sys.executable, "-c", script, config], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert '"metaverse_objects"' in done.stdout  # the status document was printed
    modules = set(done.stdout.split())
    assert not {"fastapi", "uvicorn", "hybridsync.cloud.app"} & modules
