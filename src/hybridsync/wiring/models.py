"""Each connector's config model as the engine gets it: validated against its type, its
paths relative to the configuration file, its attribute list completed with what the
rules read. Nothing here connects, and only what asks for it imports a connector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hybridsync.config import Config, load_config
from hybridsync.core.ports import attribute_hash
from hybridsync.core.rules import RuleSet
from hybridsync.wiring.registry import CONNECTOR_MODELS, CONNECTOR_TYPES, build_connector
from hybridsync.wiring.registry import connector_config as validated


def load_config_file(path: Path) -> Config:
    """The configuration file, with every connector entry checked against its type:
    one error lists every problem of the file."""
    return load_config(path, CONNECTOR_MODELS)


def with_paths(config: Config, model: BaseModel) -> BaseModel:
    updates: dict[str, Any] = {}
    for field, value in model:
        if isinstance(value, Path) and not value.is_absolute():
            updates[field] = config.path(value)
    return model.model_copy(update=updates) if updates else model


def lists_attributes(model: BaseModel) -> bool:
    """Whether the connector imports only the attributes it lists (``None``: all)."""
    return isinstance(getattr(model, "attributes", None), tuple)


def with_rule_attributes(model: BaseModel, rules: RuleSet) -> BaseModel:
    """A connector with an attribute inclusion list also imports what its inbound rules
    read; a list of ``None`` (everything) stays as it is."""
    listed = getattr(model, "attributes", None)
    name = getattr(model, "name", None)
    if not isinstance(listed, tuple) or not isinstance(name, str):
        return model
    known = {attribute.lower() for attribute in listed}
    extra = sorted(a for a in rules.source_attributes(name) if a.lower() not in known)
    return model.model_copy(update={"attributes": (*listed, *extra)}) if extra else model


def connector_model(config: Config, entry: dict[str, Any], rules: RuleSet) -> BaseModel:
    entry = {**entry, **config.connector_additions(entry)}
    return with_rule_attributes(with_paths(config, validated(entry)), rules)


def attribute_hashes(config: Config) -> dict[str, str]:
    """Each connector's attribute-list hash, as its next import would record it.

    Only a connector whose type keeps an attribute list is built (without connecting),
    and the rules are compiled only when a connector lists its attributes: the others
    import every attribute, whatever the rules read.
    """
    hashes: dict[str, str] = {}
    rules: RuleSet | None = None
    for entry in config.connectors:
        model = with_paths(config, validated({**entry, **config.connector_additions(entry)}))
        name = str(model.model_dump()["name"])
        if not CONNECTOR_TYPES[str(entry["type"])].lists_attributes:
            hashes[name] = attribute_hash(None)
            continue
        if lists_attributes(model):
            rules = rules if rules is not None else config.rule_set()
            model = with_rule_attributes(model, rules)
        connector = build_connector(model)
        hashes[name] = attribute_hash(connector)
        close = getattr(connector, "close", None)
        if callable(close):
            close()
    return hashes


__all__ = [
    "attribute_hashes",
    "connector_model",
    "lists_attributes",
    "load_config_file",
    "with_paths",
    "with_rule_attributes",
]
