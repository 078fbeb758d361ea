"""``hybridsync serve``: the sync service, the production way to run hybridsync.

It does what ``scheduler`` does (the first cycle, complete delta cycles on a schedule,
full runs when rules change, password hash sync, the store's sync lock, SIGTERM) and
keeps its engine open between changes, so that an AD change reaches the cloud in one
small cycle instead of at the next tick (see ``engine.service``).

The configuration and its rule files are watched: when one changes, the service closes
its engine and builds a new one from them, and the engine runs the full sync the new
rules need. A configuration that no longer loads keeps the running one, and says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hybridsync.cli import app, exit_codes
from hybridsync.cli.cycles import (
    PHS_STOP_SECONDS,
    build_from_file,
    cycle_kind,
    log_cycle,
    logger,
    parse_interval,
)
from hybridsync.cli.failures import Failure, reported
from hybridsync.cli.password_hash_sync import start_phs_thread
from hybridsync.cli.runlock import run_lock
from hybridsync.cli.stopping import stopped_by_signals
from hybridsync.cli.sync import ConfigOption, config_path
from hybridsync.errors import HybridsyncError

if TYPE_CHECKING:
    from hybridsync.cli.admin.settings import AdminSettings
    from hybridsync.cli.admin.state import AdminState
    from hybridsync.engine.report import CycleReport
    from hybridsync.engine.service import ServiceSettings
    from hybridsync.wiring import Built


def _log() -> Any:
    return logger("serve")


DELETION_WINDOW = 3600.0
"""Seconds over which the service counts exported deletes against the threshold, unless
``[safety] deletion_window_minutes`` is set."""

PollOption = typer.Option(
    "5s",
    "--poll",
    envvar="HYBRIDSYNC_SERVE_POLL",
    help="How often a source that cannot announce changes is checked, e.g. 5s or 1m.",
)
CycleOption = typer.Option(
    "1m",
    "--cycle",
    envvar="HYBRIDSYNC_SERVE_CYCLE",
    help="Time between complete delta cycles (the cloud's changes, confirmations), e.g. 1m.",
)

AdminOption = typer.Option(
    "127.0.0.1:8765",
    "--admin",
    envvar="HYBRIDSYNC_SERVE_ADMIN",
    help="HOST:PORT of the admin API, metrics and health checks, or 'off'. An address "
    "other than loopback needs --admin-cert, --admin-key and a token.",
)
AdminCertOption = typer.Option(
    None,
    "--admin-cert",
    envvar="HYBRIDSYNC_SERVE_ADMIN_CERT",
    help="PEM certificate (chain) the admin address serves HTTPS with.",
)
AdminKeyOption = typer.Option(
    None,
    "--admin-key",
    envvar="HYBRIDSYNC_SERVE_ADMIN_KEY",
    help="PEM private key of --admin-cert.",
)
AdminTokenFileOption = typer.Option(
    None,
    "--admin-token-file",
    envvar="HYBRIDSYNC_SERVE_ADMIN_TOKEN_FILE",
    help="File holding the bearer token the API and /metrics require "
    "(or set HYBRIDSYNC_SERVE_ADMIN_TOKEN).",
)
ConsoleOption = typer.Option(
    "admin",
    "--console",
    envvar="HYBRIDSYNC_SERVE_CONSOLE",
    help="Where the web console ([console] in the configuration) is served: 'admin' (the "
    "admin address, under /console/) or HOST:PORT of its own, over HTTPS with --admin-cert "
    "and --admin-key (required beyond loopback).",
)


@app.command("serve")
def serve(
    config: Path | None = ConfigOption,
    poll: str = PollOption,
    cycle: str = CycleOption,
    admin: str = AdminOption,
    admin_cert: Path | None = AdminCertOption,
    admin_key: Path | None = AdminKeyOption,
    admin_token_file: Path | None = AdminTokenFileOption,
    console: str = ConsoleOption,
) -> None:
    """Run the sync service: AD changes reach the cloud as they happen, until SIGTERM.

    The admin address answers /healthz, /readyz, /metrics and the /api routes
    (see docs/operations.md).
    """
    from hybridsync.cli.admin.settings import admin_settings, console_settings
    from hybridsync.engine.service import ServiceSettings

    try:
        settings = ServiceSettings(poll_seconds=parse_interval(poll),
                                   cycle_seconds=parse_interval(cycle))  # fmt: skip
    except ValueError as exc:
        typer.echo(f"--poll/--cycle: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    path = config_path(config)
    with reported(Failure(HybridsyncError, "configuration error", exit_codes.CONFIG_ERROR)):
        listen = admin_settings(admin, admin_cert, admin_key, admin_token_file)
        own_console = console_settings(console, admin_cert, admin_key)
        built = build_from_file(path)
    if built.config.console is not None and built.config.console.enabled:
        # Exports wait for an operator's approval in the console.
        settings = replace(settings, export=not built.config.console.exports_wait_for_approval)
    stop = threading.Event()
    admin_server = _admin_server(listen, own_console, built, settings.cycle_seconds)
    with stopped_by_signals(stop, name="serve"), admin_server as state:
        phs = start_phs_thread(path, stop, observer=None if state is None else state.metrics)
        _log().info(
            "serve.started",
            config=str(path),
            phs_enabled=phs is not None,
            poll_seconds=settings.poll_seconds,
            cycle_seconds=settings.cycle_seconds,
        )
        _serve(path, built, settings, stop, state)
        stop.set()
        if phs is not None:
            phs.join(PHS_STOP_SECONDS)
    _log().info("serve.stopped")


@contextmanager
def _admin_server(
    listen: AdminSettings | None,
    own_console: AdminSettings | None,
    built: Built,
    cycle_seconds: float,
) -> Iterator[AdminState | None]:
    """The admin server (and the console's own, with ``--console HOST:PORT``) for the
    service's lifetime (``None``: ``--admin off``, which turns the console off too)."""
    if listen is None:
        yield None
        return
    from hybridsync.cli.admin.server import AdminServer
    from hybridsync.cli.admin.state import AdminState
    from hybridsync.cli.console import console_of

    state = AdminState()
    state.attach(None, built)
    servers: list[AdminServer] = []
    try:
        pages = console_of(built.config, state, cycle_seconds)
        server = AdminServer(listen, state, [] if own_console else pages)
        server.start()
        servers.append(server)
        if own_console is not None and pages:
            server = AdminServer(own_console, state, pages, api=False)
            server.start()
            servers.append(server)
    except HybridsyncError as exc:
        for started in servers:
            started.stop()
        built.close()
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
    _log().info("serve.admin_listening", url=servers[0].url, tls=listen.tls,
                token_required=listen.token is not None)  # fmt: skip
    if len(servers) > 1:
        _log().info("serve.console_listening", url=f"{servers[1].url}/console/")
    try:
        yield state
    finally:
        for server in servers:
            server.stop()


def _serve(
    path: Path,
    built: Built,
    settings: ServiceSettings,
    stop: threading.Event,
    admin: AdminState | None,
) -> None:
    """One service per engine; a changed configuration builds the next engine."""
    from hybridsync.engine.service import SyncService

    while True:
        _count_deletes_over_a_window(built)
        watched = _Watched(path, built)
        service = SyncService(
            built.engine,
            settings,
            stop,
            first_cycle=cycle_kind(built),
            guard=partial(_locked, built),
            restart=watched.changed,
            on_cycle=partial(_cycle_ended, admin),
            log=_emit,
        )
        built.engine.context.control.stop = stop
        if admin is not None:
            admin.attach(service, built)
        try:
            service.run()
        finally:
            if admin is not None:
                admin.attach(None, None)
            built.close()
        if stop.is_set():
            return
        built = _rebuilt(path, watched, stop)


def _count_deletes_over_a_window(built: Built) -> None:
    """Small cycles export a few changes each: unless the configuration says otherwise,
    the deletion threshold counts the deletes of the last hour, not of one export."""
    context = built.engine.context
    if built.config.safety.deletion_window_minutes is None:
        context.settings = replace(context.settings, deletion_window_seconds=DELETION_WINDOW)


def _cycle_ended(admin: AdminState | None, cycle: CycleReport) -> None:
    # Metrics first: a cycle's log event means its runs are counted and the readiness
    # updated (a watcher of the log may scrape at once).
    if admin is not None:
        admin.cycle_ended(cycle)
    log_cycle(_log(), cycle)


def _emit(event: str, level: str = "info", **fields: object) -> None:
    getattr(_log(), level)(event, **fields)


@contextmanager
def _locked(built: Built) -> Iterator[None]:
    with run_lock(built, "serve"):
        yield


def _rebuilt(path: Path, watched: _Watched, stop: threading.Event) -> Built:
    """The engine of the changed configuration; while it does not load, wait for the
    next change (the error is logged once per change)."""
    while True:
        try:
            built = build_from_file(path)
        except HybridsyncError as exc:
            _log().error("serve.configuration_error", error=str(exc), config=str(path))
            watched.wait_for_change(stop)
            if stop.is_set():
                raise typer.Exit(exit_codes.SUCCESS) from exc
            continue
        _log().info("serve.configuration_reloaded", config=str(path))
        return built


class _Watched:
    """The configuration file and its rule files, as they were when the engine was built."""

    def __init__(self, path: Path, built: Built) -> None:
        config = built.config
        self._files = [path, *(config.path(rules) for rules in config.rules)]
        self._seen = self._stamp()

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for file in self._files:
            try:
                stat = file.stat()
            except OSError:
                stamps.append(None)
                continue
            stamps.append((stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def changed(self) -> bool:
        return self._stamp() != self._seen

    def wait_for_change(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            if self.changed():
                self._seen = self._stamp()
                return
