"""Metrics B6 and E1-E10: renewals, bookings, win rate, deal size, cycle, pipeline, forecasts,
leads and the stage funnel (METRICS.md §1.7, §1.10, §4).

Every deal metric reads one frame of all deals with their effective close date, converted amount and
sales-scope flag (built once per run), and the deals decided in a window (built once per window).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from revops_cli.load.derive import FX_RATE, NATIVE_AMOUNT
from revops_cli.metrics.context import MetricContext, Unavailable, divide, inherit, null, number, ok
from revops_cli.metrics.registry import metric
from revops_cli.periods import resolve_forecast_period
from revops_cli.results import MetricResult, Unit

CLOSED = ("won", "lost")
WON = pl.col("status") == "won"
TERMINAL = "won"  # D38: the name of the funnel's terminal stage
FALLBACK = "forecast_snapshot_fallback"
Compute = Callable[[MetricContext], MetricResult]
UNDATED = date(1, 1, 1)  # a forecast without submitted_at sorts before every dated submission


# --- money: sums that skip null amounts and currencies without a rate (§1.4, §1.7) ---------------


@dataclass(frozen=True)
class Money:
    """A money sum over deals, with the rows it had to leave out."""

    total: float
    rows: int  # rows whose converted amount entered the sum
    missing: int  # rows with a null amount
    no_rate: dict[str, int] = field(default_factory=dict)  # currency -> rows without a rate

    @property
    def unconverted(self) -> int:
        return sum(self.no_rate.values())

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"no_fx_rate:{cur} ({n} rows)" for cur, n in sorted(self.no_rate.items()))

    @property
    def only_unconverted(self) -> bool:
        """Every row with an amount lacks a rate: the reason is no_fx_rate (D9)."""
        return self.rows == 0 and self.unconverted > 0

    @property
    def reason(self) -> str:
        return "no_fx_rate:" + ",".join(sorted(self.no_rate))


def _money(frame: pl.DataFrame, amount: pl.Expr | None = None) -> Money:
    """Σ amount (default `_amount`) over `frame`; nulls are left out and counted."""
    value = pl.col("_amount") if amount is None else amount
    row = frame.select(
        value.sum().alias("total"),
        value.is_not_null().sum().alias("rows"),
        pl.col("_missing").sum().alias("missing"),
    ).row(0)
    no_rate = frame.filter(pl.col("_no_rate")).group_by("currency").len()
    return Money(
        float(row[0] or 0.0),
        int(row[1]),
        int(row[2]),
        {str(cur): int(n) for cur, n in no_rate.iter_rows()},
    )


def _excluded(money: Money, missing_key: str = "excluded_null_amount") -> dict[str, int]:
    return {missing_key: money.missing, "excluded_no_fx_rate": money.unconverted}


def _sum(money: Money, inputs: dict[str, Any]) -> MetricResult:
    """A money sum: 0 for no rows, null `no_fx_rate:<CUR>` when every amount lacks a rate."""
    if money.only_unconverted:
        return null(money.reason, inputs, money.warnings)
    return ok(money.total, inputs, money.warnings)


def _ratio(part: Money, whole: Money, inputs: dict[str, Any]) -> MetricResult:
    if whole.only_unconverted:
        return null(whole.reason, inputs, whole.warnings)
    return divide(part.total, whole.total, inputs, whole.warnings)


# --- shared frames -------------------------------------------------------------------------------


def _deals(ctx: MetricContext) -> pl.DataFrame:
    """Every deal with `_close` (effective close date), `_created` (creation day), `_amount`
    (amount_rc, null when missing or without rate), `_missing`, `_no_rate` and `_scope` (in
    `sales.deal_types`); built once per run."""
    deals = ctx.need("deals")
    return ctx.shared(("sales.deals",), lambda: _build_deals(ctx, deals))


def _build_deals(ctx: MetricContext, deals: pl.DataFrame) -> pl.DataFrame:
    columns = deals.columns
    nothing = pl.lit(None, pl.Float64)
    amount = pl.col("amount") if "amount" in columns else nothing
    native = pl.col(NATIVE_AMOUNT) if NATIVE_AMOUNT in columns else amount
    no_rate = pl.col(FX_RATE).is_null() if FX_RATE in columns else pl.lit(False)
    frame = deals.with_columns(
        amount.alias("_amount"),
        native.is_null().alias("_missing"),
        (native.is_not_null() & no_rate).alias("_no_rate"),
        (ctx.day("created_at") if "created_at" in columns else pl.lit(None, pl.Date)).alias(
            "_created"
        ),
        (pl.col("close_date") if "close_date" in columns else pl.lit(None, pl.Date)).alias(
            "_close"
        ),
        pl.col("deal_type").is_in(list(ctx.options.sales.deal_types)).alias("_scope"),
    )
    if ctx.options.deals.close_date_source == "stage_history" and ctx.has("deal_stage_history"):
        frame = _close_from_history(ctx, frame)
    return frame


def _stage_status(ctx: MetricContext) -> dict[str, str]:
    """Lower-cased raw stage -> won/lost, from the deals source's `values.status` map."""
    lookup = {word: word for word in CLOSED}
    source = ctx.config.sources.get("deals")
    for word, raws in (source.values.get("status", {}) if source else {}).items():
        if word in CLOSED:
            lookup.update({raw.strip().lower(): word for raw in raws})
    return lookup


