"""Compute every metric for a period and its comparison period, plus `--by` breakdowns."""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import polars as pl

from revops_cli.errors import RevopsError
from revops_cli.load.dataset import Dataset
from revops_cli.metrics.context import MetricContext
from revops_cli.metrics.funnel import WON_DEALS, won_deals
from revops_cli.metrics.registry import Metric, ordered
from revops_cli.periods import (
    FiscalCalendar,
    Window,
    comparison_window,
    evaluate,
    parse_period,
    previous_period,
    year_earlier,
)
from revops_cli.results import BreakdownRow, MetricResult, MetricsReport, MetricValue, PeriodSpan

COMPARE = ("previous", "yoy", "none")
DIMENSIONS = ("owner", "team", "segment", "source", "deal_type")


def fiscal_calendar(dataset: Dataset) -> FiscalCalendar:
    return dataset.config.fiscal_calendar()


def compute_metrics(
    dataset: Dataset,
    token: str,
    compare: str = "previous",
    by: str | None = None,
    cache: dict[Hashable, Any] | None = None,
) -> MetricsReport:
    """Every metric of METRICS.md for the period `token`, compared as `compare` asks.

    `cache` holds the run's shared frames (paid spans, balances per day); pass the same dict to
    `series.monthly_mrr` so that the report does not build them twice.
    """
    calendar = fiscal_calendar(dataset)
    period = parse_period(token, dataset.as_of, calendar)
    window = evaluate(period, dataset.as_of)
    other = None
    if compare == "previous":
        other = comparison_window(window, previous_period(period, calendar))
    elif compare == "yoy":
        other = comparison_window(window, year_earlier(period, calendar))
    label = "period_to_date" if window.partial and compare == "previous" else compare
    metrics = _values(dataset, ordered(), window, other, calendar, {} if cache is None else cache)
    rows: tuple[BreakdownRow, ...] = ()
    if by is not None:
        rows = breakdown(dataset, by, window, other, calendar)
    return MetricsReport(
        as_of=dataset.as_of,
        currency=dataset.config.currency.base,
        period=PeriodSpan(period.label, period.start, period.end),
        effective_end=window.end,
        partial=window.partial,
        previous=None
        if other is None
        else PeriodSpan(other.period.label, other.period.start, other.end),
        compare=label,
        metrics=metrics,
        breakdown_by=by,
        breakdown=rows,
        fiscal_year_start_month=calendar.start_month,
    )


def _values(
    dataset: Dataset,
    metrics: list[Metric],
    window: Window,
    other: Window | None,
    calendar: FiscalCalendar,
    cache: dict[Hashable, Any],
) -> tuple[MetricValue, ...]:
    current = MetricContext(dataset, window, calendar, cache)
    previous = current.sub(other) if other is not None else None
    # The comparison window is computed in a second thread: many polars kernels use one core.
    # What both windows need (paid spans, balances per day) is built once under a lock.
    with ThreadPoolExecutor(max_workers=1) as pool:
        before = pool.submit(_all, previous, metrics) if previous is not None else None
        now = _all(current, metrics)
        then = before.result() if before is not None else None
    return tuple(
        MetricValue(
            m.key,
            m.unit,
            m.family,
            now[m.key],
            then[m.key] if then is not None else None,
            window.partial,
        )
        for m in metrics
    )


def _all(context: MetricContext, metrics: list[Metric]) -> dict[str, MetricResult]:
    return {m.key: context.value(m.key) for m in metrics}


def _dimension(dataset: Dataset, table: str, by: str) -> pl.Expr:
    """The breakdown key of each row of `table` (deals or leads): null where the row has no
    value, and for every row when the table cannot give the dimension."""
    frame = dataset.tables[table]
    missing = pl.lit(None, pl.String)
    if by in ("owner", "source", "deal_type"):
        column = "owner_id" if by == "owner" else by
        return pl.col(column).cast(pl.String) if column in frame.columns else missing
    lookup_table, link, column = (
        ("owners", "owner_id", "team") if by == "team" else ("accounts", "account_id", "segment")
    )
    lookup = dataset.table(lookup_table)
    if lookup is None or column not in lookup.columns or link not in frame.columns:
        return missing
    # a row of the lookup without a key (owner_id empty) is nobody's: a deal without an owner
    # has no team, not that row's
    keyed_rows = lookup.filter(pl.col(link).is_not_null())
    mapping = dict(keyed_rows.select(link, pl.col(column).cast(pl.String)).iter_rows())
    return pl.col(link).replace_strict(mapping, default=None, return_dtype=pl.String)


def breakdown(
    dataset: Dataset,
    by: str,
    window: Window,
    other: Window | None,
    calendar: FiscalCalendar,
) -> tuple[BreakdownRow, ...]:
    """The deal and lead metrics (E1-E4, E9) for each value of the dimension `by`."""
    if by not in DIMENSIONS:
        raise RevopsError(f"--by: '{by}' is not a dimension", f"use one of {', '.join(DIMENSIONS)}")
    # a row of a table that cannot give the dimension (its column or lookup is not loaded) has
    # a missing value: key null (D34), not every key
    keyed = {
        table: frame.with_columns(_dimension(dataset, table, by).alias("_by"))
        for table in ("deals", "leads")
        if (frame := dataset.table(table)) is not None
        and not (by == "deal_type" and table == "leads")  # D34: E9 has no deal_type breakdown
    }
    keys = sorted(
        {k for frame in keyed.values() for k in frame["_by"].unique().to_list()},
        key=lambda k: (k is None, k or ""),
    )
    metrics = [
        m for m in ordered() if m.breakdown and not (by == "deal_type" and m.section == "E9")
    ]
    whole = _whole_frames(dataset, window, calendar)
    # each table split by its key in one pass (a filter per key read every row once per owner)
    groups = {
        table: frame.partition_by("_by", as_dict=True, include_key=False)
        for table, frame in keyed.items()
    }
    rows = []
    for key in keys:  # one pass per dimension value (owners, teams...), not per row
        tables = dict(dataset.tables)
        for table, frame in keyed.items():
            tables[table] = groups[table].get((key,), frame.clear().drop("_by"))
        subset = replace(dataset, tables=tables)
        cache = dict(whole)
        rows.append(BreakdownRow(key, _values(subset, metrics, window, other, calendar, cache)))
    return tuple(rows)


def _whole_frames(
    dataset: Dataset, window: Window, calendar: FiscalCalendar
) -> dict[Hashable, Any]:
    """The frames a breakdown row reads from the whole dataset, not from its group: the status of
    a lead's converted deal (E9) is the deal's, whoever owns it and whatever its source."""
    if dataset.table("deals") is None:
        return {}
    try:
        return {WON_DEALS: won_deals(MetricContext(dataset, window, calendar))}
    except pl.exceptions.ColumnNotFoundError as exc:
        if dataset.absent_column(exc) is None:
            raise
        return {}  # a column the file lacks (S001): each row's metrics say which
