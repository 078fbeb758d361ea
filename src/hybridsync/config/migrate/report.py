"""What a migration did with each rule, in the four groups an administrator reviews."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hybridsync.json_types import JsonObject


class Outcome(enum.StrEnum):
    """Which of the report's groups a rule of the export falls in."""

    UNCHANGED = "unchanged"
    """Carried over as the export has it."""
    CHANGED = "changed"
    """Carried over with changes (the reasons say which)."""
    NOT_CARRIED_OVER = "not carried over"
    """Left out (the reasons say why)."""


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule of the export and what became of it, with the reasons."""

    name: str
    connect_id: str
    immutable_tag: str
    outcome: Outcome
    reasons: tuple[str, ...] = ()
    file: str | None = None
    """The rules file the rule went to (none when it was not carried over)."""


@dataclass(frozen=True, slots=True)
class Customization:
    """A rule written or changed here: not a Microsoft default that this version knows."""

    name: str
    connect_id: str
    immutable_tag: str
    reason: str


@dataclass(slots=True)
class MigrationReport:
    """Everything a migration did, for the administrator to review: as text or JSON."""

    source: str
    rules: list[RuleOutcome] = field(default_factory=list)
    customizations: list[Customization] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    """Settings left for the administrator to fill in (secrets, application ids)."""
    notes: list[str] = field(default_factory=list)
    """Connector settings that were translated, not copied."""

    def group(self, outcome: Outcome) -> list[RuleOutcome]:
        return sorted((r for r in self.rules if r.outcome is outcome), key=lambda r: r.name)

    def to_json(self) -> JsonObject:
        def rule_json(rule: RuleOutcome) -> JsonObject:
            return {
                "name": rule.name,
                "connect_id": rule.connect_id,
                "immutable_tag": rule.immutable_tag,
                "reasons": list(rule.reasons),
                "file": rule.file,
            }

        return {
            "source": self.source,
            "unchanged": [rule_json(r) for r in self.group(Outcome.UNCHANGED)],
            "changed": [rule_json(r) for r in self.group(Outcome.CHANGED)],
            "not_carried_over": [rule_json(r) for r in self.group(Outcome.NOT_CARRIED_OVER)],
            "customizations": [
                {
                    "name": c.name,
                    "connect_id": c.connect_id,
                    "immutable_tag": c.immutable_tag,
                    "reason": c.reason,
                }
                for c in sorted(self.customizations, key=lambda c: c.name)
            ],
            "placeholders": list(self.placeholders),
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        lines: list[str] = [f"Migrated from {self.source}", ""]
        for outcome in Outcome:
            rules = self.group(outcome)
            lines.append(f"{outcome.value.capitalize()} ({len(rules)}):")
            for rule in rules:
                lines.append(f"  {rule.name}")
                lines.extend(f"      {reason}" for reason in rule.reasons)
            lines.append("")
        lines.append(f"Customizations ({len(self.customizations)}):")
        for custom in sorted(self.customizations, key=lambda c: c.name):
            lines.append(f"  {custom.name}")
            lines.append(f"      {custom.reason}")
        for title, items in (("To fill in", self.placeholders), ("Translated", self.notes)):
            if items:
                lines.extend(["", f"{title}:", *(f"  {item}" for item in items)])
        return "\n".join(lines) + "\n"
