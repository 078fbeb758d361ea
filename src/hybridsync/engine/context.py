"""What every run needs: the store, the rules, the connectors and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hybridsync.core.compiled import CompiledRules, CompiledRuleSet
from hybridsync.core.ports import Connector
from hybridsync.core.rules import Direction, RuleSet
from hybridsync.core.schema import PERSON
from hybridsync.core.storage import Store
from hybridsync.core.storage_limits import NAME_CHARS
from hybridsync.engine.control import RunControl
from hybridsync.engine.latency import ChangeTimes
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
    change_times: ChangeTimes = field(default_factory=ChangeTimes)
    """When the changes the current cycle imported were made (for the latency metric)."""
    compiled: CompiledRuleSet = field(init=False)
    """The rules compiled once (scope selectors, flow plans), for every run of this engine."""
    _parameters: dict[str, Mapping[str, str]] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    """Rules per connector, targets, multi-valued sets: asked for once per object."""

    def __post_init__(self) -> None:
        too_long = sorted(name for name in self.connectors if len(name) > NAME_CHARS)
        if too_long:
            raise ConfigError(f"connector names longer than {NAME_CHARS} characters: {too_long}")
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
        self.compiled = CompiledRuleSet(self.rules, reference=self.settings.reference_evaluation)
        self.store.set_indexed_attributes("mv", inbound_mv)
        for name in self.connectors:
            self.store.set_indexed_attributes(
                name,
                {
                    clause.target_attribute
                    for rule in self.rules.outbound(name)
                    for group in rule.join
                    for clause in group.clauses
                }
                | self.references(name),
            )

    def connector(self, name: str) -> Connector:
        try:
            return self.connectors[name]
        except KeyError:
            raise ConfigError(f"no connector named {name!r}") from None

    def dn_referencing(self) -> frozenset[str]:
        """The connectors that name referenced objects by DN (``references_by_dn``)."""
        key = ("dn-referencing", "")
        if key not in self._cache:
            self._cache[key] = frozenset(
                name for name, connector in self.connectors.items()
                if connector.capabilities.references_by_dn
            )  # fmt: skip
        found: frozenset[str] = self._cache[key]
        return found

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

    def references(self, name: str) -> frozenset[str]:
        """The reference attributes of ``name`` its inbound rules read: resolved by a
        sync, and indexed, so that a sync finds who names an object."""
        key = ("references", name)
        if key not in self._cache:
            schema = {
                attribute.lower() for attribute in self.connector(name).capabilities.references
            }
            read = self.rules.source_attributes(name)
            self._cache[key] = frozenset(a for a in read if a.lower() in schema)
        found: frozenset[str] = self._cache[key]
        return found

    def inbound(self, name: str) -> CompiledRules:
        """``name``'s enabled inbound rules, compiled."""
        return self.compiled.inbound(name)

    def outbound(self, name: str) -> CompiledRules:
        """``name``'s enabled outbound rules, compiled."""
        return self.compiled.outbound(name)

    def membership_groups(self, name: str) -> frozenset[str]:
        """Lower-cased DNs of the groups ``name``'s inbound rules test membership of."""
        key = ("groups", name)
        if key not in self._cache:
            named = self.rules.membership_groups(name)
            self._cache[key] = frozenset(dn.lower() for dn in named)
        found: frozenset[str] = self._cache[key]
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
        """Connectors that feed the metaverse: those with inbound rules, and any that is
        not a target. A source with outbound rules of its own (the ConsistencyGuid
        write-back) is both."""
        targets = set(self.targets())
        feeding = {
            rule.connector for rule in self.rules.rules if rule.direction is Direction.INBOUND
        }
        return tuple(name for name in self.connectors if name in feeding or name not in targets)

    def run_order(self) -> tuple[str, ...]:
        """Import and sync order of a cycle: sources first, then the other targets."""
        sources = self.sources()
        return (*sources, *(name for name in self.targets() if name not in sources))
