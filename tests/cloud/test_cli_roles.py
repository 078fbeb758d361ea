"""``cloud init --admin``, ``cloud role ...`` and ``cloud app add|consent|list``: what the
commands write is what the served directory then enforces."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.cloud import CloudService, create_app
from hybridsync.cloud.local import settings_for
from hybridsync.cloud.server import ThreadedServer, TlsConfig
from hybridsync.cloud.tls import ensure_local_tls

runner = CliRunner()
ADMIN_PASSWORD = "Adm1n!Passw0rd-cli"
MEMBER_PASSWORD = "Str0ng!Passw0rd"


def cli(data: Path, *args: str, input: str | None = None) -> Any:
    result = runner.invoke(app, ["cloud", *args, "--data-dir", str(data), "--json"], input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HYBRIDSYNC_ADMIN_PASSWORD", ADMIN_PASSWORD)
    document = cli(
        tmp_path, "init", "--tenant-domain", "contoso.com", "--admin", "admin@contoso.com"
    )
    assert document["global_administrator"]["upn"] == "admin@contoso.com"
    return tmp_path


@pytest.fixture
def served(data: Path) -> Iterator[tuple[CloudService, str, Path]]:
    tls = ensure_local_tls(data / "tls")
    service = CloudService(settings_for(data))
    try:
        with ThreadedServer(
            create_app(service), TlsConfig(tls.certificate, tls.private_key)
        ) as server:
            yield service, server.base_url, tls.ca_certificate
    finally:
        service.close()


def test_the_admin_password_is_never_an_argument(tmp_path: Path) -> None:
    refused = runner.invoke(
        app, ["cloud", "init", "--data-dir", str(tmp_path), "--tenant-domain", "contoso.com",
              "--admin", "admin@contoso.com", "--password", "x"],
    )  # fmt: skip
    assert refused.exit_code == 2  # no such option
    prompted = runner.invoke(
        app, ["cloud", "init", "--data-dir", str(tmp_path / "p"), "--tenant-domain",
              "contoso.com", "--admin", "admin@contoso.com"],
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert ADMIN_PASSWORD not in prompted.output
    weak = runner.invoke(
        app, ["cloud", "init", "--data-dir", str(tmp_path / "w"), "--tenant-domain",
              "contoso.com", "--admin", "admin@contoso.com"],
        input="weak\nweak\n",
    )  # fmt: skip
    assert weak.exit_code == 3
    assert "password" in weak.output


def test_roles_and_a_public_client_from_the_cli_are_enforced(
    data: Path, served: tuple[CloudService, str, Path]
) -> None:
    service, base_url, ca = served
    trust = ssl.create_default_context(cafile=str(ca))
    tenant = service.tenancy.only_tenant()
    for alias in ("helpdesk", "member"):
        service.users.create(
            tenant.id,
            {"accountEnabled": True, "displayName": alias, "mailNickname": alias,
             "userPrincipalName": f"{alias}@contoso.com",
             "passwordProfile": {"password": MEMBER_PASSWORD}},
            synced=False, extra={},
        )  # fmt: skip
    added = cli(
        data, "app", "add", "--public-client", "--name", "admin tool",
        "--redirect-uri", "http://localhost", "--delegated", "User.Read",
        "--delegated", "Directory.ReadWrite.All",
    )  # fmt: skip
    assert added["credential"] == "none (public client)"
    assert "client_secret" not in added
    consented = cli(data, "app", "consent", "admin tool", "--delegated", "Directory.ReadWrite.All")
    assert consented["consented"] == ["Directory.ReadWrite.All"]
    listed = {a["display_name"]: a for a in cli(data, "app", "list")}
    assert listed["admin tool"]["kind"] == "public"
    assert listed["hybridsync sync engine"]["kind"] == "confidential"
    held = cli(
        data, "role", "assign", "--user", "helpdesk@contoso.com", "--role", "helpdesk administrator"
    )
    assert held["role"] == "Helpdesk Administrator"
    roles = {(h["user_principal_name"], h["role"]) for h in cli(data, "role", "list")}
    assert roles == {
        ("admin@contoso.com", "Global Administrator"),
        ("helpdesk@contoso.com", "Helpdesk Administrator"),
    }

    def token(upn: str, password: str) -> str:
        answer = httpx.post(
            f"{base_url}/{tenant.id}/oauth2/v2.0/token",
            data={"grant_type": "password", "client_id": added["client_id"], "username": upn,
                  "password": password, "scope": "https://graph.microsoft.com/Directory.ReadWrite.All"},
            verify=trust,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    reset = {
        "passwordProfile": {"password": "Ch4nged!Passw0rd", "forceChangePasswordNextSignIn": False}
    }
    with httpx.Client(base_url=base_url, verify=trust) as http:
        helpdesk = {"Authorization": f"Bearer {token('helpdesk@contoso.com', MEMBER_PASSWORD)}"}
        admin = {"Authorization": f"Bearer {token('admin@contoso.com', ADMIN_PASSWORD)}"}
        assert (
            http.patch("/v1.0/users/member@contoso.com", json=reset, headers=helpdesk).status_code
            == 204
        )
        assert (
            http.patch("/v1.0/users/admin@contoso.com", json=reset, headers=helpdesk).status_code
            == 403
        )
        assert (
            http.patch(
                "/v1.0/users/helpdesk@contoso.com", json={"jobTitle": "x"}, headers=admin
            ).status_code
            == 204
        )
    removed = cli(
        data, "role", "remove", "--user", "helpdesk@contoso.com", "--role", "Helpdesk Administrator"
    )
    assert removed["role"] == "Helpdesk Administrator"
    with httpx.Client(base_url=base_url, verify=trust, headers=helpdesk) as http:
        assert http.patch("/v1.0/users/member@contoso.com", json=reset).status_code == 403


def test_bad_role_and_consent_requests_are_configuration_errors(data: Path) -> None:
    def run(*args: str) -> Any:
        return runner.invoke(app, ["cloud", *args, "--data-dir", str(data)])

    unknown_role = run("role", "assign", "--user", "admin@contoso.com", "--role", "Janitor")
    unknown_user = run(
        "role", "assign", "--user", "ghost@contoso.com", "--role", "Directory Readers"
    )
    twice = run("role", "assign", "--user", "admin@contoso.com", "--role", "Global Administrator")
    bad_scope = run("app", "add", "--public-client", "--name", "x", "--delegated", "Everything.All")
    bad_uri = run(
        "app", "add", "--public-client", "--name", "x", "--redirect-uri", "http://evil.example/"
    )
    public_with_role = run(
        "app", "add", "--public-client", "--name", "x", "--role", "User.Read.All"
    )
    undeclared = run("app", "consent", "hybridsync sync engine", "--delegated", "User.Read")
    for result, words in [
        (unknown_role, "unknown directory role 'Janitor'"),
        (twice, "already holds Global Administrator"),
        (bad_scope, "unknown delegated permission 'Everything.All'"),
        (bad_uri, "invalid redirect URI"),
        (public_with_role, "a public client has no credential"),
        (undeclared, "does not ask for User.Read"),
    ]:
        assert result.exit_code == 3, result.output
        assert words in result.output
    # A user or application the tenant does not hold is "not found", not a configuration error.
    no_app = run("app", "consent", "nosuch", "--delegated", "User.Read")
    no_user_roles = run("role", "list", "--user", "nobody@contoso.com")
    for result, words in [
        (unknown_user, "no user 'ghost@contoso.com'"),
        (no_app, "no application 'nosuch'"),
        (no_user_roles, "no user 'nobody@contoso.com'"),
    ]:
        assert result.exit_code == exit_codes.NOT_FOUND, result.output
        assert words in result.output
    names = [a["display_name"] for a in json.loads(run("app", "list", "--json").output)]
    assert names == ["hybridsync sync engine"]  # nothing half-registered
