"""The hybridsync configuration file (TOML) as a validated model."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hybridsync.config.console import ConsoleConfig
from hybridsync.config.group_filter import FilterConfig, group_filter_rules, normal_dn
from hybridsync.config.guests_to_ad import GuestsToAdConfig, guests_rule_source
from hybridsync.config.password_hash_sync import PasswordHashSyncConfig
from hybridsync.config.problems import (
    ConfigProblem,
    ConfigProblems,
    TomlPositions,
    dotted,
    nearest,
    problems_of,
)
from hybridsync.config.rule_model import RuleModel
from hybridsync.config.rules import (
    RuleSource,
    inert_rules,
    load_rules,
    rule_line,
    rules_content_hash,
)
from hybridsync.config.store import StoreConfig
from hybridsync.config.user_type import UserTypeConfig, user_type_rules
from hybridsync.core.rules import Direction, RuleSet
from hybridsync.core.storage_limits import reserved_space_name
from hybridsync.errors import ConfigError

GUEST_ANCHOR = "msDS-ExternalDirectoryObjectId"
"""The shadow account's anchor attribute (``User_<cloud object id>``), as Cloud Sync."""
AD_PASSWORD_ATTRIBUTES = frozenset({"unicodepwd", "userpassword", "password"})
"""Attributes no rule may flow to an AD connector (compared lowercased)."""


