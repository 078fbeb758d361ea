"""``hybridsync cloud``: init, app add, keys rotate, and serve as a real process."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.support.cloud_server import CloudServer
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes

runner = CliRunner()


def init(data_dir: Path) -> dict[str, object]:
    result = runner.invoke(
        app,
        ["cloud", "init", "--data-dir", str(data_dir), "--tenant-domain", "contoso.com",
         "--domain", "partners.contoso.com", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def test_init_creates_a_tenant_and_a_sync_application(tmp_path: Path) -> None:
    document = init(tmp_path / "data")
    assert document["initial_domain"] == "contoso.onmicrosoft.com"
    assert document["verified_domains"] == (
        "contoso.com, contoso.onmicrosoft.com, partners.contoso.com"
    )
    application = document["application"]
    assert isinstance(application, dict)
    assert "HybridSync.Synchronization.ReadWrite.All" in application["roles"]
    assert len(application["client_secret"]) > 30
    assert (tmp_path / "data" / "master.key").stat().st_mode & 0o077 == 0
    # The secret is shown once and never stored in clear.
    assert (
        application["client_secret"].encode() not in (tmp_path / "data" / "cloud.db").read_bytes()
    )


def test_init_twice_is_a_configuration_error(tmp_path: Path) -> None:
    init(tmp_path)
    again = runner.invoke(
        app, ["cloud", "init", "--data-dir", str(tmp_path), "--tenant-domain", "x.com"]
    )
    assert again.exit_code == 3


def test_app_add(tmp_path: Path) -> None:
    init(tmp_path)
    result = runner.invoke(
        app,
        ["cloud", "app", "add", "--data-dir", str(tmp_path), "--role", "User.Read.All", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["roles"] == ["User.Read.All"]
    unknown = runner.invoke(
        app, ["cloud", "app", "add", "--data-dir", str(tmp_path), "--role", "Root.All"]
    )
    assert unknown.exit_code == 3
    assert "Root.All" in unknown.output


def test_commands_without_a_directory_are_configuration_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cloud", "keys", "rotate", "--data-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert "hybridsync cloud init" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_over_https_with_a_generated_ca(tmp_path: Path) -> None:
    document = init(tmp_path)
    application = document["application"]
    assert isinstance(application, dict)
    port = _free_port()
    command = [sys.executable, "-c", "from hybridsync.cli import main; main()", "cloud", "serve",
               "--data-dir", str(tmp_path), "--port", str(port),
               "--rate-limit", "token_per_client=2/600"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.startswith("clients must trust this CA: ")
        ca = first_line.split(": ", 1)[1].strip()
        context = ssl.create_default_context(cafile=ca)
        url = f"https://127.0.0.1:{port}/{document['tenant_id']}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": application["client_id"],
            "client_secret": application["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        }
        answer = _post_when_up(url, form, context)
        assert answer.status_code == 200
        with httpx.Client(verify=context) as http:
            users = http.get(
                f"https://127.0.0.1:{port}/v1.0/users",
                headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            )
        assert users.json()["value"] == []
        # --rate-limit took effect: the third token request within the window is throttled.
        assert httpx.post(url, data=form, verify=context).status_code == 200
        throttled = httpx.post(url, data=form, verify=context)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_serve_refuses_a_malformed_rate_limit(tmp_path: Path) -> None:
    init(tmp_path)
    for spec in ("token_per_client=fast", "tokens=2/10", "reads_per_app=0/10"):
        result = CliRunner().invoke(
            app, ["cloud", "serve", "--data-dir", str(tmp_path), "--rate-limit", spec]
        )
        assert result.exit_code == exit_codes.CONFIG_ERROR, result.output
        assert "rate limit" in result.output
        assert not (tmp_path / "tls").exists()  # refused before anything was written


def _post_when_up(url: str, form: dict[str, object], context: ssl.SSLContext) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.post(url, data=form, verify=context)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    init(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-c", "from hybridsync.cli import main; main()", "cloud",
                   "serve", "--data-dir", str(tmp_path), "--port", str(port)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == exit_codes.CONFIG_ERROR
    assert "serving" not in done.stdout
    errors = done.stderr.strip().splitlines()
    assert errors == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def _signin_policy(data_dir: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(
        app, ["cloud", "signin-policy", *args, "--data-dir", str(data_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_signin_policy_sets_the_tenant_method_and_a_user_override(tmp_path: Path) -> None:
    from hybridsync.cloud import CloudService
    from hybridsync.cloud.local import settings_for
    from hybridsync.cloud.signin.service import signin_of

    tenant_id = str(init(tmp_path)["tenant_id"])
    assert _signin_policy(tmp_path, "show")["synced_user_authentication"] == "default"
    assert _signin_policy(tmp_path, "set", "pta")["synced_user_authentication"] == "pta"
    service = CloudService(settings_for(tmp_path))
    try:
        user = service.users.create(
            tenant_id,
            {"userPrincipalName": "ann@partners.contoso.com", "displayName": "Ann",
             "accountEnabled": True, "mailNickname": "ann"},
            synced=True, extra={},
        )  # fmt: skip
    finally:
        service.close()
    shown = _signin_policy(tmp_path, "set", "phs", "--user", "ann@partners.contoso.com")
    assert shown == {
        "tenant_id": tenant_id,
        "synced_user_authentication": "pta",
        "user": "ann@partners.contoso.com",
        "user_override": "phs",
        "effective": "phs",
    }
    service = CloudService(settings_for(tmp_path))
    try:  # what sign-ins read
        store = signin_of(service).store
        assert store.tenant_method(tenant_id) == "pta"
        assert store.user_method(tenant_id, user["id"]) == "phs"
    finally:
        service.close()
    _signin_policy(tmp_path, "set", "default", "--user", "ann@partners.contoso.com")
    assert _signin_policy(tmp_path, "show", "--user", "ann@partners.contoso.com")["effective"] == (
        "pta"
    )


def test_signin_policy_refuses_an_unknown_method_or_user(tmp_path: Path) -> None:
    init(tmp_path)
    wrong = runner.invoke(
        app, ["cloud", "signin-policy", "set", "ntlm", "--data-dir", str(tmp_path)]
    )
    assert wrong.exit_code == exit_codes.CONFIG_ERROR
    assert "pta, phs, default" in wrong.output
    nobody = runner.invoke(
        app,
        ["cloud", "signin-policy", "set", "pta", "--user", "nobody@contoso.com",
         "--data-dir", str(tmp_path)],
    )  # fmt: skip
    assert nobody.exit_code == exit_codes.NOT_FOUND
    assert "no user 'nobody@contoso.com'" in nobody.output


def test_token_for_an_application_whose_credentials_you_hold(
    tmp_path: Path, cloud_server: CloudServer
) -> None:
    tenant = cloud_server.new_tenant()
    app_file = tmp_path / "app.json"
    credentials = {
        "tenant_id": tenant.id,
        "application": {
            "client_id": tenant.sync_app.application.client_id,
            "client_secret": tenant.sync_app.client_secret,
        },
    }  # the shape `cloud init --json` prints
    app_file.write_text(json.dumps(credentials), encoding="utf-8")
    result = runner.invoke(
        app,
        ["cloud", "token", "--app-file", str(app_file), "--url", cloud_server.base_url,
         "--ca-file", str(cloud_server.ca_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    with httpx.Client(verify=cloud_server.ssl_context()) as http:
        users = http.get(
            f"{cloud_server.base_url}/v1.0/users", headers={"Authorization": f"Bearer {token}"}
        )
    assert users.status_code == 200
    assert users.json()["value"] == []


def test_token_with_a_wrong_secret_or_no_server(tmp_path: Path, cloud_server: CloudServer) -> None:
    tenant = cloud_server.new_tenant()
    app_file = tmp_path / "app.json"
    wrong = {"tenant_id": tenant.id, "client_id": tenant.sync_app.application.client_id,
             "client_secret": "wrong"}  # fmt: skip
    app_file.write_text(json.dumps(wrong), encoding="utf-8")
    common = ["cloud", "token", "--app-file", str(app_file), "--ca-file", str(cloud_server.ca_path)]
    refused = runner.invoke(app, [*common, "--url", cloud_server.base_url])
    assert refused.exit_code == exit_codes.CONFIG_ERROR
    assert "invalid_client" in refused.output
    assert "wrong" not in refused.output
    nothing = runner.invoke(app, [*common, "--url", f"https://127.0.0.1:{_free_port()}"])
    assert nothing.exit_code == exit_codes.UNREACHABLE
    assert "cannot connect to https://127.0.0.1:" in nothing.output


def test_invite_checks_the_address_and_the_landing_page_as_the_api_does(tmp_path: Path) -> None:
    init(tmp_path)
    base = ["cloud", "invite", "--data-dir", str(tmp_path), "--user", "kim@partners.contoso.com"]
    bad_address = runner.invoke(app, [*base, "--email", "kim@fabrikam.example\r\nBcc: x@y.z"])
    script = runner.invoke(
        app, [*base, "--email", "kim@fabrikam.example", "--redirect-url", "javascript:alert(1)"]
    )
    # Refused for what was sent (3), before the user is even looked up (4 would be "no user").
    assert bad_address.exit_code == exit_codes.CONFIG_ERROR, bad_address.output
    assert "invitedUserEmailAddress" in bad_address.output
    assert script.exit_code == exit_codes.CONFIG_ERROR, script.output
    assert "inviteRedirectUrl" in script.output
