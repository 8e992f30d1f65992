"""Metrics E7 and E8: open pipeline, pipeline coverage and forecast accuracy, on the forecast
snapshots of METRICS.md §1.10 (§4).

They read the deal frames and money sums of deal_frames.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl

from revops_cli.metrics.context import MetricContext, Unavailable, divide, inherit, null, number, ok
from revops_cli.metrics.deal_frames import (
    WON,
    Money,
    all_deals,
    closed_deals,
    excluded,
    merge_warnings,
    money_of,
    money_result,
    scope_closed,
)
from revops_cli.metrics.registry import metric
from revops_cli.periods import resolve_forecast_period
from revops_cli.results import MetricResult, Unit

FALLBACK = "forecast_snapshot_fallback"
Compute = Callable[[MetricContext], MetricResult]
UNDATED = date(1, 1, 1)  # a forecast without submitted_at sorts before every dated submission
# E8's Needs line without the scope columns: an export without owner_id and team holds company
# forecasts (§1.10: both null -> company), but the snapshot of §1.10 cannot be chosen without
# submission times, which have no default (D10). E7 reads only the company forecast (its Needs:
# "forecasts (target)").
E8_FORECAST_COLUMNS = ("period", "amount", "submitted_at")


# --- §1.10 forecast snapshots --------------------------------------------------------------------


def _forecasts(ctx: MetricContext) -> pl.DataFrame:
    """The selected forecast row of each scope for P (§1.10, D22, D31), once a period.

    Columns: scope (owner | team | company), key (owner id, team, or "" for company), amount,
    submitted, fallback (the snapshot rule found nothing and the earliest later row was used).
    """
    forecasts = ctx.need("forecasts", "period", "amount")
    period = ctx.period
    return ctx.shared(
        ("sales.forecasts", period.start, period.end),
        lambda: _select_forecasts(ctx, forecasts),
    )


def _select_forecasts(ctx: MetricContext, forecasts: pl.DataFrame) -> pl.DataFrame:
    period = ctx.period
    tokens = forecasts["period"].drop_nulls().unique().to_list()  # a handful of distinct tokens
    resolved = {token: resolve_forecast_period(token, ctx.as_of, ctx.calendar) for token in tokens}
    matching = [
        token
        for token, p in resolved.items()
        if p is not None and (p.start, p.end) == (period.start, period.end)
    ]
    columns = forecasts.columns
    lacking = ctx.ds.lacking("forecasts", "owner_id", "team")
    if lacking is not None:  # S001: which rows are the company's cannot be told
        raise Unavailable(lacking)
    owner = pl.col("owner_id") if "owner_id" in columns else pl.lit(None, pl.String)
    team = pl.col("team") if "team" in columns else pl.lit(None, pl.String)
    dated = "submitted_at" in columns
    submitted = (ctx.day("submitted_at") if dated else pl.lit(None, pl.Date)).alias("submitted")
    # same-day submissions are ordered by their time, then by their order in the file
    instant = pl.col("submitted_at") if dated else pl.lit(None, pl.Datetime("us", "UTC"))
    rows = (
        forecasts.with_row_index("_seq")
        .filter(pl.col("period").is_in(matching) & pl.col("amount").is_not_null())
        .select(
            pl.when(owner.is_not_null())
            .then(pl.lit("owner"))
            .when(team.is_not_null())
            .then(pl.lit("team"))
            .otherwise(pl.lit("company"))
            .alias("scope"),
            pl.coalesce(owner, team, pl.lit("")).alias("key"),
            pl.col("amount").cast(pl.Float64),
            submitted,
            submitted.fill_null(UNDATED).alias("_order"),
            instant.alias("_instant"),
            "_seq",
        )
        .sort("_order", "_instant", "_seq", nulls_last=False)
    )
    # period_start: the latest submitted on or before p_start, else the earliest inside P (with a
    # warning); period_end: the latest on or before p_end; latest: the latest of all. An undated
    # row counts as submitted before every dated one. Nothing submitted after A is seen: the
    # figures are point-in-time at A (E7), as the fallback stops at E. A partial window's
    # reference day is its E: the comparison of a period to date is truncated to the same
    # elapsed days (§2.6) and sees what had been submitted by its truncated end.
    snapshot = ctx.options.forecast.snapshot
    cutoff = {"period_start": period.start, "period_end": period.end}.get(snapshot, date.max)
    cutoff = min(cutoff, ctx.end if ctx.partial else ctx.as_of)
    groups = ["scope", "key"]
    eligible = pl.col("_order") <= pl.lit(cutoff)
    chosen = (
        rows.filter(eligible)
        .group_by(groups, maintain_order=True)
        .last()
        .with_columns(fallback=False)
    )
    inside = ~eligible & (pl.col("_order") <= pl.lit(ctx.end))  # in period: up to E (§1.3)
    later = (
        rows.filter(inside)
        .group_by(groups, maintain_order=True)
        .first()
        .join(chosen.select(groups), on=groups, how="anti")
        .with_columns(fallback=True)
    )
    return pl.concat([chosen, later]).select("scope", "key", "amount", "submitted", "fallback")


def _company_forecast(ctx: MetricContext) -> tuple[float, dict[str, Any], tuple[str, ...]]:
    """F of the company row for P; Unavailable `missing_input:forecasts` without one (D9, D31)."""
    company = _forecasts(ctx).filter(pl.col("scope") == "company")
    if company.height == 0:
        raise Unavailable("missing_input:forecasts")
    # the day as text first: a submitted_at before year 1 in the run's zone (.NET's minimum
    # date with an offset) is a polars date that Python cannot hold
    row = company.with_columns(pl.col("submitted").cast(pl.String)).row(0, named=True)
    inputs = {"forecast": row["amount"], "forecast_submitted": _day(row["submitted"])}
    return float(row["amount"]), inputs, (FALLBACK,) if row["fallback"] else ()


def _day(text: str | None) -> date | str | None:
    """An ISO day as a date; one outside Python's years 1-9999 stays text."""
    try:
        return date.fromisoformat(text) if text is not None else None
    except ValueError:
        return text


