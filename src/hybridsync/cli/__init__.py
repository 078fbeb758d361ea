"""The ``hybridsync`` command line.

Exit statuses mean the same for every command:
0 success, 1 completed with object errors, 2 stopped (threshold, error limit, refused
import), 3 configuration error.
"""

from __future__ import annotations

import typer

from hybridsync import __version__

app = typer.Typer(
    name="hybridsync",
    help="Sync on-premises Active Directory into an Entra-compatible cloud directory.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"hybridsync {__version__}")
        raise typer.Exit()


LogFormatOption = typer.Option(
    "text",
    "--log-format",
    envvar="HYBRIDSYNC_LOG_FORMAT",
    help="Logs on stderr: text, or json (one object per line). Secrets are redacted.",
)
LogLevelOption = typer.Option(
    "INFO", "--log-level", envvar="HYBRIDSYNC_LOG_LEVEL", help="DEBUG, INFO, WARNING or ERROR."
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
    log_format: str = LogFormatOption,
    log_level: str = LogLevelOption,
) -> None:
    """Sync on-premises Active Directory into an Entra-compatible cloud directory."""
    from hybridsync.cli.logging import configure_logging

    if log_format not in ("text", "json"):
        typer.echo(f"--log-format: use text or json, not {log_format!r}", err=True)
        raise typer.Exit(3)
    try:
        configure_logging("json" if log_format == "json" else "text", log_level)
    except ValueError as exc:
        typer.echo(f"--log-level: {exc}", err=True)
        raise typer.Exit(3) from exc


def _register_commands() -> None:
    # Each command group lives in its own module and adds itself to ``app``.
    from hybridsync.cli import (  # noqa: F401
        agent,
        cloud,
        demo,
        expr,
        init,
        phs,
        plan,
        preview,
        run,
        scheduler,
        status,
    )


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
