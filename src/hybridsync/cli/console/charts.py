"""The overview's charts: inline SVG drawn on the server (no script, no library).

Each chart is a bar per day of the last 30 days, with a title and a text alternative
that states the figures (a screen reader reads the numbers, not the picture).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

__all__ = ["Chart", "daily_charts"]

_WIDTH, _HEIGHT, _PAD = 320, 140, 16
_CHANGE_COUNTS = ("added", "updated", "deleted")
"""An export run's counts: the objects it changed in its target."""


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str
    days: list[date]
    values: list[float]

    def svg(self) -> Markup:
        top = max(self.values, default=0.0) or 1.0
        step = (_WIDTH - 2 * _PAD) / max(1, len(self.values))
        bars = []
        for index, (day, value) in enumerate(zip(self.days, self.values, strict=True)):
            height = (_HEIGHT - 2 * _PAD) * value / top
            x = _PAD + index * step
            y = _HEIGHT - _PAD - height
            bars.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, step - 2):.1f}" '
                f'height="{height:.1f}" class="bar"><title>{day.isoformat()}: '
                f"{_number(value)} {escape(self.unit)}</title></rect>"
            )
        first = self.days[0].isoformat() if self.days else ""
        last = self.days[-1].isoformat() if self.days else ""
        summary = (
            f"{self.title}: total {_number(sum(self.values))} {self.unit}, "
            f"highest {_number(max(self.values, default=0))} in a day, {first} to {last}"
        )
        return Markup(
            f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{escape(summary)}" '
            f'class="chart"><title>{escape(summary)}</title>'
            f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" '
            f'y2="{_HEIGHT - _PAD}" class="axis"/>'
            f'<text x="{_PAD}" y="11" class="label">{_number(top)} {escape(self.unit)}</text>'
            f'<text x="{_PAD}" y="{_HEIGHT - 6}" class="label">{first}</text>'
            f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 6}" text-anchor="end" class="label">'
            f"{last}</text>{''.join(bars)}</svg>"
        )


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def daily_charts(
    runs: Sequence[dict[str, Any]], latencies: Sequence[tuple[datetime, float]], days: int = 30
) -> list[Chart]:
    """Objects changed, errors, cycle seconds (sum of run durations) and the slowest
    AD-to-cloud latency, per day."""
    today = datetime.now(UTC).date()
    calendar = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]

    def per_day(value: Callable[[dict[str, Any]], float]) -> list[float]:
        totals = dict.fromkeys(calendar, 0.0)
        for run in runs:
            day = _day(run["started"])
            if day in totals:
                totals[day] += value(run)
        return [totals[day] for day in calendar]

    slowest = dict.fromkeys(calendar, 0.0)
    for at, seconds in latencies:
        if at.date() in slowest:
            slowest[at.date()] = max(slowest[at.date()], seconds)
    return [
        Chart("Objects changed", "objects", calendar, per_day(_changed)),
        Chart("Errors", "errors", calendar, per_day(lambda run: run["errors"])),
        Chart("Run durations", "s", calendar, per_day(lambda run: run["seconds"] or 0.0)),
        Chart("AD-to-cloud latency (slowest)", "s", calendar, [slowest[d] for d in calendar]),
    ]


def _changed(run: dict[str, Any]) -> float:
    if run["profile"] != "export":
        return 0.0
    return float(sum(run["counts"].get(name, 0) for name in _CHANGE_COUNTS))


def _day(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text).astimezone(UTC).date()
    except ValueError:
        return None