def _actual_won(ctx: MetricContext) -> pl.DataFrame:
    """Won deals of `forecast.actual_deal_types` (default: the sales scope) closed in the window."""
    types = ctx.options.forecast.actual_deal_types  # null means the sales scope (D11); [] is none
    if types is None:
        types = ctx.options.sales.deal_types
    return closed_deals(ctx).filter(WON & pl.col("deal_type").is_in(list(types)))


# --- E7 open pipeline and coverage ---------------------------------------------------------------


def _open_pipeline(ctx: MetricContext) -> tuple[pl.DataFrame, dict[str, int]]:
    """In-scope open deals with max(p_start, A) <= close_date <= p_end (stale ones left out)."""
    ctx.need("deals", "amount", "close_date")
    if ctx.as_of > ctx.period.end:
        raise _PeriodClosed
    deals = all_deals(ctx)

    def build() -> tuple[pl.DataFrame, dict[str, int]]:
        period = ctx.period
        in_period = deals.filter(
            pl.col("_scope")
            & (pl.col("status") == "open")
            & pl.col("_close").is_between(pl.lit(period.start), pl.lit(period.end))
        )
        current = in_period.filter(pl.col("_close") >= pl.lit(ctx.as_of))
        return current, {
            "open_deals": current.height,
            "excluded_stale": in_period.height - current.height,
        }

    return ctx.shared(("sales.open", ctx.period.start, ctx.period.end, ctx.as_of), build)


class _PeriodClosed(Exception):
    """E7 is point-in-time at A: a period that ended before A has no reconstructable pipeline."""


def _point_in_time(compute: Compute) -> Compute:
    """E7 metrics: null `period_closed` once A is past p_end."""

    @functools.wraps(compute)
    def wrapped(ctx: MetricContext) -> MetricResult:
        try:
            return compute(ctx)
        except _PeriodClosed:
            return null("period_closed", {"as_of": ctx.as_of, "period_end": ctx.period.end})

    return wrapped


@_point_in_time
def _open_amount(ctx: MetricContext) -> MetricResult:
    """Σ amount_rc of the open pipeline of P, at A, with or without a forecast."""
    deals, inputs = _open_pipeline(ctx)
    money = money_of(deals)
    return money_result(money, {**inputs, **excluded(money)})


@_point_in_time
def _weighted_amount(ctx: MetricContext) -> MetricResult:
    """Σ amount_rc x probability of the open pipeline of P, at A, with or without a forecast."""
    ctx.need("deals", "probability")
    deals, inputs = _open_pipeline(ctx)
    weighted = deals.filter(pl.col("probability").is_not_null())
    money = money_of(weighted, pl.col("_amount") * pl.col("probability"))
    inputs = {
        **inputs,
        "excluded_null_probability": deals.height - weighted.height,
        **excluded(money),
    }
    return money_result(money, inputs)