def _stage_key(column: str = "stage") -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase()


def _close_from_history(ctx: MetricContext, frame: pl.DataFrame) -> pl.DataFrame:
    """§1.7 `deals.close_date_source: stage_history`: a won (lost) deal closes on the first day it
    entered a won (lost) stage; deals without such a history row keep `close_date`."""
    history = ctx.need("deal_stage_history")
    entries = (
        history.select(
            "deal_id",
            _stage_key()
            .replace_strict(_stage_status(ctx), default=None, return_dtype=pl.String)
            .alias("status"),
            ctx.day("entered_at").alias("_entered"),
        )
        .drop_nulls()
        .group_by("deal_id", "status")
        .agg(pl.col("_entered").min().alias("_history_close"))
    )
    return (
        frame.join(entries, on=["deal_id", "status"], how="left")
        .with_columns(pl.coalesce("_history_close", "_close").alias("_close"))
        .drop("_history_close")
    )


def _closed(ctx: MetricContext) -> pl.DataFrame:
    """Won and lost deals of every type with effective close date in [p_start, E], once a window."""
    ctx.need("deals", "close_date")
    deals = _deals(ctx)
    return ctx.shared(
        ("sales.closed", ctx.start, ctx.end),
        lambda: deals.filter(pl.col("status").is_in(CLOSED) & ctx.in_period(pl.col("_close"))),
    )


def _scope_closed(ctx: MetricContext) -> pl.DataFrame:
    """In-scope (sales.deal_types) deals decided in the window, once a window."""
    closed = _closed(ctx)
    return ctx.shared(
        ("sales.closed.scope", ctx.start, ctx.end), lambda: closed.filter(pl.col("_scope"))
    )


def _merge_warnings(results: Iterable[MetricResult]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for r in results for w in r.warnings))


# --- B6 renewals ---------------------------------------------------------------------------------


def _renewals(ctx: MetricContext) -> pl.DataFrame:
    return _closed(ctx).filter(pl.col("deal_type") == "renewal")


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
    won, decided = _money(renewals.filter(WON)), _money(renewals)
    inputs = {"won_amount": won.total, "renewal_amount": decided.total, **_excluded(decided)}
    return _ratio(won, decided, inputs)


# --- E1 bookings ---------------------------------------------------------------------------------


def _bookings(ctx: MetricContext, deal_type: str | None) -> MetricResult:
    ctx.need("deals", "amount", "close_date")
    won = _closed(ctx).filter(WON)
    if deal_type is not None:
        won = won.filter(pl.col("deal_type") == deal_type)
    money = _money(won)
    inputs = {"won_deals": won.height, **_excluded(money, "won_missing_amount")}
    return _sum(money, inputs)


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
    won = _closed(ctx).filter(WON)
    return ok(won.height, {"won_missing_amount": int(won["_missing"].sum())})


# --- E2 win rate, E3 deal size, E4 sales cycle ---------------------------------------------------


