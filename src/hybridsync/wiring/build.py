"""The composition root: configuration -> store, connectors, rules -> Engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hybridsync.config import Config, StoreConfig
from hybridsync.core.ports import Connector
from hybridsync.core.rules import RuleSet, SyncRule, connector_object_type
from hybridsync.wiring.models import connector_model, load_config_file, with_paths
from hybridsync.wiring.registry import build_connector

if TYPE_CHECKING:  # imported when an engine is built: reading a configuration needs neither
    from hybridsync.core.storage import Store
    from hybridsync.engine import Engine, EngineSettings
    from hybridsync.store import SqlStore


@dataclass(slots=True)
class Built:
    engine: Engine
    store: Store
    connectors: dict[str, Connector]
    config: Config

    def close(self) -> None:
        self.close_connectors(self.connectors)
        self.store.close()

    @staticmethod
    def close_connectors(connectors: dict[str, Connector]) -> None:
        for connector in connectors.values():
            close = getattr(connector, "close", None)
            if callable(close):
                close()


def settings_of(config: Config) -> EngineSettings:
    from hybridsync.engine import EngineSettings

    safety = config.safety
    return EngineSettings(
        deletion_threshold=safety.deletion_threshold,
        deletion_threshold_percent=safety.deletion_threshold_percent,
        deletion_window_seconds=(
            None if safety.deletion_window_minutes is None else safety.deletion_window_minutes * 60
        ),
        import_guard_percent=safety.import_guard_percent,
        import_guard_min_objects=safety.import_guard_min_objects,
        staging_mode=config.staging_mode,
        error_limit=safety.error_limit,
        batch_size=safety.batch_size,
        filter_groups=config.filter_groups(),
    )


def open_store(config: Config) -> SqlStore:
    """The configured store, opened and migrated: a SQLite file or a PostgreSQL database."""
    settings = with_paths(config, config.store)
    assert isinstance(settings, StoreConfig)
    if settings.url is None:
        from hybridsync.store.sqlite import open_sqlite

        assert settings.path is not None
        return open_sqlite(settings.path)
    from hybridsync.store.postgres import open_postgresql

    return open_postgresql(settings.url, password=settings.password(), ca_file=settings.ca_file)


def build(config: Config, *, staging_mode: bool | None = None, store: Store | None = None) -> Built:
    """The engine of ``config``, on ``store`` when given (then ``config.store`` is unused;
    tests give a :class:`~hybridsync.store.MemoryStore`), else on the configured store."""
    from hybridsync.engine import Engine, EngineContext

    rules = config.rule_set()
    connectors: dict[str, Connector] = {}
    for entry in config.connectors:
        model = connector_model(config, entry, rules)
        connectors[str(model.model_dump()["name"])] = build_connector(model)
    try:
        store = store if store is not None else open_store(config)
    except BaseException:
        Built.close_connectors(connectors)
        raise
    rules = for_declared_types(rules, connectors)
    settings = settings_of(config)
    if staging_mode is not None:
        settings = replace(settings, staging_mode=staging_mode)
    context = EngineContext(store, rules, connectors, settings)
    return Built(Engine(context), store, connectors, config)


def for_declared_types(rules: RuleSet, connectors: Mapping[str, Connector]) -> RuleSet:
    """The rules without those for an object type their connector does not declare
    (``Capabilities.object_types``): a target that takes users only is never sent the
    groups of the built-in rules, a source reading users only never asked for groups."""
    kept = tuple(rule for rule in rules.rules if _declared(rule, connectors))
    return rules if len(kept) == len(rules.rules) else replace(rules, rules=kept)


def _declared(rule: SyncRule, connectors: Mapping[str, Connector]) -> bool:
    connector = connectors.get(rule.connector)
    if connector is None:
        return True
    kind = connector_object_type(
        rule.direction.value, rule.source_object_type, rule.target_object_type
    )
    declared = {name.lower() for name in connector.capabilities.object_types}
    return kind == "*" or kind.lower() in declared


def build_from_file(
    path: Path, *, staging_mode: bool | None = None, store_file: Path | None = None
) -> Built:
    """The engine of the configuration at ``path``; on the SQLite file ``store_file``
    instead of the configured store when given (``migrate verify`` keeps its own)."""
    config = load_config_file(path)
    if store_file is None:
        return build(config, staging_mode=staging_mode)
    from hybridsync.store.sqlite import open_sqlite

    return build(config, staging_mode=staging_mode, store=open_sqlite(store_file))
