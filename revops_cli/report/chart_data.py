"""The data of one chart: a label per bar or point and named series of numbers, with the same
numbers as displayed text (for the chart's table in Markdown and under the HTML chart)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChartData:
    kind: str  # waterfall | trend | funnel | owners | families | risk: which drawing to use
    title: str
    labels: tuple[str, ...] = ()
    values: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    shown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    note: str | None = None  # why there is nothing to draw

    @property
    def rows(self) -> list[tuple[str, ...]]:
        """One row per label: the label, then each series' displayed value."""
        columns = list(self.shown.values())
        return [(label, *(c[i] for c in columns)) for i, label in enumerate(self.labels)]

    @property
    def header(self) -> tuple[str, ...]:
        return ("", *self.shown)