@metric("win_rate", Unit.FRACTION)
def win_rate(ctx: MetricContext) -> MetricResult:
    """Win rate: won / (won + lost) in-scope deals with effective close date in P (E2)."""
    closed = _scope_closed(ctx)
    won = closed.filter(WON).height
    lost = closed.height - won
    return divide(won, won + lost, {"won": won, "lost": lost})


@metric("win_rate_amount", Unit.FRACTION)
def win_rate_amount(ctx: MetricContext) -> MetricResult:
    """Win rate by amount: won amount / (won + lost) amount of in-scope deals closed in P (E2)."""
    ctx.need("deals", "amount")
    closed = _scope_closed(ctx)
    won, decided = _money(closed.filter(WON)), _money(closed)
    inputs = {"won_amount": won.total, "closed_amount": decided.total, **_excluded(decided)}
    return _ratio(won, decided, inputs)


@metric("avg_deal_size", Unit.CURRENCY)
def avg_deal_size(ctx: MetricContext) -> MetricResult:
    """Average deal size: mean amount_rc of in-scope won deals closed in P with amount > 0 (E3).

    A $0 (or negative) amount is treated as missing data, like a null one (§1.7).
    """
    ctx.need("deals", "amount")
    won = _scope_closed(ctx).filter(WON)
    money = _money(won)
    positive = won.filter(pl.col("_amount") > 0)["_amount"]
    inputs = {
        "won_deals": won.height,
        "deals_averaged": positive.len(),
        "excluded_zero_amount": won.filter(pl.col("_amount") <= 0).height,
        **_excluded(money),
    }
    if positive.len() == 0:
        reason = money.reason if money.only_unconverted else "zero_denominator"
        return null(reason, inputs, money.warnings)
    return ok(float(positive.sum()) / positive.len(), inputs, money.warnings)


def _cycle(ctx: MetricContext) -> tuple[pl.Series, dict[str, int]]:
    """Days from creation to effective close of in-scope won deals (and lost ones with
    `sales_cycle.include_lost`) closed in the window; negative and undated ones left out."""
    ctx.need("deals", "created_at", "close_date")
    closed = _scope_closed(ctx)

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
    deals = _deals(ctx)
    return ctx.shared(
        ("sales.created", ctx.start, ctx.end),
        lambda: deals.filter(pl.col("_scope") & ctx.in_period(pl.col("_created"))),
    )


@metric("pipeline_created_amount", Unit.CURRENCY)
def pipeline_created_amount(ctx: MetricContext) -> MetricResult:
    """Pipeline created (amount): Σ amount_rc of in-scope deals created in P (E5)."""
    ctx.need("deals", "amount")
    created = _created(ctx)
    money = _money(created)
    return _sum(money, {"deals_created": created.height, **_excluded(money)})


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
    deals = _deals(ctx)
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
    warnings = _merge_warnings(parts)
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
    owner = pl.col("owner_id") if "owner_id" in columns else pl.lit(None, pl.String)
    team = pl.col("team") if "team" in columns else pl.lit(None, pl.String)
    submitted = (
        ctx.day("submitted_at") if "submitted_at" in columns else pl.lit(None, pl.Date)
    ).alias("submitted")
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
            "_seq",
        )
        .sort("_order", "_seq")
    )
    # period_start: the latest submitted on or before p_start, else the earliest inside P (with a
    # warning); period_end: the latest on or before p_end; latest: the latest of all. An undated
    # row counts as submitted before every dated one.
    snapshot = ctx.options.forecast.snapshot
    cutoff = {"period_start": period.start, "period_end": period.end}.get(snapshot, date.max)
    groups = ["scope", "key"]
    eligible = pl.col("_order") <= pl.lit(cutoff)
    chosen = (
        rows.filter(eligible)
        .group_by(groups, maintain_order=True)
        .last()
        .with_columns(fallback=False)
    )
    inside = ~eligible & (pl.col("_order") <= pl.lit(period.end))
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
    row = company.row(0, named=True)
    inputs = {"forecast": row["amount"], "forecast_submitted": row["submitted"]}
    return float(row["amount"]), inputs, (FALLBACK,) if row["fallback"] else ()


