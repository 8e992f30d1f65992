"""Metrics D2-D6: CAC, LTV, LTV:CAC, CAC payback, magic number (METRICS.md §4).

They combine other metrics through `ctx.value`: the billing counts and MRR of A/B (recurring.py,
retention.py) and the spend and gross margin of C4/D1 (finance.py).

Decisions where the spec is silent:
- CRM new customers (D2) are accounts whose first won new_business deal (by its effective close
  date, §1.7) falls in P; won deals without an account are left out and counted.
  `cac_include_reactivations` applies to the billing count only.
- `cac_lag_months: n` moves the spend window [p_start, E] n calendar months earlier; a month end
  stays a month end (2024-07-01..2024-09-30 with n = 1 reads 2024-06-01..2024-08-31).
- `cac_payback_months` is `cac / (asp_new_mrr x gm_ue)`, so it follows the CAC options.
- With several inputs lacking a value, a missing table or column wins over a null (it says what
  to map); for the complete-period metrics: unavailable, then `period_incomplete`, then null.
- LTV leaves out lookback months with an empty start cohort; `insufficient_history` when none is
  left. ARPA is the one at C (E for a partial period).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from revops_cli.metrics.context import (
    MetricContext,
    divide,
    inherit,
    null,
    number,
    ok,
)
from revops_cli.metrics.deal_frames import WON, all_deals
from revops_cli.metrics.mrr import spans
from revops_cli.metrics.registry import metric
from revops_cli.metrics.retention import monthly_churn
from revops_cli.periods import Period, previous_period
from revops_cli.results import MetricResult, Unit

NO_GROSS_MARGIN = "revenue_basis_no_gross_margin"


def _warnings(*results: MetricResult, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The warnings of every input, once each, in order of first appearance."""
    seen = [w for r in results for w in r.warnings] + list(extra)
    return tuple(dict.fromkeys(seen))


def _missing(*results: MetricResult) -> MetricResult | None:
    """The input without a value that a result inherits (D9); a missing table or column wins
    over a null, as it says what to map."""
    failing = sorted(
        (r for r in results if r.status != "ok" or r.value is None),
        key=lambda r: r.status != "unavailable",
    )
    return inherit(*failing) if failing else None


def _lookback(missing: MetricResult, churn: MetricResult) -> MetricResult:
    """`missing` with the lookback's inputs when the lookback had no month (D3:
    `inputs.lookback_months` says how many months the mean had, 0 here)."""
    if missing.reason != "insufficient_history":
        return missing
    return replace(missing, inputs=churn.inputs)


def _complete(ctx: MetricContext, *results: MetricResult) -> MetricResult | None:
    """Like `_missing`, for metrics that need a complete period (§2.6): a missing input first,
    then `period_incomplete`, then a null input."""
    missing = _missing(*results)
    if missing is not None and missing.status == "unavailable":
        return missing
    if ctx.partial:
        return null("period_incomplete")
    return missing


def gm_ue(ctx: MetricContext) -> tuple[float, dict[str, Any], tuple[str, ...]]:
    """The gross margin of §1.11: the period's gross_margin (revenue > 0 and COGS rows), else
    `unit_economics.gross_margin`, else 1 with the `revenue_basis_no_gross_margin` warning."""
    measured = ctx.value("gross_margin")
    revenue = ctx.value("revenue").value
    positive = isinstance(revenue, int | float) and revenue > 0  # credits can outweigh invoices
    if measured.status == "ok" and isinstance(measured.value, int | float) and positive:
        return float(measured.value), {"gm_ue": float(measured.value)}, ()
    configured = ctx.options.unit_economics.gross_margin
    if configured is not None:
        return configured, {"gm_ue": configured, "gm_ue_source": "config"}, ()
    return 1.0, {"gm_ue": 1.0, "gm_ue_source": "none"}, (NO_GROSS_MARGIN,)


# --- D2 --------------------------------------------------------------------------------------


