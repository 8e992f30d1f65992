"""Metrics A1-A7: MRR, ARR, movements, customers, growth, ARPA and ASP (METRICS §4).

They read the paid spans, balances and movements of mrr.py (METRICS §1.5-§1.6).

Decisions where the spec is silent:
- `net_new_mrr` is `mrr - mrr_start`; the movements sum to it up to the float noise ε absorbs
  (their sum is in `inputs.movements`).
"""

from __future__ import annotations

from revops_cli.metrics.context import MetricContext, divide, inherit, number, ok, ratio_of
from revops_cli.metrics.mrr import movement_sum, spans_result, summary
from revops_cli.metrics.registry import metric
from revops_cli.results import MetricResult, Unit

# --- result helpers --------------------------------------------------------------------------


def _scaled(ctx: MetricContext, key: str, factor: float) -> MetricResult:
    base = ctx.value(key)
    missing = inherit(base)
    if missing is not None:
        return missing
    return ok(factor * number(base), {key: number(base)}, base.warnings)


# --- A1-A7 -----------------------------------------------------------------------------------


@metric("mrr", Unit.CURRENCY)
def mrr(ctx: MetricContext) -> MetricResult:
    """MRR at the close: Σ_c MRR(c, C), the paying subscriptions at the end of day C (A1)."""
    s = summary(ctx)
    return spans_result(ctx, s.mrr, customers=s.customers)


@metric("mrr_start", Unit.CURRENCY)
def mrr_start(ctx: MetricContext) -> MetricResult:
    """MRR at the opening: Σ_c MRR(c, O), the end of the day before the period (A1)."""
    s = summary(ctx)
    return spans_result(ctx, s.mrr_start, customers_start=s.customers_start)


@metric("arr", Unit.CURRENCY)
def arr(ctx: MetricContext) -> MetricResult:
    """ARR at the close: the run rate 12 x mrr (A2)."""
    return _scaled(ctx, "mrr", 12.0)


@metric("arr_start", Unit.CURRENCY)
def arr_start(ctx: MetricContext) -> MetricResult:
    """ARR at the opening: 12 x mrr_start (A2)."""
    return _scaled(ctx, "mrr_start", 12.0)


def _movement(ctx: MetricContext, kind: str) -> MetricResult:
    s = summary(ctx)
    return spans_result(ctx, s.amounts[kind], events=s.events[kind])


@metric("new_mrr", Unit.CURRENCY)
def new_mrr(ctx: MetricContext) -> MetricResult:
    """New MRR: first-ever paying customers, at their MRR on the grid date they appear (A3)."""
    return _movement(ctx, "new")


@metric("expansion_mrr", Unit.CURRENCY)
def expansion_mrr(ctx: MetricContext) -> MetricResult:
    """Expansion MRR: increases of customers paying at both ends of a grid interval (A3)."""
    return _movement(ctx, "expansion")


@metric("contraction_mrr", Unit.CURRENCY)
def contraction_mrr(ctx: MetricContext) -> MetricResult:
    """Contraction MRR: decreases that leave the customer paying (A3)."""
    return _movement(ctx, "contraction")


@metric("churned_mrr", Unit.CURRENCY)
def churned_mrr(ctx: MetricContext) -> MetricResult:
    """Churned MRR: the MRR of customers who stop paying within a grid interval (A3)."""
    return _movement(ctx, "churn")


@metric("reactivation_mrr", Unit.CURRENCY)
def reactivation_mrr(ctx: MetricContext) -> MetricResult:
    """Reactivation MRR: previously paying customers who pay again (A3)."""
    return _movement(ctx, "reactivation")


@metric("net_new_mrr", Unit.CURRENCY)
def net_new_mrr(ctx: MetricContext) -> MetricResult:
    """Net new MRR: new + expansion + reactivation - contraction - churn = mrr - mrr_start (A3)."""
    s = summary(ctx)
    movement = movement_sum(ctx, ("new", "expansion", "reactivation"), ("contraction", "churn"))
    return spans_result(ctx, s.mrr - s.mrr_start, movements=movement)


@metric("customers_start", Unit.COUNT)
def customers_start(ctx: MetricContext) -> MetricResult:
    """Paying customers at the opening: |{c: MRR(c, O) > ε}| (A4)."""
    return spans_result(ctx, summary(ctx).customers_start)


@metric("customers", Unit.COUNT)
def customers(ctx: MetricContext) -> MetricResult:
    """Paying customers at the close: |{c: MRR(c, C) > ε}| (A4)."""
    return spans_result(ctx, summary(ctx).customers)


@metric("new_customers", Unit.COUNT)
def new_customers(ctx: MetricContext) -> MetricResult:
    """New customers: `new` movement events over the grid (A4)."""
    return spans_result(ctx, summary(ctx).events["new"])


@metric("reactivated_customers", Unit.COUNT)
def reactivated_customers(ctx: MetricContext) -> MetricResult:
    """Reactivated customers: `reactivation` movement events over the grid (A4)."""
    return spans_result(ctx, summary(ctx).events["reactivation"])


@metric("churned_customers", Unit.COUNT)
def churned_customers(ctx: MetricContext) -> MetricResult:
    """Churned customers: `churn` movement events over the grid (A4)."""
    return spans_result(ctx, summary(ctx).events["churn"])


def _growth(ctx: MetricContext, end: str, start: str) -> MetricResult:
    top, bottom = ctx.value(end), ctx.value(start)
    missing = inherit(top, bottom)
    if missing is not None:
        return missing
    inputs = {end: number(top), start: number(bottom)}
    return divide(number(top) - number(bottom), number(bottom), inputs, top.warnings)


@metric("mrr_growth_rate", Unit.FRACTION)
def mrr_growth_rate(ctx: MetricContext) -> MetricResult:
    """MRR growth rate: (mrr - mrr_start) / mrr_start (A5)."""
    return _growth(ctx, "mrr", "mrr_start")


@metric("arr_growth_rate", Unit.FRACTION)
def arr_growth_rate(ctx: MetricContext) -> MetricResult:
    """ARR growth rate: (arr - arr_start) / arr_start, equal to the MRR growth rate (A5)."""
    return _growth(ctx, "arr", "arr_start")


@metric("arpa", Unit.CURRENCY)
def arpa(ctx: MetricContext) -> MetricResult:
    """ARPA: mrr / customers at the close, per month (A6)."""
    return ratio_of(ctx, "mrr", "customers")


@metric("asp_new_mrr", Unit.CURRENCY)
def asp_new_mrr(ctx: MetricContext) -> MetricResult:
    """Average sale price: new_mrr / new_customers, per month (A7)."""
    return ratio_of(ctx, "new_mrr", "new_customers")
