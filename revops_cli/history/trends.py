"""`revops trend`: the series of one rule or one metric over the stored runs, as plain rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from revops_cli.history.queries import RulePoint, metric_series, rule_series
from revops_cli.history.store import HistoryStore

PERIOD_KINDS = ("quarter", "month")
RULE_COLUMNS = ("as_of", "run_id", "status", "count", "revenue_at_risk")
METRIC_COLUMNS = (
    "period",
    "start",
    "end",
    "value",
    "status",
    "reason",
    "partial",
    "as_of",
    "run_id",
)


@dataclass(frozen=True)
class Trend:
    """One row per point, oldest first; `values` holds the plotted number of each row (the rule's
    flagged records, or the metric's value; None where there is no number)."""

    subject: str  # rule | metric
    key: str
    period_kind: str | None
    unit: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    values: tuple[float | None, ...]


def rule_trend(store: HistoryStore, code: str, kind: str | None) -> Trend:
    """The rule in every stored audit; with `kind`, the latest audit of each calendar month or
    quarter of its as-of date."""
    points = rule_series(store, code)
    columns: tuple[str, ...] = RULE_COLUMNS
    labels: list[str | None] = [None] * len(points)
    if kind is not None:
        buckets: dict[str, RulePoint] = {}
        for point in points:
            buckets[_bucket(point, kind)] = point  # points come in (as_of, run id) order
        labels, points = list(buckets), list(buckets.values())
        columns = ("period", *RULE_COLUMNS)
    rows = tuple(
        (*(() if label is None else (label,)), *_rule_row(point))
        for label, point in zip(labels, points, strict=True)
    )
    values = tuple(None if p.count is None else float(p.count) for p in points)
    return Trend("rule", code, kind, "count", columns, rows, values)


def _bucket(point: RulePoint, kind: str) -> str:
    day = point.as_of
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}" if kind == "quarter" else f"{day:%Y-%m}"


def _rule_row(point: RulePoint) -> tuple[Any, ...]:
    return (point.as_of.isoformat(), point.run_id, point.status, point.count, point.revenue_at_risk)


def metric_trend(store: HistoryStore, key: str, kind: str) -> Trend:
    """The metric's value for every stored period of `kind`, from the latest run of each."""
    points = metric_series(store, key, kind)
    rows = tuple(
        (
            p.period,
            p.start.isoformat(),
            p.end.isoformat(),
            p.value,
            p.status,
            p.reason,
            p.partial,
            p.as_of.isoformat(),
            p.run_id,
        )
        for p in points
    )
    values = tuple(float(p.value) if isinstance(p.value, int | float) else None for p in points)
    unit = points[-1].unit if points else ""
    return Trend("metric", key, kind, unit, METRIC_COLUMNS, rows, values)
