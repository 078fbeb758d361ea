"""The hybridsync configuration file (TOML) as a validated model."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hybridsync.config.password_sync import PasswordHashSyncConfig
from hybridsync.config.rules import RuleSource, load_rules
from hybridsync.config.store import StoreConfig
from hybridsync.config.user_type import UserTypeConfig, user_type_rules
from hybridsync.core.rules import RuleSet
from hybridsync.errors import ConfigError, os_error_reason


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
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    password_hash_sync: PasswordHashSyncConfig | None = None
    connectors: list[dict[str, Any]] = Field(min_length=1)
    """Validated by wiring against the connector registry (type name -> model)."""

    base_dir: Path = Path(".")

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.base_dir / value

    def store_file(self) -> Path | None:
        """The SQLite store's file; ``None`` for a PostgreSQL store."""
        return None if self.store.path is None else self.path(self.store.path)

    def rule_set(self) -> RuleSet:
        sources = [RuleSource.from_path(self.path(p)) for p in self.rules]
        extra = []
        if self.builtin_rules is not None and self.builtin_rules.enabled:
            sources.insert(
                0, builtin_rule_source(self.builtin_rules.source, self.builtin_rules.target)
            )
            if self.writes_back_consistency_guid():
                sources.insert(1, consistency_guid_rule_source(self.builtin_rules.source))
        if self.user_type is not None:
            if self.builtin_rules is None:
                raise ConfigError(
                    "[user_type] needs [builtin_rules] (it names the AD and cloud connectors)"
                )
            extra = user_type_rules(
                self.user_type, self.builtin_rules.source, self.builtin_rules.target
            )
        return load_rules(sources, extra)

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


def load_config(path: Path) -> Config:
    """Read and validate a configuration file; relative paths are relative to it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the configuration: {os_error_reason(exc)}", source=str(path)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=str(path)) from exc
    data.setdefault("base_dir", str(path.resolve().parent))
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"field {field}: {first['msg']}", source=str(path)) from exc