PIPELINE: dict[str, Compute] = {
    "open_pipeline_amount": _open_amount,
    "weighted_pipeline_amount": _weighted_amount,
}


def _pipeline(ctx: MetricContext, key: str) -> MetricResult:
    """The E7 amount `key` before the forecast gate, once a window: what the coverages divide."""
    try:
        return ctx.shared(("sales.pipeline", key, ctx.start, ctx.end), lambda: PIPELINE[key](ctx))
    except Unavailable as missing:
        return null(missing.reason)


def _with_forecast(ctx: MetricContext, key: str) -> MetricResult:
    """An E7 amount, `unavailable` without a company forecast row for P like the coverages (D9,
    D31). A missing input comes first (its own, then the forecast: METRICS §7 lists a metric
    without its required tables as unavailable), then its null reasons (`period_closed`)."""
    pipeline = _pipeline(ctx, key)
    if pipeline.status == "unavailable":
        return pipeline
    remaining = _remaining_target(ctx)
    if remaining.status == "unavailable":
        return MetricResult(
            None, remaining.status, remaining.reason, pipeline.warnings, pipeline.inputs
        )
    return pipeline


@metric("open_pipeline_amount", Unit.CURRENCY)
def open_pipeline_amount(ctx: MetricContext) -> MetricResult:
    """Open pipeline: Σ amount_rc of in-scope open deals closing in P, at A (E7).

    Stale deals (close date before A) are left out; a closed period is null `period_closed`;
    unavailable `missing_input:forecasts` without a company forecast for P (D9, D31).
    """
    return _with_forecast(ctx, "open_pipeline_amount")


@metric("weighted_pipeline_amount", Unit.CURRENCY)
def weighted_pipeline_amount(ctx: MetricContext) -> MetricResult:
    """Weighted pipeline: Σ amount_rc x probability of the open pipeline of P, at A (E7).

    A null probability leaves the deal out of this figure only (D36); unavailable like
    open_pipeline_amount without a company forecast for P.
    """
    return _with_forecast(ctx, "weighted_pipeline_amount")


def _remaining_target(ctx: MetricContext) -> MetricResult:
    """target - bookings to date, where target = the company forecast for P (E7)."""

    def build() -> MetricResult:
        try:
            target, inputs, warnings = _company_forecast(ctx)
        except Unavailable as missing:
            return null(missing.reason)
        won = scope_closed(ctx).filter(WON)  # closed in [p_start, E] and E = A here
        booked = money_of(won)
        warnings = (*warnings, *booked.warnings)
        inputs = {
            **inputs,
            "target": target,
            "bookings_to_date": booked.total,
            "remaining_target": target - booked.total,
        }
        if target - booked.total <= 0:
            return null("target_met", inputs, warnings)
        return ok(target - booked.total, inputs, warnings)

    return ctx.shared(("sales.remaining_target", ctx.start, ctx.end), build)


def _coverage(ctx: MetricContext, pipeline_key: str) -> MetricResult:
    """The pipeline over the remaining target: missing inputs first (the pipeline's, then the
    forecast's), then the pipeline's null (`period_closed`), then the target's (`target_met`)."""
    pipeline = _pipeline(ctx, pipeline_key)
    if pipeline.status == "unavailable":
        return pipeline
    remaining = _remaining_target(ctx)
    inputs = {**pipeline.inputs, **remaining.inputs}
    warnings = merge_warnings((pipeline, remaining))
    if remaining.status == "unavailable":
        return MetricResult(None, remaining.status, remaining.reason, warnings, inputs)
    if (missing := inherit(pipeline)) is not None:
        return missing
    if remaining.value is None:
        return MetricResult(None, remaining.status, remaining.reason, warnings, inputs)
    return divide(number(pipeline), number(remaining), inputs, warnings)


@metric("pipeline_coverage", Unit.RATIO)
def pipeline_coverage(ctx: MetricContext) -> MetricResult:
    """Pipeline coverage: open_pipeline_amount / (company forecast for P - bookings to date) (E7).

    Null `target_met` when nothing remains; unavailable `missing_input:forecasts` without target.
    """
    return _coverage(ctx, "open_pipeline_amount")


