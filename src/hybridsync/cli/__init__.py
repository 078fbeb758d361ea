"""The ``hybridsync`` command line.

Exit statuses mean the same for every command:
0 success, 1 completed with object errors, 2 stopped (threshold, error limit, refused
import), 3 configuration error.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from hybridsync.cli.helptext import HELP_OPTION_NAMES, PlainHelpContext, plain_help

COMMAND_MODULES = {
    "agent": "agent",
    "apply": "plan",
    "cloud": "cloud",
    "demo": "demo",
    "expr": "expr",
    "history": "status",
    "init": "init",
    "phs": "phs",
    "plan": "plan",
    "preview": "preview",
    "run": "run",
    "scheduler": "scheduler",
    "status": "status",
}
"""Each command (or command group) and the module that defines it. A command's module
is imported only when that command runs: ``hybridsync run`` need not load the cloud
directory's web application, nor ``hybridsync cloud serve`` the sync engine."""


class LazyCommands(TyperGroup):
    """The root group: lists every command, imports a command's module on first use."""

    context_class = PlainHelpContext

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"hybridsync.cli.{COMMAND_MODULES[cmd_name]}")
            # typer builds click commands from what is registered on ``app`` by now.
            loaded = typer.main.get_group(app).commands.get(cmd_name)
            if loaded is not None:
                self.commands[cmd_name] = loaded
        return plain_help(self.commands.get(cmd_name))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in COMMAND_MODULES:
            for name in COMMAND_MODULES:  # an unknown name: load all, to suggest the nearest
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="hybridsync",
    cls=LazyCommands,
    help="Sync on-premises Active Directory into an Entra-compatible cloud directory.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
)


def _show_version(value: bool) -> None:
    if value:
        from hybridsync import __version__

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


def load_all_commands() -> None:
    """Import every command's module (each adds its commands to ``app``)."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"hybridsync.cli.{module}")


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["COMMAND_MODULES", "LazyCommands", "app", "load_all_commands", "main"]
