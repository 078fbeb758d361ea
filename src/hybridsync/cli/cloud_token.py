"""``hybridsync cloud token``: an access token for an application whose credentials you hold.

It asks the served directory's token endpoint (client credentials, through msal, as any
application would), so the token is exactly what that application gets. Typical use::

    TOKEN=$(hybridsync cloud token --app-file demo/cloud/sync-app.json)
    curl --cacert demo/cloud/tls/ca.pem -H "Authorization: Bearer $TOKEN" \\
        https://127.0.0.1:8443/v1.0/users
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hybridsync.cli import exit_codes
from hybridsync.cli.cloud import AsJson, cloud_app

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
DEFAULT_URL = "https://127.0.0.1:8443"


def _fail(message: str, status: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(status)


def read_app_file(path: Path) -> dict[str, str]:
    """``client_id``, ``client_secret`` and maybe ``tenant_id`` from the JSON that
    ``cloud init --json``, ``cloud app add --json`` or the demo (``sync-app.json``) wrote.

    Raises:
        typer.Exit: the file cannot be read or holds no client id and secret (status 3).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}", exit_codes.CONFIG_ERROR) from None
    except ValueError as exc:
        raise _fail(f"{path} is not JSON: {exc}", exit_codes.CONFIG_ERROR) from None
    found: dict[str, Any] = document if isinstance(document, dict) else {}
    application = found.get("application", found)
    credentials = {
        "client_id": application.get("client_id"),
        "client_secret": application.get("client_secret"),
        "tenant_id": found.get("tenant_id") or application.get("tenant_id"),
    }
    if not credentials["client_id"] or not credentials["client_secret"]:
        raise _fail(f"{path} holds no client_id and client_secret", exit_codes.CONFIG_ERROR)
    return {k: str(v) for k, v in credentials.items() if v}


def _ca_file(given: Path | None, app_file: Path) -> str | bool:
    """The CA to trust: the one given, else the one ``cloud serve`` generated next to the
    app file (``<data dir>/tls/ca.pem``), else the system's."""
    if given is not None:
        return str(given)
    generated = app_file.parent / "tls" / "ca.pem"
    return str(generated) if generated.exists() else True


def request_token(url: str, tenant: str, credentials: dict[str, str], ca: str | bool) -> Any:
    """The token endpoint's answer (msal's result dictionary)."""
    import requests

    with requests.Session() as session:
        session.verify = ca
        # requests lets REQUESTS_CA_BUNDLE override a session's CA: the one asked for wins.
        session.trust_env = ca is True
        return _acquire(session, url, tenant, credentials)


def _acquire(session: Any, url: str, tenant: str, credentials: dict[str, str]) -> Any:
    import msal
    import requests

    try:
        application = msal.ConfidentialClientApplication(
            credentials["client_id"],
            client_credential=credentials["client_secret"],
            authority=f"{url.rstrip('/')}/{tenant}",
            instance_discovery=False,
            http_client=session,
        )
        return application.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    except requests.exceptions.SSLError as exc:
        raise _fail(f"TLS verification of {url} failed: {exc}", exit_codes.UNREACHABLE) from None
    except requests.exceptions.ConnectionError:
        message = f"cannot connect to {url} (is `hybridsync cloud serve` running?)"
        raise _fail(message, exit_codes.UNREACHABLE) from None
    except ValueError as exc:  # msal: the authority's discovery document is not usable
        raise _fail(f"{url} is not a cloud directory: {exc}", exit_codes.CONFIG_ERROR) from None


@cloud_app.command("token")
def token(
    app_file: Annotated[
        Path,
        typer.Option(
            "--app-file", help="The application's credentials (JSON of cloud init or app add)."
        ),
    ],
    url: Annotated[str, typer.Option("--url", help="The served directory.")] = DEFAULT_URL,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Tenant id or domain (default: the file's).")
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option("--ca-file", help="CA to trust (default: the served one).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Print an access token for an application whose credentials you hold."""
    credentials = read_app_file(app_file)
    tenant = tenant or credentials.get("tenant_id")
    if tenant is None:
        raise _fail(f"{app_file} names no tenant: give --tenant", exit_codes.CONFIG_ERROR)
    result = request_token(url, tenant, credentials, _ca_file(ca_file, app_file))
    if "access_token" not in result:
        description = str(result.get("error_description", "")).splitlines()[:1]
        raise _fail(
            f"{result.get('error', 'refused')}: {' '.join(description)}", exit_codes.CONFIG_ERROR
        )
    if as_json:
        fields = ("token_type", "expires_in", "access_token")
        typer.echo(json.dumps({key: result.get(key) for key in fields}, indent=2))
        return
    typer.echo(result["access_token"])