def _months_before(day: date, months: int, month_end: bool) -> date:
    """`day` moved `months` calendar months earlier; a month end stays a month end."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = monthrange(year, month + 1)[1]
    return date(year, month + 1, last if month_end else min(day.day, last))


def _spend(ctx: MetricContext, key: str) -> MetricResult:
    """A spend metric for the period, or with `cac_lag_months: n` for [p_start, E] moved n months
    earlier (D11)."""
    lag = ctx.options.unit_economics.cac_lag_months
    if lag == 0:
        return ctx.value(key)
    end_of_month = (ctx.end + timedelta(days=1)).day == 1
    start = _months_before(ctx.start, lag, month_end=False)
    end = _months_before(ctx.end, lag, month_end=end_of_month)
    period = Period(f"{start.isoformat()}..{end.isoformat()}", start, end, "range", False)
    return ctx.sub_period(period).value(key)


def acquired(ctx: MetricContext) -> MetricResult:
    """The customers acquired in P for CAC: billing new customers (plus reactivations when
    `cac_include_reactivations`), or CRM accounts whose first won new-business deal closes in P."""
    options = ctx.options.unit_economics
    source = options.new_customers_source
    if source == "auto":  # billing when subscriptions are mapped (D2), loaded or not
        source = "billing" if "subscriptions" in ctx.config.sources else "crm"
    if source == "crm":
        return _crm_new_customers(ctx)
    parts = [ctx.value("new_customers")]
    if options.cac_include_reactivations:
        parts.append(ctx.value("reactivated_customers"))
    missing = _missing(*parts)
    if missing is not None:
        return missing
    inputs: dict[str, Any] = {"new_customers_source": "billing"}
    if options.cac_include_reactivations:
        inputs["reactivated_customers"] = parts[1].value
    return ok(sum(number(p) for p in parts), inputs, _warnings(*parts))


def _crm_new_customers(ctx: MetricContext) -> MetricResult:
    """Accounts whose first-ever won new_business deal closes in P, by the effective close date of
    §1.7 (`_close`: from the stage history with `deals.close_date_source: stage_history`)."""
    ctx.need("deals", "account_id", "close_date")
    won = all_deals(ctx).filter(
        WON & (pl.col("deal_type") == "new_business") & pl.col("_close").is_not_null()
    )
    first = (
        won.filter(pl.col("account_id").is_not_null())
        .group_by("account_id")
        .agg(pl.col("_close").min())
    )
    count = first.filter(ctx.in_period(pl.col("_close"))).height
    inputs: dict[str, Any] = {"new_customers_source": "crm"}
    no_account = won.filter(pl.col("account_id").is_null()).height
    if no_account:
        inputs["excluded_null_account"] = no_account
    return ok(count, inputs)


def _cac(ctx: MetricContext, spend_key: str) -> MetricResult:
    spend = _spend(ctx, spend_key)
    if spend.status == "unavailable":  # the numerator's missing input first, as the formula reads
        return MetricResult(None, spend.status, spend.reason, spend.warnings, {})
    customers = acquired(ctx)  # may raise Unavailable for a missing table or column
    missing = _missing(spend, customers)
    if missing is not None:
        return missing
    inputs = {spend_key: spend.value, "new_customers": customers.value, **customers.inputs}
    lag = ctx.options.unit_economics.cac_lag_months
    if lag:
        inputs["cac_lag_months"] = lag
    return divide(number(spend), number(customers), inputs, _warnings(spend, customers))


@metric("cac", Unit.CURRENCY)
def cac(ctx: MetricContext) -> MetricResult:
    """Blended CAC: sm_spend / new customers acquired in P (D2)."""
    return _cac(ctx, "sm_spend")


@metric("cac_marketing", Unit.CURRENCY)
def cac_marketing(ctx: MetricContext) -> MetricResult:
    """Marketing CAC: marketing_spend / new customers acquired in P (D2)."""
    return _cac(ctx, "marketing_spend")


# --- D3 --------------------------------------------------------------------------------------


def lookback_months(ctx: MetricContext) -> list[tuple[date, date]]:
    """The `churn.ltv_lookback_months` calendar months ending with the last complete month <= E."""
    complete = (ctx.end + timedelta(days=1)).day == 1
    last = ctx.end if complete else ctx.end.replace(day=1) - timedelta(days=1)
    months = []
    for back in range(ctx.options.churn.ltv_lookback_months - 1, -1, -1):
        first = _months_before(last.replace(day=1), back, month_end=False)
        months.append((first, _months_before(last, back, month_end=True)))
    return months


def churn_m(ctx: MetricContext) -> MetricResult:
    """The mean monthly logo churn of the lookback months with a start cohort (D3)."""
    rates = monthly_churn(ctx, lookback_months(ctx))
    if isinstance(rates, MetricResult):
        return rates
    if not rates:
        return null("insufficient_history", {"lookback_months": 0})
    mean = sum(rates.values()) / len(rates)
    inputs = {"churn_m": mean, "lookback_months": len(rates), "monthly_churn": rates}
    return ok(mean, inputs, spans(ctx).warnings)  # rows without a rate left the cohorts (§1.4)


@metric("ltv", Unit.CURRENCY)
def ltv(ctx: MetricContext) -> MetricResult:
    """Customer lifetime value: arpa / mean monthly logo churn of the lookback months (D3)."""
    revenue, churn = ctx.value("arpa"), churn_m(ctx)
    missing = _missing(revenue, churn)
    if missing is not None:
        return _lookback(missing, churn)
    inputs = {"arpa": number(revenue), **churn.inputs}
    return divide(number(revenue), number(churn), inputs, _warnings(revenue, churn))


@metric("ltv_gm", Unit.CURRENCY)
def ltv_gm(ctx: MetricContext) -> MetricResult:
    """Gross-margin LTV: ltv x gm_ue (D3, §1.11)."""
    base = ctx.value("ltv")
    missing = _missing(base)
    if missing is not None:
        return _lookback(missing, base)
    margin, inputs, warned = gm_ue(ctx)
    inputs = {"ltv": number(base), "lookback_months": base.inputs.get("lookback_months"), **inputs}
    return ok(number(base) * margin, inputs, _warnings(base, extra=warned))


@metric("customer_lifetime_months", Unit.MONTHS)
def customer_lifetime_months(ctx: MetricContext) -> MetricResult:
    """Customer lifetime: 1 / mean monthly logo churn of the lookback months (D3)."""
    churn = churn_m(ctx)
    missing = _missing(churn)
    if missing is not None:
        return _lookback(missing, churn)
    return divide(1.0, number(churn), churn.inputs, churn.warnings)


# --- D4-D6 -----------------------------------------------------------------------------------


@metric("ltv_to_cac", Unit.RATIO)
def ltv_to_cac(ctx: MetricContext) -> MetricResult:
    """LTV:CAC: ltv_gm / cac (D4)."""
    value, cost = ctx.value("ltv_gm"), ctx.value("cac")
    missing = _missing(value, cost)
    if missing is not None:
        return missing
    inputs = {"ltv_gm": number(value), "cac": number(cost)}
    return divide(number(value), number(cost), inputs, _warnings(value, cost))


@metric("cac_payback_months", Unit.MONTHS)
def cac_payback_months(ctx: MetricContext) -> MetricResult:
    """CAC payback: cac / (asp_new_mrr x gm_ue), months of new-customer margin (D5)."""
    cost, price = ctx.value("cac"), ctx.value("asp_new_mrr")
    missing = _complete(ctx, cost, price)
    if missing is not None:
        return missing
    margin, inputs, warned = gm_ue(ctx)
    inputs = {"cac": number(cost), "asp_new_mrr": number(price), **inputs}
    warnings = _warnings(cost, price, extra=warned)
    return divide(number(cost), number(price) * margin, inputs, warnings)


@metric("magic_number", Unit.RATIO)
def magic_number(ctx: MetricContext) -> MetricResult:
    """Magic number: (arr - arr_start) / sm_spend of the previous period of the same type (D6)."""
    end, start = ctx.value("arr"), ctx.value("arr_start")
    previous = previous_period(ctx.period, ctx.calendar)
    spend = ctx.sub_period(previous).value("sm_spend")
    missing = _complete(ctx, end, start, spend)
    if missing is not None:
        return missing
    net_new = number(end) - number(start)
    inputs = {
        "net_new_arr": net_new,
        "previous_period": previous.label,
        "sm_spend_previous": number(spend),
    }
    return divide(net_new, number(spend), inputs, _warnings(end, start, spend))
