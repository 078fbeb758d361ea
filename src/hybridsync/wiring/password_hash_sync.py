"""The composition root of password hash sync: configuration -> ``PasswordHashSync``.

Built beside the engine (``wiring.build``): the AD connector's settings give the change
feed, ``[password_hash_sync]`` the DRSR reader, the cloud connector's settings the
uploader, and the engine's store keeps the runner's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from hybridsync.config import Config
from hybridsync.config.password_hash_sync import PasswordHashSyncConfig
from hybridsync.engine.password_hash_sync import PasswordHashSync
from hybridsync.errors import ConfigError
from hybridsync.wiring.build import Built
from hybridsync.wiring.models import with_paths
from hybridsync.wiring.registry import connector_config

__all__ = ["password_sync_config", "password_sync_from"]


def password_sync_config(config: Config) -> PasswordHashSyncConfig:
    """The enabled ``[password_hash_sync]`` section, or a configuration error."""
    phs = config.password_hash_sync
    if phs is None or not phs.enabled:
        raise ConfigError("password hash sync is not enabled: add [password_hash_sync]")
    return phs


def _entry(config: Config, name: str, wanted: str) -> dict[str, object]:
    for entry in config.connectors:
        if entry.get("name") == name:
            if entry.get("type") != wanted:
                raise ConfigError(
                    f"[password_hash_sync]: connector {name} is of type "
                    f"{entry.get('type')!r}, expected {wanted!r}"
                )
            return dict(entry)
    raise ConfigError(f"[password_hash_sync]: no connector named {name}")


@contextmanager
def password_sync_from(built: Built) -> Iterator[PasswordHashSync]:
    """The runner for a built engine; its connections close when the block ends."""
    from hybridsync.connectors.ad.password_hash_sync import ADPasswordChangeFeed
    from hybridsync.connectors.ad.settings import ADSettings
    from hybridsync.connectors.drsr import DrsrHashReader, DrsrSettings, password_from
    from hybridsync.connectors.graph.password_hash_sync import PasswordHashUploader

    config = built.config
    phs = password_sync_config(config)
    ad_config = with_paths(config, connector_config(_entry(config, phs.source, "ad")))
    ad_settings = ADSettings.model_validate(ad_config.model_dump(exclude={"type", "name"}))
    graph_config = with_paths(config, connector_config(_entry(config, phs.target, "graph")))
    password_file = config.path(phs.password_file) if phs.password_file else None
    drsr = DrsrSettings.model_validate(
        {
            "host": phs.dc_host,
            "domain": phs.domain,
            "username": phs.username,
            "password": password_from(env=phs.password_env, file=password_file),
            "timeout": phs.timeout_seconds,
            "extended_operation": phs.extended_operation,
        }
    )
    with ExitStack() as stack:
        feed = ADPasswordChangeFeed(ad_settings)
        stack.callback(feed.close)
        uploader = stack.enter_context(PasswordHashUploader(graph_config))  # type: ignore[arg-type]
        reader = DrsrHashReader(drsr)  # opens its session on the first read
        stack.callback(reader.close)
        yield PasswordHashSync(
            source=phs.source,
            target=phs.target,
            rules=built.engine.context.rules,
            store=built.store,
            state_store=built.store,
            feed=feed,
            hashes=reader,
            upload=uploader,
            staging_mode=built.engine.context.settings.staging_mode,
        )
