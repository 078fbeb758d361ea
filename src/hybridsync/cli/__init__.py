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


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Sync on-premises Active Directory into an Entra-compatible cloud directory."""


def _register_commands() -> None:
    # Each command group lives in its own module and adds itself to ``app``.
    from hybridsync.cli import (  # noqa: F401
        cloud,
        demo,
        expr,
        phs,
        plan,
        preview,
        run,
        status,
    )


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
