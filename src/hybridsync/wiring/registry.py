"""Connector types: type name -> (config model, factory). Add a connector here.

A new connector type is one entry: its pydantic config model (with a ``name`` and a
``type`` literal) and a factory building the connector from a validated config. The
factory imports the connector's package lazily, so an optional dependency (python-ldap
for ``ad``) is needed only when that type is configured.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from hybridsync.core.ports import Connector
from hybridsync.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ConnectorType:
    """Where a connector type's config model and class live (``module:attribute``)."""

    config_model: str
    factory: str
    lists_attributes: bool = False
    """Whether its connectors have an ``attribute_list`` (an inclusion list whose
    change asks for a full import); the others import every attribute."""

    def model(self) -> type[BaseModel]:
        loaded: type[BaseModel] = _load(self.config_model)
        return loaded

    def build(self, config: BaseModel) -> Connector:
        factory: Callable[[BaseModel], Connector] = _load(self.factory)
        return factory(config)


CONNECTOR_TYPES: dict[str, ConnectorType] = {
    "ldif": ConnectorType(
        "hybridsync.connectors.ldif:LdifConfig",
        "hybridsync.connectors.ldif:LdifSource",
        lists_attributes=True,
    ),
    "graph": ConnectorType(
        "hybridsync.connectors.graph:GraphConfig", "hybridsync.connectors.graph:GraphConnector"
    ),
    "recording": ConnectorType(
        "hybridsync.connectors.recording:RecordingConfig",
        "hybridsync.connectors.recording:RecordingTarget",
    ),
    "ad": ConnectorType(
        "hybridsync.connectors.ad:ADConfig",
        "hybridsync.connectors.ad:build_ad_connector",
        lists_attributes=True,
    ),
    "embedded-cloud": ConnectorType(
        "hybridsync.wiring.embedded_config:EmbeddedCloudConfig",
        "hybridsync.wiring.embedded:build_embedded_cloud",
    ),
}


CONNECTOR_MODELS = {name: kind.model for name, kind in CONNECTOR_TYPES.items()}
"""Each type's config model loader, for checking a whole configuration file at once."""


def _load(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def connector_config(entry: Mapping[str, Any], base_dir: Any = None) -> BaseModel:
    """Validate one ``[[connectors]]`` entry against its type's model."""
    kind = entry.get("type")
    name = entry.get("name", "?")
    if kind not in CONNECTOR_TYPES:
        known = ", ".join(sorted(CONNECTOR_TYPES))
        raise ConfigError(f"connector {name!r}: unknown type {kind!r} (known: {known})")
    try:
        return CONNECTOR_TYPES[kind].model().model_validate(dict(entry))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"connector {name!r}: field {field}: {first['msg']}") from exc


def build_connector(config: BaseModel) -> Connector:
    kind = str(config.model_dump().get("type"))
    return CONNECTOR_TYPES[kind].build(config)
