"""Sync rules as values: scope, join, attribute flows, precedence.

Rules are built by ``hybridsync.config`` from TOML files; expressions arrive compiled,
behind the small :class:`Evaluator` Protocol, so this module stays independent of how
they were parsed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hybridsync.core.values import AttributeValue


class Direction(enum.Enum):
    """Which way a rule flows: from a connector space into the metaverse, or out of it."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class LinkType(enum.Enum):
    """How a rule links a connector-space object to a metaverse object."""

    JOIN = "Join"
    STICKY_JOIN = "StickyJoin"
    PROVISION = "Provision"
    JOIN_NO_FLOW = "JoinNoFlow"
    """Seen in exported default rules: joins, but contributes no attribute flow."""


KEEPS_MV_LINK_TYPES = frozenset({LinkType.PROVISION, LinkType.STICKY_JOIN})

SYNCED_OBJECT_TYPES = frozenset({"user", "group"})
"""Connector-space object types the connectors import and export. A rule for another
type (Connect's ``contact``, ``device``, ...) loads, but no object ever reaches it."""


def connector_object_type(direction: str, source_object_type: str, target_object_type: str) -> str:
    """The connector-space side of a rule: its source inbound, its target outbound."""
    return source_object_type if direction == Direction.INBOUND.value else target_object_type


def is_synced_object_type(object_type: str) -> bool:
    return object_type == "*" or object_type.lower() in SYNCED_OBJECT_TYPES


class ScopeOperator(enum.Enum):
    """How a scope clause compares an attribute with its value (Entra Connect's names)."""

    EQUAL = "EQUAL"
    NOTEQUAL = "NOTEQUAL"
    LESSTHAN = "LESSTHAN"
    LESSTHAN_OR_EQUAL = "LESSTHAN_OR_EQUAL"
    GREATERTHAN = "GREATERTHAN"
    GREATERTHAN_OR_EQUAL = "GREATERTHAN_OR_EQUAL"
    CONTAINS = "CONTAINS"
    NOTCONTAINS = "NOTCONTAINS"
    STARTSWITH = "STARTSWITH"
    NOTSTARTSWITH = "NOTSTARTSWITH"
    ENDSWITH = "ENDSWITH"
    NOTENDSWITH = "NOTENDSWITH"
    ISNULL = "ISNULL"
    ISNOTNULL = "ISNOTNULL"
    ISIN = "ISIN"
    ISNOTIN = "ISNOTIN"
    ISBITSET = "ISBITSET"
    ISNOTBITSET = "ISNOTBITSET"
    ISMEMBEROF = "ISMEMBEROF"
    ISNOTMEMBEROF = "ISNOTMEMBEROF"

    @classmethod
    def parse(cls, text: str) -> ScopeOperator:
        """The operator named ``text`` (any case), accepting the spellings seen in the wild."""
        name = text.strip().upper()
        return cls(OPERATOR_ALIASES.get(name, name))


OPERATOR_ALIASES = {"ISBITNOTSET": "ISNOTBITSET", "NOTSTARTWITH": "NOTSTARTSWITH"}
MEMBERSHIP_OPERATORS = frozenset({ScopeOperator.ISMEMBEROF, ScopeOperator.ISNOTMEMBEROF})
"""Their value is a group's DN; the clause's attribute is not read."""
MEMBER_ATTRIBUTE = "member"
"""Where a group of the connector space lists its direct members (ISMEMBEROF reads it)."""


class FlowType(enum.Enum):
    """Where a flow's value comes from."""

    DIRECT = "Direct"
    CONSTANT = "Constant"
    EXPRESSION = "Expression"


class MergeType(enum.Enum):
    """How the values of several rules flowing into one attribute are combined."""

    UPDATE = "Update"
    MERGE = "Merge"
    MERGE_CASE_INSENSITIVE = "MergeCaseInsensitive"
    REPLACE = "Replace"
    """Documented as "not used"; behaves as Update."""


