"""The ``hybridsync`` command line.

Exit statuses mean the same for every command (``hybridsync.cli.exit_codes``):
0 success, 1 completed with object errors, 2 stopped (threshold, error limit, refused
import), 3 configuration error, 4 not found, 5 unreachable.
"""

from __future__ import annotations

import importlib
from logging import getLevelNamesMapping
from typing import Any

import typer
from typer._click.globals import get_current_context
from typer.core import TyperCommand, TyperGroup

from hybridsync.cli.helptext import (
    HELP_OPTION_NAMES,
    PlainHelpContext,
    plain_help,
    taken_as_given,
)

COMMAND_MODULES = {
    "agent": "agent",
    "apply": "plan",
    "cloud": "cloud",
    "demo": "demo",
    "expr": "expr",
    "history": "status",
    "init": "init",
    "migrate": "migrate",
    "phs": "password_hash_sync",
    "plan": "plan",
    "preview": "preview",
    "run": "run",
    "scheduler": "scheduler",
    "serve": "serve",
    "status": "status",
    "sync": "on_demand",
}
"""Each command (or command group) and the module that defines it. A command's module
is imported only when that command runs: ``hybridsync run`` need not load the cloud
directory's web application, nor ``hybridsync cloud serve`` the sync engine."""


COMMAND_SUMMARIES = {
    "agent": "The pass-through authentication agent (outbound HTTPS only).",
    "apply": "Export exactly a saved plan; refuse it if the pending changes differ now.",
    "cloud": "The Entra-compatible cloud directory.",
    "demo": "Sync a sample organization into a local cloud directory: no server, no setup.",
    "expr": "Compile and evaluate sync-rule expressions.",
    "history": "The latest runs: profile, status, counts; a run's object errors, filterable.",
    "migrate": "Move an Entra Connect Sync configuration to hybridsync; verify it in staging.",
    "init": "Write a commented hybridsync.toml (AD to the cloud directory or Entra ID).",
    "phs": "Password hash synchronization (every 2 minutes by default).",
    "plan": "Every add, update and delete the next export would make, attribute by attribute.",
    "preview": (
        "Preview one object: rules in scope, join, metaverse and target values with lineage."
    ),
    "run": "Run a sync cycle, or one run profile of one connector.",
    "scheduler": "Run a delta cycle every interval until SIGTERM; full runs when rules changed.",
    "serve": "Run the sync service: AD changes reach the cloud as they happen, until SIGTERM.",
    "status": (
        "Connectors, their last runs, pending exports, staging mode, thresholds, due full runs."
    ),
    "sync": "Sync one object now (DN, UPN or anchor): import, scope and join, metaverse, export.",
}
"""Each command's one-line summary, as its module defines it (a test keeps them equal):
``hybridsync --help`` lists them without importing every command's module."""


ARGUMENTS = "hybridsync.arguments"
"""``ctx.meta`` key: the command line after the root's own options."""


class LazyCommands(TyperGroup):
    """The root group: lists every command, imports a command's module on first use."""

    _summarizing = False
    context_class = PlainHelpContext

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        for param in self.params:  # --log-format, --log-level, completion flags
            taken_as_given(param)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def invoke(self, ctx: Any) -> Any:
        # The root callback runs after the group consumed the command line: keep it.
        ctx.meta[ARGUMENTS] = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        return super().invoke(ctx)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._summarizing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._summarizing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._summarizing and cmd_name not in self.commands and cmd_name in COMMAND_SUMMARIES:
            # Listed in the root help only: a summary stands in for the whole command.
            return TyperCommand(cmd_name, help=COMMAND_SUMMARIES[cmd_name])
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


HELP_FLAGS = frozenset({"--help", "-h"})
LOGS_ON_DEMAND = frozenset({"status"})
"""Commands that read the local store and log nothing on their usual path: logging's
set-up (structlog and its renderers, a good part of their start-up) waits until one of
them goes further (:func:`start_logging`)."""
LOG_OPTIONS = "hybridsync.log_options"
"""``ctx.meta`` key: the log format and level, until logging is set up."""


def _asks_for_help(context: typer.Context) -> bool:
    """Whether the command line asks for a help screen, which logs nothing: logging's
    set-up is then skipped."""
    return bool(HELP_FLAGS & set(context.meta.get(ARGUMENTS, ())))


@app.callback()
def _root(
    context: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
    log_format: str = LogFormatOption,
    log_level: str = LogLevelOption,
) -> None:
    """Sync on-premises Active Directory into an Entra-compatible cloud directory."""
    if _asks_for_help(context):
        return
    if log_format not in ("text", "json"):
        typer.echo(f"--log-format: use text or json, not {log_format!r}", err=True)
        raise typer.Exit(3)
    if log_level.upper() not in getLevelNamesMapping():
        typer.echo(f"--log-level: unknown log level {log_level!r}", err=True)
        raise typer.Exit(3)
    context.meta[LOG_OPTIONS] = (log_format, log_level)
    if context.invoked_subcommand not in LOGS_ON_DEMAND:
        start_logging()


def start_logging() -> None:
    """Set logging up with the command line's options, once (nothing in a help screen)."""
    context = get_current_context(silent=True)
    options = None if context is None else context.find_root().meta.pop(LOG_OPTIONS, None)
    if options is None:
        return
    from hybridsync.cli.logging import configure_logging

    log_format, log_level = options
    configure_logging("json" if log_format == "json" else "text", log_level)


def load_all_commands() -> None:
    """Import every command's module (each adds its commands to ``app``)."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"hybridsync.cli.{module}")


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = [
    "COMMAND_MODULES",
    "COMMAND_SUMMARIES",
    "LazyCommands",
    "app",
    "load_all_commands",
    "main",
    "start_logging",
]
