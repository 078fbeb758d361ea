"""Fingerprints of Microsoft's default rules, to find the ones an installation edited.

``connect_defaults.json`` maps each immutable tag of Microsoft's default rules (as
shipped in the bundled sample export) to a hash of the rule's content. Installation
details (ids, connector ids, precedence) are left out of the hash: they differ between
installations of the same default rule.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.resources import files

from hybridsync.config.migrate.export import ConnectRule


def fingerprint(rule: ConnectRule) -> str:
    content = {
        "name": rule.name,
        "description": rule.description,
        "direction": rule.direction,
        "source": rule.source_object_type,
        "target": rule.target_object_type,
        "link": rule.link_type,
        "disabled": rule.disabled,
        "password_sync": rule.password_sync,
        "scope": sorted(
            sorted([c.attribute, c.operator, c.value] for c in group) for group in rule.scope
        ),
        "join": [[[c.source, c.target, c.case_sensitive] for c in group] for group in rule.join],
        "flows": sorted(
            [
                m.target,
                list(m.sources),
                m.expression or "",
                m.constant or "",
                m.merge_type,
                m.execute_once,
            ]
            for m in rule.mappings
        ),
    }
    canonical = json.dumps(content, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@cache
def _defaults() -> dict[str, str]:
    text = files("hybridsync.config.migrate").joinpath("connect_defaults.json").read_text("utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def default_fingerprint(immutable_tag: str) -> str | None:
    return _defaults().get(immutable_tag)