class BuiltinRules(BaseModel):
    """``[builtin_rules]``: the out-of-box AD-to-cloud rules between two connectors."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    source: str
    target: str


class SafetyConfig(BaseModel):
    """``[safety]``: see docs/operations.md."""

    model_config = ConfigDict(extra="forbid")
    deletion_threshold: int | None = Field(default=500, ge=0)
    deletion_threshold_percent: float | None = Field(default=None, ge=0, le=100)
    deletion_window_minutes: float | None = Field(default=None, ge=0)
    """Deletions exported in this many minutes count against the threshold too (``None``:
    each export on its own, as Entra Connect; ``hybridsync serve`` then uses 60)."""
    import_guard_percent: float = Field(default=50.0, ge=0, le=100)
    import_guard_min_objects: int = Field(default=20, ge=0)
    error_limit: int = Field(default=5000, ge=1)
    batch_size: int = Field(default=1000, ge=1)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: StoreConfig = Field(default_factory=lambda: StoreConfig(path=Path("hybridsync.db")))
    """A SQLite file's path or a PostgreSQL URL (a string), or a ``[store]`` table."""
    staging_mode: bool = False
    rules: list[Path] = Field(default_factory=list)
    builtin_rules: BuiltinRules | None = None
    user_type: UserTypeConfig | None = None
    filter: FilterConfig = Field(default_factory=FilterConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    password_hash_sync: PasswordHashSyncConfig | None = None
    console: ConsoleConfig | None = None
    guests_to_ad: GuestsToAdConfig | None = None
    connectors: list[dict[str, Any]] = Field(min_length=1)
    """Validated by wiring against the connector registry (type name -> model)."""

    base_dir: Path = Path(".")

    @field_validator("connectors")
    @classmethod
    def _no_reserved_name(cls, connectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, entry in enumerate(connectors):
            name = entry.get("name")
            if isinstance(name, str) and reserved_space_name(name):
                raise ValueError(
                    f"connectors[{index}].name = {name!r} is reserved (the store keeps the "
                    "metaverse under that name); give the connector another name"
                )
        return connectors

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.base_dir / value

    def store_file(self) -> Path | None:
        """The SQLite store's file; ``None`` for a PostgreSQL store."""
        return None if self.store.path is None else self.path(self.store.path)

    def rule_set(self) -> RuleSet:
        sources, extra = self._rule_sources()
        rules = load_rules(sources, extra)
        self._refuse_ad_passwords(rules, sources)
        return rules

    def _refuse_ad_passwords(self, rules: RuleSet, sources: list[RuleSource]) -> None:
        """An outbound flow to an AD password attribute is refused when the rules load:
        its value would be planned, staged and shown (``plan``, ``sync --json``) before
        the export could refuse it. The AD connector generates passwords itself."""
        ad = {entry.get("name") for entry in self.connectors if entry.get("type") == "ad"}
        texts = {source.origin: source.text for source in sources}
        for rule in rules.rules:
            if rule.direction is not Direction.OUTBOUND or rule.connector not in ad:
                continue
            for flow in rule.flows:
                if flow.target.lower() in AD_PASSWORD_ATTRIBUTES:
                    raise ConfigError(
                        f"rule {rule.name!r}: a flow to {flow.target} on the AD connector "
                        f"{rule.connector!r} is refused: a password never flows from a rule "
                        "(its value would be stored and shown); the connector generates it",
                        source=rule.origin,
                        line=rule_line(texts.get(rule.origin, ""), rule.name),
                    )

    def rules_hash(self) -> str:
        """:meth:`rule_set`'s content hash, without compiling a rule."""
        return rules_content_hash(*self._rule_sources())

    def inert_rules(self) -> dict[str, int]:
        """Rules for object types no connector syncs, by type: loaded, never applied."""
        return inert_rules(*self._rule_sources())

    def _rule_sources(self) -> tuple[list[RuleSource], list[RuleModel]]:
        """The rule files (built-in ones first) and the rules generated from settings."""
        sources = [RuleSource.from_path(self.path(p)) for p in self.rules]
        extra: list[RuleModel] = []
        if self.builtin_rules is not None and self.builtin_rules.enabled:
            sources.insert(
                0, builtin_rule_source(self.builtin_rules.source, self.builtin_rules.target)
            )
            if self.writes_back_consistency_guid():
                sources.insert(1, consistency_guid_rule_source(self.builtin_rules.source))
        if self.guests_to_ad is not None:
            ad, cloud = self.guest_connectors()
            sources.insert(0, guests_rule_source(self.guests_to_ad, ad, cloud))
        if self.user_type is not None:
            if self.builtin_rules is None:
                raise ConfigError(
                    "[user_type] needs [builtin_rules] (it names the AD and cloud connectors)"
                )
            extra = user_type_rules(
                self.user_type, self.builtin_rules.source, self.builtin_rules.target
            )
        if self.filter.group is not None:
            extra += group_filter_rules(self.filter, self._filtered_connector())
        return sources, extra

    def _filtered_connector(self) -> str:
        if self.builtin_rules is None:
            raise ConfigError("[filter] group needs [builtin_rules] (it names the AD connector)")
        source = self.builtin_rules.source
        for entry in self.connectors:
            types = entry.get("object_types")
            if entry.get("name") == source and isinstance(types, list) and "group" not in types:
                # Without groups the filtering group is never in the connector space: every
                # run would stop as if it were misspelled or deleted.
                raise ConfigError(
                    f"[filter] group needs the connector {source!r} to import groups, but its "
                    f'object_types = {types}: add "group" to object_types'
                )
        return source

    def filter_groups(self) -> dict[str, str]:
        """``[filter] group`` as connector name -> group DN (empty when unset)."""
        if self.filter.group is None:
            return {}
        return {self._filtered_connector(): self.filter.group}

    def guest_connectors(self) -> tuple[str, str]:
        """``[guests_to_ad]``'s AD and cloud connector names (``[builtin_rules]``'s by
        default)."""
        guests = self.guests_to_ad
        assert guests is not None
        builtin = self.builtin_rules
        ad = guests.ad or (builtin.source if builtin else None)
        cloud = guests.cloud or (builtin.target if builtin else None)
        if ad is None or cloud is None:
            raise ConfigError(
                "[guests_to_ad] needs ad = and cloud = (the connectors' names), or "
                "[builtin_rules] to name them"
            )
        return ad, cloud

    def connector_additions(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """What ``[guests_to_ad]`` adds to a connector's entry: the AD connector reads
        the shadow accounts' anchor; the cloud connector imports cloud guests."""
        if self.guests_to_ad is None:
            return {}
        ad, cloud = self.guest_connectors()
        if entry.get("name") == ad:
            listed = list(entry.get("attributes") or [])
            return {"attributes": [*listed, GUEST_ANCHOR]}
        if entry.get("name") == cloud:
            return {"cloud_guests": {"group": self.guests_to_ad.group}}
        return {}

    def writes_back_consistency_guid(self) -> bool:
        """Whether the built-in rules' AD connector has ``write_back_consistency_guid``
        on: the one switch of the write-back (connector and rule)."""
        if self.builtin_rules is None:
            return False
        return any(
            entry.get("name") == self.builtin_rules.source
            and entry.get("type") == "ad"
            and entry.get("write_back_consistency_guid") is True
            for entry in self.connectors
        )


def builtin_rule_source(source: str, target: str) -> RuleSource:
    text = (
        resources.files("hybridsync.config").joinpath("builtin/ad-to-cloud.toml").read_text("utf-8")
    )
    text = text.replace("{source}", source).replace("{target}", target)
    return RuleSource("builtin:ad-to-cloud.toml", text)


def consistency_guid_rule_source(source: str) -> RuleSource:
    """ "Out to AD - User ImmutableId", for the AD connector named ``source``."""
    text = (
        resources.files("hybridsync.config")
        .joinpath("builtin/ad-consistency-guid.toml")
        .read_text("utf-8")
    )
    return RuleSource("builtin:ad-consistency-guid.toml", text.replace("{source}", source))


ConnectorModels = Mapping[str, Callable[[], type[BaseModel]]]
"""A connector type's name -> what loads its config model. The registry lives above
this layer (wiring), so it is passed in."""


def load_config(path: Path, connector_models: ConnectorModels | None = None) -> Config:
    """Read and validate a configuration file; relative paths are relative to it.

    With ``connector_models``, every ``[[connectors]]`` entry is validated too, so that
    one error lists every problem of the file.

    Raises:
        ConfigError: the file cannot be read or is not TOML.
        ConfigProblems: every problem found, each with its line and column.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot read the configuration: {reason}", source=source) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from None
    positions = TomlPositions(text)
    problems: list[ConfigProblem] = []
    config: Config | None = None
    try:
        config = Config.model_validate({**data, "base_dir": str(path.resolve().parent)})
    except ValidationError as exc:
        problems += problems_of(exc, Config, source=source, data=data, positions=positions)
    if connector_models is not None:
        problems += connector_problems(data, connector_models, source, positions)
    if config is not None and config.guests_to_ad is not None:
        problems += guests_problems(config, data, source, positions)
    if problems or config is None:
        raise ConfigProblems(problems)
    return config


def guests_problems(
    config: Config, data: dict[str, Any], source: str, positions: TomlPositions
) -> list[ConfigProblem]:
    """``[guests_to_ad]`` against the connectors: an AD connector exporting to an OU that
    holds the guests' OU, and a Graph connector."""
    guests = config.guests_to_ad
    assert guests is not None

    def problem(key: str, message: str) -> ConfigProblem:
        at = positions.find(("guests_to_ad", key))
        line, column = at if at is not None else (None, None)
        return ConfigProblem(source, f"guests_to_ad.{key}", message, line, column)

    try:
        ad, cloud = config.guest_connectors()
    except ConfigError as exc:
        return [problem("ad", exc.message)]
    entries = {str(e.get("name")): e for e in data.get("connectors", []) if isinstance(e, dict)}
    found: list[ConfigProblem] = []
    ad_entry, cloud_entry = entries.get(ad), entries.get(cloud)
    if ad_entry is None or ad_entry.get("type") != "ad":
        found.append(problem("ad", f"[guests_to_ad] needs an AD connector named {ad!r}"))
    elif not _inside(guests.ou, ad_entry.get("export_ou")):
        found.append(problem("ou", f"ou = {guests.ou!r} must be the AD connector {ad!r}'s "
                           f"export_ou or inside it (export_ou = "
                           f"{ad_entry.get('export_ou')!r}): the connector creates "
                           "accounts there only"))  # fmt: skip
    if cloud_entry is None or cloud_entry.get("type") != "graph":
        found.append(problem("cloud", f"[guests_to_ad] needs a Graph connector named {cloud!r}"))
    return found


def _inside(ou: str, export_ou: object) -> bool:
    if not isinstance(export_ou, str):
        return False
    parent = normal_dn(export_ou)
    return parent is not None and (ou.lower() == parent.lower()
                                   or ou.lower().endswith("," + parent.lower()))  # fmt: skip


def connector_problems(
    data: dict[str, Any], models: ConnectorModels, source: str, positions: TomlPositions
) -> list[ConfigProblem]:
    """The problems of every ``[[connectors]]`` entry, validated against its type's model."""
    entries = data.get("connectors")
    if not isinstance(entries, list):
        return []
    problems: list[ConfigProblem] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        prefix: tuple[str | int, ...] = ("connectors", index)
        kind = str(entry.get("type", ""))
        if kind not in models:
            problems.append(_unknown_type(kind, sorted(models), source, positions, prefix))
            continue
        model = models[kind]()
        try:
            model.model_validate(entry)
        except ValidationError as exc:
            problems += problems_of(
                exc, model, source=source, data=entry, positions=positions, prefix=prefix
            )
    return problems


def _unknown_type(
    kind: str,
    known: list[str],
    source: str,
    positions: TomlPositions,
    prefix: tuple[str | int, ...],
) -> ConfigProblem:
    message = f"unknown connector type {kind!r}"
    suggestion = nearest(kind, known)
    if suggestion:
        message += f": did you mean `{suggestion}`?"
    message += f" (known: {', '.join(known)})"
    at = positions.find((*prefix, "type"))
    line, column = at if at is not None else (None, None)
    return ConfigProblem(source, dotted((*prefix, "type")), message, line, column)
