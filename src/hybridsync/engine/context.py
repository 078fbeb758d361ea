"""What every run needs: the store, the rules, the connectors and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hybridsync.core.ports import Connector
from hybridsync.core.rules import Direction, RuleSet, SyncRule
from hybridsync.core.schema import PERSON
from hybridsync.core.storage import Store
from hybridsync.engine.control import RunControl
from hybridsync.engine.settings import EngineSettings
from hybridsync.errors import ConfigError


@dataclass(slots=True)
class EngineContext:
    store: Store
    rules: RuleSet
    connectors: Mapping[str, Connector]
    settings: EngineSettings = field(default_factory=EngineSettings)
    control: RunControl = field(default_factory=RunControl)
    """Stop requests and progress callbacks, honoured at batch boundaries."""
    _parameters: dict[str, Mapping[str, str]] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    """Rules per connector, targets, multi-valued sets: asked for once per object."""

    def __post_init__(self) -> None:
        unknown = {rule.connector for rule in self.rules.rules} - set(self.connectors)
        if unknown:
            raise ConfigError(f"rules name connectors that are not configured: {sorted(unknown)}")
        inbound_mv = {
            clause.target_attribute
            for rule in self.rules.rules
            if rule.direction is Direction.INBOUND
            for group in rule.join
            for clause in group.clauses
        }
        self.store.set_indexed_attributes("mv", inbound_mv)
        for name in self.connectors:
            self.store.set_indexed_attributes(
                name,
                {
                    clause.target_attribute
                    for rule in self.rules.outbound(name)
                    for group in rule.join
                    for clause in group.clauses
                },
            )

    def connector(self, name: str) -> Connector:
        try:
            return self.connectors[name]
        except KeyError:
            raise ConfigError(f"no connector named {name!r}") from None

    def multi_valued(self, name: str) -> frozenset[str]:
        key = ("multi", name)
        if key not in self._cache:
            multi = (
                PERSON.multi_valued
                if name == "mv"
                else self.connector(name).capabilities.multi_valued
            )
            self._cache[key] = multi
        found: frozenset[str] = self._cache[key]
        return found

    def inbound(self, name: str) -> tuple[SyncRule, ...]:
        key = ("inbound", name)
        if key not in self._cache:
            self._cache[key] = self.rules.inbound(name)
        found: tuple[SyncRule, ...] = self._cache[key]
        return found

    def outbound(self, name: str) -> tuple[SyncRule, ...]:
        key = ("outbound", name)
        if key not in self._cache:
            self._cache[key] = self.rules.outbound(name)
        found: tuple[SyncRule, ...] = self._cache[key]
        return found

    def parameters(self, name: str) -> Mapping[str, str]:
        if name not in self._parameters:
            self._parameters[name] = dict(self.connector(name).parameters())
        return self._parameters[name]

    def targets(self) -> tuple[str, ...]:
        """Connectors with outbound rules, in configuration order."""
        key = ("targets", "")
        if key not in self._cache:
            wanted = set(self.rules.outbound_connectors())
            self._cache[key] = tuple(name for name in self.connectors if name in wanted)
        found: tuple[str, ...] = self._cache[key]
        return found

    def sources(self) -> tuple[str, ...]:
        targets = set(self.targets())
        return tuple(name for name in self.connectors if name not in targets)
