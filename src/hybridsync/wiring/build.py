"""The composition root: configuration -> store, connectors, rules -> Engine."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hybridsync.config import Config, StoreConfig, load_config
from hybridsync.core.ports import Connector
from hybridsync.core.rules import RuleSet
from hybridsync.core.storage import Store
from hybridsync.engine import Engine, EngineContext, EngineSettings
from hybridsync.store import SqlStore, open_sqlite
from hybridsync.store.postgres import open_postgresql
from hybridsync.wiring.registry import CONNECTOR_MODELS, build_connector, connector_config


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
    safety = config.safety
    return EngineSettings(
        deletion_threshold=safety.deletion_threshold,
        deletion_threshold_percent=safety.deletion_threshold_percent,
        import_guard_percent=safety.import_guard_percent,
        import_guard_min_objects=safety.import_guard_min_objects,
        staging_mode=config.staging_mode,
        error_limit=safety.error_limit,
        batch_size=safety.batch_size,
    )


def _with_paths(config: Config, model: BaseModel) -> BaseModel:
    updates: dict[str, Any] = {}
    for field, value in model:
        if isinstance(value, Path) and not value.is_absolute():
            updates[field] = config.path(value)
    return model.model_copy(update=updates) if updates else model


def _with_rule_attributes(model: BaseModel, rules: RuleSet) -> BaseModel:
    """A connector with an attribute inclusion list also imports what its inbound rules
    read; a list of ``None`` (everything) stays as it is."""
    listed = getattr(model, "attributes", None)
    name = getattr(model, "name", None)
    if not isinstance(listed, tuple) or not isinstance(name, str):
        return model
    known = {attribute.lower() for attribute in listed}
    extra = sorted(a for a in rules.source_attributes(name) if a.lower() not in known)
    return model.model_copy(update={"attributes": (*listed, *extra)}) if extra else model


def open_store(config: Config) -> SqlStore:
    """The configured store, opened and migrated: a SQLite file or a PostgreSQL database."""
    settings = _with_paths(config, config.store)
    assert isinstance(settings, StoreConfig)
    if settings.url is None:
        assert settings.path is not None
        return open_sqlite(settings.path)
    return open_postgresql(settings.url, password=settings.password(), ca_file=settings.ca_file)


def build(config: Config, *, staging_mode: bool | None = None, store: Store | None = None) -> Built:
    """The engine of ``config``, on ``store`` when given (then ``config.store`` is unused;
    tests give a :class:`~hybridsync.store.MemoryStore`), else on the configured store."""
    rules = config.rule_set()
    connectors: dict[str, Connector] = {}
    for entry in config.connectors:
        model = _with_rule_attributes(_with_paths(config, connector_config(entry)), rules)
        connectors[str(model.model_dump()["name"])] = build_connector(model)
    try:
        store = store if store is not None else open_store(config)
    except BaseException:
        Built.close_connectors(connectors)
        raise
    settings = settings_of(config)
    if staging_mode is not None:
        settings = replace(settings, staging_mode=staging_mode)
    context = EngineContext(store, rules, connectors, settings)
    return Built(Engine(context), store, connectors, config)


def load_config_file(path: Path) -> Config:
    """The configuration file, with every connector entry checked against its type:
    one error lists every problem of the file."""
    return load_config(path, CONNECTOR_MODELS)


def build_from_file(path: Path, *, staging_mode: bool | None = None) -> Built:
    return build(load_config_file(path), staging_mode=staging_mode)