def _actual_won(ctx: MetricContext) -> pl.DataFrame:
    """Won deals of `forecast.actual_deal_types` (default: the sales scope) closed in the window."""
    types = ctx.options.forecast.actual_deal_types or ctx.options.sales.deal_types
    return _closed(ctx).filter(WON & pl.col("deal_type").is_in(list(types)))


# --- E7 open pipeline and coverage ---------------------------------------------------------------


def _open_pipeline(ctx: MetricContext) -> tuple[pl.DataFrame, dict[str, int]]:
    """In-scope open deals with max(p_start, A) <= close_date <= p_end (stale ones left out)."""
    ctx.need("deals", "amount", "close_date")
    if ctx.as_of > ctx.period.end:
        raise _PeriodClosed
    deals = _deals(ctx)

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


@metric("open_pipeline_amount", Unit.CURRENCY)
@_point_in_time
def open_pipeline_amount(ctx: MetricContext) -> MetricResult:
    """Open pipeline: Σ amount_rc of in-scope open deals closing in P, at A (E7).

    Stale deals (close date before A) are left out; a closed period is null `period_closed`.
    """
    deals, inputs = _open_pipeline(ctx)
    money = _money(deals)
    return _sum(money, {**inputs, **_excluded(money)})


@metric("weighted_pipeline_amount", Unit.CURRENCY)
@_point_in_time
def weighted_pipeline_amount(ctx: MetricContext) -> MetricResult:
    """Weighted pipeline: Σ amount_rc x probability of the open pipeline of P, at A (E7).

    A null probability leaves the deal out of this figure only (D36).
    """
    ctx.need("deals", "probability")
    deals, inputs = _open_pipeline(ctx)
    weighted = deals.filter(pl.col("probability").is_not_null())
    money = _money(weighted, pl.col("_amount") * pl.col("probability"))
    inputs = {
        **inputs,
        "excluded_null_probability": deals.height - weighted.height,
        **_excluded(money),
    }
    return _sum(money, inputs)


def _remaining_target(ctx: MetricContext) -> MetricResult:
    """target - bookings to date, where target = the company forecast for P (E7)."""

    def build() -> MetricResult:
        try:
            target, inputs, warnings = _company_forecast(ctx)
        except Unavailable as missing:
            return null(missing.reason)
        won = _scope_closed(ctx).filter(WON)  # closed in [p_start, E] and E = A here
        booked = _money(won)
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
    pipeline = ctx.value(pipeline_key)
    if (missing := inherit(pipeline)) is not None:
        return missing
    remaining = _remaining_target(ctx)
    inputs = {**pipeline.inputs, **remaining.inputs}
    warnings = _merge_warnings((pipeline, remaining))
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
    forecast, inputs, warnings = _company_forecast(ctx)
    actual = _money(_actual_won(ctx))
    if actual.only_unconverted:
        raise _NoRate(actual)
    inputs = {**inputs, "actual": actual.total, **_excluded(actual)}
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
    actual = _money(won.filter(key.is_in(rows["key"].to_list())))
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
        **_excluded(actual),
    }
    warnings = ((FALLBACK,) if joined["fallback"].any() else ()) + actual.warnings
    if actual.only_unconverted:
        return null(actual.reason, inputs, warnings)
    if total == 0:
        return null("zero_denominator", inputs, warnings)
    return ok(max(0.0, 1 - float(error) / float(total)), inputs, warnings)


# --- E9 leads ------------------------------------------------------------------------------------


def _mapped(ctx: MetricContext, table: str, column: str) -> bool:
    """The column comes from the export (vocabulary columns exist even when they do not)."""
    load = ctx.ds.loads.get(table)
    return column in ctx.need(table).columns and (load is None or column in load.columns)


def _leads_created(ctx: MetricContext) -> pl.DataFrame:
    """Leads with created_at in [p_start, E], once a window."""
    leads = ctx.need("leads", "created_at")
    return ctx.shared(
        ("sales.leads", ctx.start, ctx.end),
        lambda: leads.filter(ctx.in_period(ctx.day("created_at"))),
    )


