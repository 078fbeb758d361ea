"""``hybridsync agent``: the on-premises pass-through authentication agent."""

from __future__ import annotations

import json
import os
import threading
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.stopping import stopped_by_signals
from hybridsync.errors import ConfigError, HybridsyncError, error_text

if TYPE_CHECKING:
    from hybridsync.connectors.ad import ADSettings


def _log() -> Any:
    """The logger, imported when something is logged (structlog is slow to import)."""
    import structlog

    return structlog.get_logger("hybridsync.agent")


agent_app = typer.Typer(
    help="The pass-through authentication agent (outbound HTTPS only).", no_args_is_help=True
)
app.add_typer(agent_app, name="agent")

StateDir = Annotated[
    Path, typer.Option("--state-dir", help="Where the agent keeps its key and certificate.")
]
DEFAULT_STATE = Path("agent-data")


@agent_app.command("register")
def register(
    cloud_url: Annotated[str, typer.Option("--cloud-url", help="https://host:port of the cloud.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id or domain.")],
    client_id: Annotated[str, typer.Option("--admin-client-id", help="Cloud admin application.")],
    secret_env: Annotated[
        str,
        typer.Option("--admin-secret-env", help="Environment variable holding its secret."),
    ] = "HYBRIDSYNC_CLOUD_ADMIN_SECRET",
    ca_file: Annotated[
        Path | None, typer.Option("--ca-file", help="CA to trust for the cloud (else system).")
    ] = None,
    state_dir: StateDir = DEFAULT_STATE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Make a key pair, get a client certificate from the cloud with an admin credential."""
    from hybridsync.agent.register import admin_token, register_agent

    secret = os.environ.get(secret_env, "")
    try:
        if not secret:
            raise ConfigError(f"environment variable {secret_env} is not set")
        token = admin_token(cloud_url.rstrip("/"), tenant, client_id, secret, ca_file)
        state = register_agent(
            state_dir, cloud_url=cloud_url.rstrip("/"), tenant=tenant, token=token, ca_file=ca_file
        )
    except (HybridsyncError, OSError) as exc:
        typer.echo(f"error: {error_text(exc)}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    document = {"agent_id": state.agent_id, "tenant": tenant, "state_dir": str(state_dir)}
    typer.echo(json.dumps(document) if as_json else f"registered agent {state.agent_id}")


@agent_app.command("run")
def run(
    ad_config: Annotated[
        Path, typer.Option("--ad-config", help="TOML file with the AD connection ([ad] table).")
    ],
    state_dir: StateDir = DEFAULT_STATE,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=32, help="Passwords checked at once.")
    ] = 4,
) -> None:
    """Long-poll the cloud and validate passwords against AD until SIGTERM or Ctrl-C
    (exit status 0; a second signal stops at once, exit status 2)."""
    from hybridsync.agent.runner import AgentRunner
    from hybridsync.agent.state import load_state
    from hybridsync.connectors.ad.password_check import PasswordCheck

    try:
        state = load_state(state_dir)
        settings = _ad_settings(ad_config)
        check = PasswordCheck(settings, settings.password())
    except (HybridsyncError, OSError, ValueError) as exc:
        typer.echo(f"error: {error_text(exc)}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    runner = AgentRunner(state, lambda anchor, pw: str(check.check(anchor, pw)), workers=workers)
    stop = threading.Event()
    try:
        with stopped_by_signals(stop, name="agent"):
            runner.start()
            typer.echo(f"agent {state.agent_id} polling {state.cloud_url}")
            stop.wait()
            # Answers in flight are posted; idle long polls end with the process.
            runner.stop(wait_for_polls=False)
    finally:
        check.close()
    _log().info("agent.stopped", agent=state.agent_id)


def _ad_settings(path: Path) -> ADSettings:
    # python-ldap is an optional extra: import the AD connector only when the agent runs.
    from hybridsync.connectors.ad import ADSettings

    document = tomllib.loads(path.read_text(encoding="utf-8"))
    if "ad" not in document:
        raise ConfigError(f"{path}: no [ad] table")
    return ADSettings(**document["ad"])
