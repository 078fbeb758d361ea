"""The composition root: builds an engine from configuration."""

from __future__ import annotations

from hybridsync.wiring.build import Built, build, build_from_file
from hybridsync.wiring.models import load_config_file
from hybridsync.wiring.registry import CONNECTOR_TYPES, ConnectorType

__all__ = [
    "CONNECTOR_TYPES",
    "Built",
    "ConnectorType",
    "build",
    "build_from_file",
    "load_config_file",
]
