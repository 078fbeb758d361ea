"""Configuration files into models."""

from __future__ import annotations

from hybridsync.config.problems import ConfigProblem, ConfigProblems
from hybridsync.config.rules import RuleSource, load_rules, parse_rule_file
from hybridsync.config.settings import Config, SafetyConfig, builtin_rule_source, load_config
from hybridsync.config.store import StoreConfig
from hybridsync.config.user_type import UserTypeConfig, upn_suffix_expression, user_type_rules

__all__ = [
    "Config",
    "ConfigProblem",
    "ConfigProblems",
    "RuleSource",
    "SafetyConfig",
    "StoreConfig",
    "UserTypeConfig",
    "builtin_rule_source",
    "load_config",
    "load_rules",
    "parse_rule_file",
    "upn_suffix_expression",
    "user_type_rules",
]
