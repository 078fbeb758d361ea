"""The operations console of ``hybridsync serve``: pages over the service and its store,
behind OpenID Connect sign-in (see docs/console.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybridsync.errors import ConfigError

if TYPE_CHECKING:
    from starlette.routing import Route

    from hybridsync.cli.admin.state import AdminState
    from hybridsync.config import Config

__all__ = ["console_of"]


def console_of(config: Config, state: AdminState, cycle_seconds: float) -> list[Route]:
    """The console's routes for the admin address; none when ``[console]`` is not set.

    Raises:
        ConfigError: the client secret file cannot be read.
    """
    settings = config.console
    if settings is None or not settings.enabled:
        return []
    from hybridsync.cli.console.app import console_routes, new_console
    from hybridsync.cli.console.data import open_reader

    secret = None
    if settings.client_secret_file is not None:
        path = config.path(settings.client_secret_file)
        try:
            secret = path.read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"[console] client_secret_file {path}: {exc.strerror}") from None
    if settings.ca_file is not None:
        settings = settings.model_copy(update={"ca_file": config.path(settings.ca_file)})
    console = new_console(settings, state, open_reader(config), secret, cycle_seconds)
    return console_routes(console)