class Evaluator(Protocol):
    """A compiled expression, as the expression language provides it."""

    @property
    def referenced_attributes(self) -> frozenset[str]: ...

    def evaluate(
        self,
        attributes: Mapping[str, Any],
        parameters: Mapping[str, Any] | None = None,
        imported: Mapping[str, Any] | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ScopeClause:
    """One condition of a scope group: ``attribute`` compared with ``value`` by ``operator``."""

    attribute: str
    operator: ScopeOperator
    value: str = ""


@dataclass(frozen=True, slots=True)
class ScopeGroup:
    """Clauses that must all hold (AND); a rule's groups are ORed."""

    clauses: tuple[ScopeClause, ...]


@dataclass(frozen=True, slots=True)
class JoinClause:
    """Source attribute (rule's source side) equals target attribute (the other side)."""

    source_attribute: str
    target_attribute: str
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class JoinGroup:
    """Clauses that must all match one object (AND); a rule tries its groups in order,
    and the first that finds exactly one object joins."""

    clauses: tuple[JoinClause, ...]


@dataclass(frozen=True, slots=True)
class AttributeFlow:
    """One transformation: a value for ``target`` from sources, a constant or an expression."""

    target: str
    flow_type: FlowType
    sources: tuple[str, ...] = ()
    constant: AttributeValue | None = None
    expression: Evaluator | None = None
    expression_text: str = ""
    apply_once: bool = False
    merge_type: MergeType = MergeType.UPDATE
    allowed_values: tuple[str, ...] = ()
    """When set, values are matched case-insensitively against these and written in
    this spelling; any other value is an error on the object (userType: Member/Guest)."""


@dataclass(frozen=True, slots=True)
class SyncRule:
    """One declarative sync rule (Entra Connect's anatomy, as text)."""

    name: str
    direction: Direction
    connector: str
    source_object_type: str
    target_object_type: str
    link_type: LinkType
    precedence: int
    description: str = ""
    disabled: bool = False
    scope: tuple[ScopeGroup, ...] = ()
    join: tuple[JoinGroup, ...] = ()
    flows: tuple[AttributeFlow, ...] = ()
    password_sync: bool = False
    from_targets: bool = False
    """Inbound: also flows values from objects an outbound rule provisioned (their link
    stays the outbound rule's): a shadow account's DN and SID, written back."""
    origin: str = ""
    """Where the rule was defined (file, or ``builtin``), for messages."""

    @property
    def joins(self) -> bool:
        """Whether the rule has join clauses (only one such rule may be in scope)."""
        return bool(self.join)

    @property
    def links(self) -> bool:
        """Whether the rule can create or keep a link (join clauses or projection)."""
        return self.joins or self.link_type is LinkType.PROVISION

    @property
    def flows_attributes(self) -> bool:
        return self.link_type is not LinkType.JOIN_NO_FLOW

    def applies_to(self, object_type: str) -> bool:
        wanted = self.source_object_type
        return wanted == "*" or wanted.lower() == object_type.lower()


ENGINE_SUPPLIED = frozenset({"dn"})
"""Attributes the engine gives inbound rules itself (``[dn]``, the object's DN)."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """All rules, sorted by precedence (then name, so ties are decided the same way always)."""

    rules: tuple[SyncRule, ...]
    content_hash: str = ""

    @classmethod
    def of(cls, rules: tuple[SyncRule, ...] | list[SyncRule], content_hash: str = "") -> RuleSet:
        ordered = tuple(sorted(rules, key=lambda rule: (rule.precedence, rule.name)))
        return cls(ordered, content_hash)

    def inbound(self, connector: str) -> tuple[SyncRule, ...]:
        """The enabled rules from ``connector`` into the metaverse, by precedence."""
        return self._enabled(Direction.INBOUND, connector)

    def outbound(self, connector: str) -> tuple[SyncRule, ...]:
        """The enabled rules from the metaverse into ``connector``, by precedence."""
        return self._enabled(Direction.OUTBOUND, connector)

    def _enabled(self, direction: Direction, connector: str) -> tuple[SyncRule, ...]:
        return tuple(
            rule
            for rule in self.rules
            if rule.direction is direction and rule.connector == connector and not rule.disabled
        )

    def source_attributes(self, connector: str) -> frozenset[str]:
        """What the inbound rules of ``connector`` read: scope, join and flow sources
        (expressions' ``[attribute]`` references included; the groups' ``member`` for a
        membership clause), so the connector imports them."""
        names: set[str] = set()
        for rule in self.inbound(connector):
            for group in rule.scope:
                for c in group.clauses:
                    membership = c.operator in MEMBERSHIP_OPERATORS
                    names.add(MEMBER_ATTRIBUTE if membership else c.attribute)
            names.update(c.source_attribute for group in rule.join for c in group.clauses)
            names.update(source for flow in rule.flows for source in flow.sources)
        return frozenset(n for n in names if n.lower() not in ENGINE_SUPPLIED)

    def membership_groups(self, connector: str) -> frozenset[str]:
        """The DNs of the groups the inbound rules of ``connector`` test membership of."""
        return frozenset(
            clause.value
            for rule in self.inbound(connector)
            for group in rule.scope
            for clause in group.clauses
            if clause.operator in MEMBERSHIP_OPERATORS
        )

    def outbound_connectors(self) -> tuple[str, ...]:
        seen = dict.fromkeys(
            rule.connector
            for rule in self.rules
            if rule.direction is Direction.OUTBOUND and not rule.disabled
        )
        return tuple(seen)

    def by_name(self, name: str) -> SyncRule | None:
        return next((rule for rule in self.rules if rule.name == name), None)