@metric("weighted_pipeline_coverage", Unit.RATIO)
def weighted_pipeline_coverage(ctx: MetricContext) -> MetricResult:
    """Weighted pipeline coverage: weighted_pipeline_amount / remaining target for P (E7)."""
    return _coverage(ctx, "weighted_pipeline_amount")


# --- E8 forecast accuracy ------------------------------------------------------------------------


def _company_actual(ctx: MetricContext) -> tuple[float, float, dict[str, Any], tuple[str, ...]]:
    """(F, A) of the company scope with inputs and warnings; A = bookings of the actual types."""
    ctx.need("deals", "amount", "close_date")
    ctx.need("forecasts", *E8_FORECAST_COLUMNS)
    forecast, inputs, warnings = _company_forecast(ctx)
    actual = money_of(_actual_won(ctx))
    if actual.only_unconverted:
        raise _NoRate(actual)
    inputs = {**inputs, "actual": actual.total, **excluded(actual)}
    return forecast, actual.total, inputs, (*warnings, *actual.warnings)


class _NoRate(Exception):
    def __init__(self, money: Money) -> None:
        super().__init__(money.reason)
        self.money = money


@metric("forecast_accuracy", Unit.FRACTION)
def forecast_accuracy(ctx: MetricContext) -> MetricResult:
    """Forecast accuracy: max(0, 1 - |A - F| / A) for the company forecast of P (E8, §1.10)."""
    try:
        forecast, actual, inputs, warnings = _company_actual(ctx)
    except _NoRate as missing:
        return null(missing.money.reason, {}, missing.money.warnings)
    if actual == 0:
        return null("zero_denominator", inputs, warnings)
    return ok(max(0.0, 1 - abs(actual - forecast) / actual), inputs, warnings)


@metric("forecast_bias", Unit.FRACTION)
def forecast_bias(ctx: MetricContext) -> MetricResult:
    """Forecast bias: (F - A) / A for the company forecast of P; positive = over-forecast (E8)."""
    try:
        forecast, actual, inputs, warnings = _company_actual(ctx)
    except _NoRate as missing:
        return null(missing.money.reason, {}, missing.money.warnings)
    return divide(forecast - actual, actual, inputs, warnings)


@metric("forecast_accuracy_wape", Unit.FRACTION)
def forecast_accuracy_wape(ctx: MetricContext) -> MetricResult:
    """Forecast accuracy (WAPE): max(0, 1 - Σ|A_i - F_i| / Σ A_i) over owner rows, else team rows
    of P (E8, D31)."""
    ctx.need("deals", "amount", "close_date")
    ctx.need("forecasts", *E8_FORECAST_COLUMNS)
    forecasts = _forecasts(ctx)
    scope = next(
        (s for s in ("owner", "team") if forecasts.filter(pl.col("scope") == s).height), None
    )
    if scope is None:
        return null("missing_input:forecasts")
    rows = forecasts.filter(pl.col("scope") == scope)
    ctx.need("deals", "owner_id")
    won = _actual_won(ctx)
    key = pl.col("owner_id")
    if scope == "team":
        owners = ctx.need("owners", "team")
        won = won.join(
            owners.select("owner_id", pl.col("team").alias("_team")), on="owner_id", how="left"
        )
        key = pl.col("_team")
    actual = money_of(won.filter(key.is_in(rows["key"].to_list())))
    by_key = (
        won.filter(pl.col("_amount").is_not_null())
        .group_by(key.alias("key"))
        .agg(pl.col("_amount").sum().alias("actual"))
    )
    joined = rows.join(by_key, on="key", how="left").with_columns(pl.col("actual").fill_null(0.0))
    error, total = joined.select(
        (pl.col("actual") - pl.col("amount")).abs().sum().alias("error"),
        pl.col("actual").sum().alias("total"),
    ).row(0)
    inputs = {
        "scope": scope,
        "rows": joined.height,
        "absolute_error": float(error),
        "actual": float(total),
        **excluded(actual),
    }
    warnings = ((FALLBACK,) if joined["fallback"].any() else ()) + actual.warnings
    if actual.only_unconverted:
        return null(actual.reason, inputs, warnings)
    if total == 0:
        return null("zero_denominator", inputs, warnings)
    return ok(max(0.0, 1 - float(error) / float(total)), inputs, warnings)
