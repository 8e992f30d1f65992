"""MRR and paying customers month by month, read from the same balances as the A metrics.

The report charts the trailing months up to a period's end E. Each point is MRR(D) and the count
of keys paying more than `movement_epsilon` at the end of day D, exactly as `mrr` and `customers`
read them at C = E (§1.5-§1.6), so the last point equals those two metrics.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from revops_cli.load.dataset import Dataset
from revops_cli.metrics.context import MetricContext, Unavailable
from revops_cli.metrics.mrr import balances, spans
from revops_cli.metrics.runner import fiscal_calendar
from revops_cli.periods import Period, Window


@dataclass(frozen=True)
class MonthPoint:
    """The balance at the end of `day`: MRR in the base currency and paying customers."""

    day: date
    mrr: float
    customers: int


@dataclass(frozen=True)
class MrrSeries:
    """The month-end points, oldest first; no points and a reason when MRR cannot be computed."""

    points: tuple[MonthPoint, ...]
    reason: str | None = None


def month_ends(end: date, months: int) -> tuple[date, ...]:
    """The last day of each of the `months - 1` months before `end`'s month, then `end`."""
    days = [end]
    first = end.replace(day=1)
    for _ in range(months - 1):
        if first == date.min:
            break  # no month before January of year 1
        last = first - timedelta(days=1)
        days.append(last)
        first = last.replace(day=1)
    return tuple(reversed(days))


def monthly_mrr(
    dataset: Dataset, end: date, months: int = 12, cache: dict[Hashable, Any] | None = None
) -> MrrSeries:
    """MRR and customers at the end of each of the `months` months that end with day `end`.

    `cache`: the dict given to `compute_metrics`, whose paid spans and daily balances are reused.
    """
    dates = month_ends(end, months)
    period = Period(f"{dates[0]}..{end}", dates[0], end, "range", False)
    ctx = MetricContext(dataset, Window(period, end, False), fiscal_calendar(dataset), cache)
    try:
        base = spans(ctx)
    except Unavailable as missing:
        return MrrSeries((), missing.reason)
    except pl.exceptions.ColumnNotFoundError as exc:
        reason = dataset.absent_column(exc)  # a column the file lacks (S001)
        if reason is None:
            raise
        return MrrSeries((), reason)
    if base.failure is not None:
        return MrrSeries((), base.failure)
    eps = ctx.options.mrr.movement_epsilon
    totals = (
        balances(ctx, dates)
        .group_by("date")
        .agg(pl.col("mrr").sum(), (pl.col("mrr") > eps).sum().alias("customers"))
    )
    found = {day: (float(mrr), int(n)) for day, mrr, n in totals.iter_rows()}
    points = tuple(MonthPoint(day, *found.get(day, (0.0, 0))) for day in dates)
    return MrrSeries(points)
