"""Metrics B1-B5: logo churn, MRR churn, NRR and GRR, expansion rate and quick ratio (METRICS §4).

They read the paid spans, balances and movements of mrr.py (METRICS §1.5-§1.6).

Decisions where the spec is silent:
- `customer_churn_rate_monthly` leaves out months with an empty start cohort, as D3 does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from revops_cli.metrics.context import MetricContext, divide, null, number, ok
from revops_cli.metrics.mrr import (
    MOVEMENT_KEYS,
    MOVEMENTS,
    balances,
    movement_sum,
    spans,
    spans_result,
    summary,
)
from revops_cli.metrics.registry import metric
from revops_cli.periods import Period
from revops_cli.results import MetricResult, Unit


@dataclass(frozen=True)
class Retention:
    """Start-cohort sums for NRR and GRR between two snapshots (B3)."""

    cohort: int
    start_mrr: float
    end_mrr: float
    capped_mrr: float


# --- B3 cohort sums --------------------------------------------------------------------------


def retention(ctx: MetricContext, start: date, end: date) -> Retention:
    """B3's sums over the cohort paying at `start`: MRR at start, at end, and capped per key."""
    return ctx.shared(("recurring.retention", start, end), lambda: _retention(ctx, start, end))


def _retention(ctx: MetricContext, start: date, end: date) -> Retention:
    eps = ctx.options.mrr.movement_epsilon
    frame = balances(ctx, (start, end))
    wide = (
        frame.filter(pl.col("date") == start)
        .select("key", pl.col("mrr").alias("m0"))
        .join(frame.filter(pl.col("date") == end).select("key", pl.col("mrr").alias("m1")), "key")
        .filter(pl.col("m0") > eps)
    )
    row = wide.select(
        pl.len().alias("n"),
        pl.col("m0").sum().alias("start"),
        pl.col("m1").sum().alias("end"),
        pl.min_horizontal("m0", "m1").sum().alias("capped"),
    ).row(0)
    return Retention(int(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _year_before(day: date) -> date:
    """The same day a year earlier; 29 Feb becomes 28 Feb (B3)."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


# --- result helpers --------------------------------------------------------------------------


def _rate(ctx: MetricContext, positive: tuple[str, ...], negative: tuple[str, ...]) -> MetricResult:
    """Movement amounts relative to the opening MRR (B2, B4)."""
    s = summary(ctx)
    start = spans_result(ctx, s.mrr_start)
    if start.status != "ok":
        return start
    movement = movement_sum(ctx, positive, negative)
    inputs = {MOVEMENT_KEYS[k]: s.amounts[k] for k in positive + negative}
    return divide(movement, s.mrr_start, {**inputs, "mrr_start": s.mrr_start}, start.warnings)


# --- B1-B5 -----------------------------------------------------------------------------------


@metric("customer_churn_rate", Unit.FRACTION)
def customer_churn_rate(ctx: MetricContext) -> MetricResult:
    """Logo churn rate: start-cohort customers with a churn movement in P / customers at O (B1)."""
    s = summary(ctx)
    base = spans_result(ctx, 0.0)
    if base.status != "ok":
        return base
    inputs = {
        "churned_from_start_cohort": s.churned_from_start_cohort,
        "customers_start": s.customers_start,
    }
    return divide(s.churned_from_start_cohort, s.customers_start, inputs, base.warnings)


@metric("customer_churn_rate_monthly", Unit.FRACTION)
def customer_churn_rate_monthly(ctx: MetricContext) -> MetricResult:
    """Monthly logo churn: the mean churn rate of the calendar months wholly inside [p_start, E]
    (B1); months without a start cohort are left out."""
    spans(ctx)  # a missing table or column says more than a missing month
    months = ctx.window.complete_months()
    if not months:
        return null("period_incomplete")
    rates = monthly_churn(ctx, months)
    if isinstance(rates, MetricResult):
        return rates
    if not rates:
        return null("zero_denominator", {"months": len(months)})
    inputs = {"months": len(rates), "monthly_churn": rates}
    return ok(sum(rates.values()) / len(rates), inputs, spans(ctx).warnings)


def monthly_churn(
    ctx: MetricContext, months: list[tuple[date, date]]
) -> dict[str, float] | MetricResult:
    """customer_churn_rate of each month ("YYYY-MM" -> rate), skipping months whose start cohort
    is empty; the failing result when the rate is unavailable."""
    rates: dict[str, float] = {}
    for first, last in months:
        label = f"{first.year:04d}-{first.month:02d}"
        result = ctx.sub_period(Period(label, first, last, "month", False)).value(
            "customer_churn_rate"
        )
        if result.status == "ok":
            rates[label] = number(result)
        elif result.reason != "zero_denominator":
            return MetricResult(None, result.status, result.reason, result.warnings, {})
    return rates


@metric("gross_mrr_churn_rate", Unit.FRACTION)
def gross_mrr_churn_rate(ctx: MetricContext) -> MetricResult:
    """Gross MRR churn rate: (churned_mrr + contraction_mrr) / mrr_start (B2)."""
    return _rate(ctx, ("churn", "contraction"), ())


@metric("net_mrr_churn_rate", Unit.FRACTION)
def net_mrr_churn_rate(ctx: MetricContext) -> MetricResult:
    """Net MRR churn rate: (churn + contraction - expansion - reactivation) / mrr_start (B2)."""
    return _rate(ctx, ("churn", "contraction"), ("expansion", "reactivation"))


def _retention_rate(ctx: MetricContext, start: date, capped: bool) -> MetricResult:
    base = spans_result(ctx, 0.0)
    if base.status != "ok":
        return base
    r = retention(ctx, start, ctx.closing)
    inputs = {"cohort": r.cohort, "cohort_mrr_start": r.start_mrr}
    if capped:
        inputs["cohort_mrr_capped"] = r.capped_mrr
    else:
        inputs["cohort_mrr_end"] = r.end_mrr
    return divide(r.capped_mrr if capped else r.end_mrr, r.start_mrr, inputs, base.warnings)


@metric("nrr", Unit.FRACTION)
def nrr(ctx: MetricContext) -> MetricResult:
    """Net revenue retention: Σ MRR(c, C) / Σ MRR(c, O) over the customers paying at O (B3)."""
    return _retention_rate(ctx, ctx.opening, capped=False)


@metric("grr", Unit.FRACTION)
def grr(ctx: MetricContext) -> MetricResult:
    """Gross revenue retention: Σ min(MRR(c, C), MRR(c, O)) / Σ MRR(c, O), capped per customer
    (B3)."""
    return _retention_rate(ctx, ctx.opening, capped=True)


@metric("nrr_ttm", Unit.FRACTION)
def nrr_ttm(ctx: MetricContext) -> MetricResult:
    """Trailing-twelve-month NRR: the NRR cohort taken at C - 1 year (B3)."""
    return _retention_rate(ctx, _year_before(ctx.closing), capped=False)


@metric("grr_ttm", Unit.FRACTION)
def grr_ttm(ctx: MetricContext) -> MetricResult:
    """Trailing-twelve-month GRR: the GRR cohort taken at C - 1 year (B3)."""
    return _retention_rate(ctx, _year_before(ctx.closing), capped=True)


@metric("expansion_rate", Unit.FRACTION)
def expansion_rate(ctx: MetricContext) -> MetricResult:
    """Expansion rate: expansion_mrr / mrr_start (B4)."""
    return _rate(ctx, ("expansion",), ())


@metric("quick_ratio", Unit.RATIO)
def quick_ratio(ctx: MetricContext) -> MetricResult:
    """SaaS quick ratio: (new + expansion + reactivation) / (churn + contraction) MRR (B5)."""
    s = summary(ctx)
    base = spans_result(ctx, 0.0)
    if base.status != "ok":
        return base
    gained = movement_sum(ctx, ("new", "expansion", "reactivation"), ())
    lost = movement_sum(ctx, ("churn", "contraction"), ())
    inputs = {MOVEMENT_KEYS[k]: s.amounts[k] for k in MOVEMENTS}
    return divide(gained, lost, inputs, base.warnings)
