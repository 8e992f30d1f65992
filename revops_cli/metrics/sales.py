"""Metrics B6 and E1-E6: renewals, bookings, win rate, deal size, cycle, pipeline created and
pipeline velocity (METRICS.md §1.7, §4).

They read the deal frames and money sums of deal_frames.py.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from revops_cli.metrics.context import MetricContext, divide, inherit, null, number, ok
from revops_cli.metrics.deal_frames import (
    CLOSED,
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
from revops_cli.results import MetricResult, Unit

# --- money ratios (B6, E2) ------------------------------------------------------------------------


def _ratio(part: Money, whole: Money, inputs: dict[str, Any]) -> MetricResult:
    if whole.only_unconverted:
        return null(whole.reason, inputs, whole.warnings)
    return divide(part.total, whole.total, inputs, whole.warnings)


# --- B6 renewals ---------------------------------------------------------------------------------


def _renewals(ctx: MetricContext) -> pl.DataFrame:
    return closed_deals(ctx).filter(pl.col("deal_type") == "renewal")


@metric("renewal_rate", Unit.FRACTION)
def renewal_rate(ctx: MetricContext) -> MetricResult:
    """Renewal rate (logo): won / (won + lost) renewal deals with effective close date in P (B6)."""
    renewals = _renewals(ctx)
    won = renewals.filter(WON).height
    lost = renewals.height - won
    return divide(won, won + lost, {"renewals_won": won, "renewals_lost": lost})


@metric("renewal_rate_amount", Unit.FRACTION)
def renewal_rate_amount(ctx: MetricContext) -> MetricResult:
    """Renewal rate by amount: Σ amount_rc won / Σ amount_rc (won + lost) renewals closed in P (B6).

    Renewal deals with a null amount count in the logo rate only.
    """
    ctx.need("deals", "amount")
    renewals = _renewals(ctx)
    won, decided = money_of(renewals.filter(WON)), money_of(renewals)
    inputs = {"won_amount": won.total, "renewal_amount": decided.total, **excluded(decided)}
    return _ratio(won, decided, inputs)


# --- E1 bookings ---------------------------------------------------------------------------------


def _bookings(ctx: MetricContext, deal_type: str | None) -> MetricResult:
    ctx.need("deals", "amount", "close_date")
    won = closed_deals(ctx).filter(WON)
    if deal_type is not None:
        won = won.filter(pl.col("deal_type") == deal_type)
    money = money_of(won)
    inputs = {"won_deals": won.height, **excluded(money, "won_missing_amount")}
    return money_result(money, inputs)


@metric("bookings", Unit.CURRENCY)
def bookings(ctx: MetricContext) -> MetricResult:
    """Bookings: Σ amount_rc of won deals of every type with effective close date in P (E1)."""
    return _bookings(ctx, None)


@metric("bookings_new_business", Unit.CURRENCY)
def bookings_new_business(ctx: MetricContext) -> MetricResult:
    """Bookings of new business: Σ amount_rc of won new_business deals closed in P (E1)."""
    return _bookings(ctx, "new_business")


@metric("bookings_expansion", Unit.CURRENCY)
def bookings_expansion(ctx: MetricContext) -> MetricResult:
    """Bookings of expansion: Σ amount_rc of won expansion deals closed in P (E1)."""
    return _bookings(ctx, "expansion")


@metric("bookings_renewal", Unit.CURRENCY)
def bookings_renewal(ctx: MetricContext) -> MetricResult:
    """Bookings of renewals: Σ amount_rc of won renewal deals closed in P (E1)."""
    return _bookings(ctx, "renewal")


@metric("bookings_count", Unit.COUNT)
def bookings_count(ctx: MetricContext) -> MetricResult:
    """Bookings count: won deals of every type closed in P, null amounts included (E1)."""
    won = closed_deals(ctx).filter(WON)
    return ok(won.height, {"won_missing_amount": int(won["_missing"].sum())})


# --- E2 win rate, E3 deal size, E4 sales cycle ---------------------------------------------------


@metric("win_rate", Unit.FRACTION)
def win_rate(ctx: MetricContext) -> MetricResult:
    """Win rate: won / (won + lost) in-scope deals with effective close date in P (E2)."""
    closed = scope_closed(ctx)
    won = closed.filter(WON).height
    lost = closed.height - won
    return divide(won, won + lost, {"won": won, "lost": lost})


@metric("win_rate_amount", Unit.FRACTION)
def win_rate_amount(ctx: MetricContext) -> MetricResult:
    """Win rate by amount: won amount / (won + lost) amount of in-scope deals closed in P (E2)."""
    ctx.need("deals", "amount")
    closed = scope_closed(ctx)
    won, decided = money_of(closed.filter(WON)), money_of(closed)
    inputs = {"won_amount": won.total, "closed_amount": decided.total, **excluded(decided)}
    return _ratio(won, decided, inputs)


@metric("avg_deal_size", Unit.CURRENCY)
def avg_deal_size(ctx: MetricContext) -> MetricResult:
    """Average deal size: mean amount_rc of in-scope won deals closed in P with amount > 0 (E3).

    A $0 (or negative) amount is treated as missing data, like a null one (§1.7).
    """
    ctx.need("deals", "amount")
    won = scope_closed(ctx).filter(WON)
    money = money_of(won)
    positive = won.filter(pl.col("_amount") > 0)["_amount"]
    inputs = {
        "won_deals": won.height,
        "deals_averaged": positive.len(),
        "excluded_zero_amount": won.filter(pl.col("_amount") <= 0).height,
        **excluded(money),
    }
    if positive.len() == 0:
        reason = money.reason if money.only_unconverted else "zero_denominator"
        return null(reason, inputs, money.warnings)
    return ok(float(positive.sum()) / positive.len(), inputs, money.warnings)


def _cycle(ctx: MetricContext) -> tuple[pl.Series, dict[str, int]]:
    """Days from creation to effective close of in-scope won deals (and lost ones with
    `sales_cycle.include_lost`) closed in the window; negative and undated ones left out."""
    ctx.need("deals", "created_at", "close_date")
    closed = scope_closed(ctx)

    def build() -> tuple[pl.Series, dict[str, int]]:
        statuses = CLOSED if ctx.options.sales_cycle.include_lost else ("won",)
        days = closed.filter(pl.col("status").is_in(statuses)).select(
            (pl.col("_close") - pl.col("_created")).dt.total_days().alias("days")
        )["days"]
        valid = days.filter(days >= 0)
        inputs = {
            "deals": valid.len(),
            "excluded_negative": int((days < 0).sum()),
            "excluded_null_created": days.null_count(),
        }
        return valid, inputs

    days, inputs = ctx.shared(("sales.cycle", ctx.start, ctx.end), build)
    return days, dict(inputs)


@metric("sales_cycle_days", Unit.DAYS)
def sales_cycle_days(ctx: MetricContext) -> MetricResult:
    """Sales cycle (mean): mean days from created_at to effective close of won deals (E4)."""
    days, inputs = _cycle(ctx)
    if days.len() == 0:
        return null("zero_denominator", inputs)
    return ok(float(days.sum()) / days.len(), inputs)


@metric("sales_cycle_days_median", Unit.DAYS)
def sales_cycle_days_median(ctx: MetricContext) -> MetricResult:
    """Sales cycle (median): median days from created_at to effective close of won deals (E4)."""
    days, inputs = _cycle(ctx)
    median = days.median()
    if days.len() == 0 or not isinstance(median, int | float):
        return null("zero_denominator", inputs)
    return ok(float(median), inputs)


# --- E5 pipeline created, E6 velocity ------------------------------------------------------------


def _created(ctx: MetricContext) -> pl.DataFrame:
    """In-scope deals created in [p_start, E], whatever their status now, once a window."""
    ctx.need("deals", "created_at")
    deals = all_deals(ctx)
    return ctx.shared(
        ("sales.created", ctx.start, ctx.end),
        lambda: deals.filter(pl.col("_scope") & ctx.in_period(pl.col("_created"))),
    )


@metric("pipeline_created_amount", Unit.CURRENCY)
def pipeline_created_amount(ctx: MetricContext) -> MetricResult:
    """Pipeline created (amount): Σ amount_rc of in-scope deals created in P (E5)."""
    ctx.need("deals", "amount")
    created = _created(ctx)
    money = money_of(created)
    return money_result(money, {"deals_created": created.height, **excluded(money)})


@metric("pipeline_created_count", Unit.COUNT)
def pipeline_created_count(ctx: MetricContext) -> MetricResult:
    """Pipeline created (count): in-scope deals created in P, whatever their status now (E5)."""
    created = _created(ctx)
    return ok(created.height, {"excluded_null_amount": int(created["_missing"].sum())})


def _opportunities(ctx: MetricContext) -> MetricResult:
    """N of the velocity formula (`pipeline_velocity.opportunities`)."""
    if ctx.options.pipeline_velocity.opportunities == "created_in_period":
        return ctx.value("pipeline_created_count")
    # open_at_as_of: in-scope deals open in the export at A; stale ones (close date < A) are not
    # pipeline (§1.7), an open deal without a close date is
    deals = all_deals(ctx)
    open_deals = deals.filter(pl.col("_scope") & (pl.col("status") == "open"))
    stale = open_deals.filter(pl.col("_close") < pl.lit(ctx.as_of)).height
    return ok(open_deals.height - stale, {"excluded_stale": stale})


@metric("pipeline_velocity", Unit.CURRENCY_PER_DAY)
def pipeline_velocity(ctx: MetricContext) -> MetricResult:
    """Pipeline velocity: N x win_rate x avg_deal_size / sales_cycle_days, per day (E6)."""
    parts = (
        _opportunities(ctx),
        ctx.value("win_rate"),
        ctx.value("avg_deal_size"),
        ctx.value("sales_cycle_days"),
    )
    if (missing := inherit(*parts)) is not None:
        return missing
    n, rate, size, cycle = (number(part) for part in parts)
    inputs = {
        "opportunities": int(n),
        "opportunities_basis": ctx.options.pipeline_velocity.opportunities,
        "win_rate": rate,
        "avg_deal_size": size,
        "sales_cycle_days": cycle,
    }
    warnings = merge_warnings(parts)
    if cycle == 0:
        return null("zero_denominator", inputs, warnings)
    return ok(n * rate * size / cycle, inputs, warnings)


@metric("pipeline_velocity_period", Unit.CURRENCY)
def pipeline_velocity_period(ctx: MetricContext) -> MetricResult:
    """Pipeline velocity per period: pipeline_velocity x days(P), days of [p_start, E] (E6, D32)."""
    velocity = ctx.value("pipeline_velocity")
    if (missing := inherit(velocity)) is not None:
        return missing
    days = (ctx.end - ctx.start).days + 1
    return ok(number(velocity) * days, {**velocity.inputs, "days": days}, velocity.warnings)