def _converted(ctx: MetricContext) -> pl.Expr:
    """E9's converted lead, measured at A: converted_at <= A, or status converted without a
    converted_at, or a converted_deal_id."""
    leads = ctx.need("leads")
    signals: list[pl.Expr] = []
    converted_at = "converted_at" in leads.columns
    if converted_at:
        signals.append(ctx.day("converted_at") <= pl.lit(ctx.as_of))
    if _mapped(ctx, "leads", "status"):
        status = pl.col("status") == "converted"
        signals.append(status & pl.col("converted_at").is_null() if converted_at else status)
    if "converted_deal_id" in leads.columns:
        signals.append(pl.col("converted_deal_id").is_not_null())
    if not signals:
        raise Unavailable("missing_column:leads.converted_at")
    return pl.any_horizontal(signals).fill_null(False)


def _maturity(ctx: MetricContext) -> dict[str, Any]:
    """inputs.maturity_days = A - p_end (E9, T16): negative while the period is still running."""
    return {"maturity_days": (ctx.as_of - ctx.period.end).days}


@metric("leads_created", Unit.COUNT)
def leads_created(ctx: MetricContext) -> MetricResult:
    """Leads created: leads with created_at in P (E9)."""
    return ok(_leads_created(ctx).height, _maturity(ctx))


@metric("lead_conversion_rate", Unit.FRACTION)
def lead_conversion_rate(ctx: MetricContext) -> MetricResult:
    """Lead conversion rate: converted / created among leads created in P, at A (E9, cohort)."""
    cohort = _leads_created(ctx)
    converted = cohort.filter(_converted(ctx)).height
    inputs = {"leads": cohort.height, "converted": converted, **_maturity(ctx)}
    return divide(converted, cohort.height, inputs)


@metric("lead_to_customer_rate", Unit.FRACTION)
def lead_to_customer_rate(ctx: MetricContext) -> MetricResult:
    """Lead-to-customer rate: leads created in P whose converted deal is won / leads (E9)."""
    ctx.need("leads", "created_at", "converted_deal_id")
    deals = ctx.need("deals").select("deal_id", pl.col("status").alias("_deal_status"))
    cohort = _leads_created(ctx)
    linked = cohort.join(deals, left_on="converted_deal_id", right_on="deal_id", how="left")
    won = linked.filter(pl.col("_deal_status") == "won").height
    inputs = {"leads": cohort.height, "won_deals": won, **_maturity(ctx)}
    return divide(won, cohort.height, inputs)


# --- E10 stage funnel ----------------------------------------------------------------------------


@metric("stage_conversion", Unit.FRACTION)
def stage_conversion(ctx: MetricContext) -> MetricResult:
    """Stage conversion: reached(k+1) / reached(k) along `sales.stages` then `won`, over in-scope
    deals closed in P (E10, D7, D38).

    Linear fill: every cohort deal has reached the first stage, a deal has passed every stage
    below the highest one it entered, won deals reach `won`; stages outside the order are ignored.
    """
    cohort = _scope_closed(ctx)
    history = ctx.need("deal_stage_history")
    stages = ctx.options.sales.stages
    if not stages:
        return null("missing_input:sales.stages")
    order = {stage.strip().lower(): k for k, stage in enumerate(stages, start=1)}
    terminal = len(stages) + 1
    highest = (
        history.select(
            "deal_id",
            _stage_key().replace_strict(order, default=None, return_dtype=pl.Int64).alias("_k"),
        )
        .drop_nulls()
        .group_by("deal_id")
        .agg(pl.col("_k").max())
    )
    reached_stage = (
        cohort.select("deal_id", "status")
        .join(highest, on="deal_id", how="left")
        .select(pl.when(WON).then(pl.lit(terminal)).otherwise(pl.col("_k").fill_null(1).clip(1)))
        .to_series()
    )
    reached = [int((reached_stage >= k).sum()) for k in range(1, terminal + 1)]
    names = [*stages, TERMINAL]
    value: list[dict[str, Any]] = [
        {
            "from_stage": names[k],
            "to_stage": names[k + 1],
            "reached_from": reached[k],
            "reached_to": reached[k + 1],
            "rate": reached[k + 1] / reached[k] if reached[k] else None,
        }
        for k in range(len(stages))
    ]
    inputs = {"deals": cohort.height, "won": reached[-1]}
    if cohort.height == 0:
        return null("zero_denominator", inputs)
    return ok(value, inputs)
