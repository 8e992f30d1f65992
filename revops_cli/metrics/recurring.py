"""Metrics A1-A7 and B1-B5: MRR, ARR, movements, customers, churn and retention (METRICS §4).

Every metric here reads three frames built once per run (METRICS §1.5-§1.6):
- the paid spans: one row per subscription row that can carry MRR, `[paid_start, paid_end)` with its
  monthly MRR in the base currency and the customer key (`customer_grain`);
- the balances: `MRR(c, D)` for every key and every date of a snapshot grid (zeros included);
- the movements of each grid interval, classified in the branch order of §1.6 with `ε`.

Decisions where the spec is silent:
- `incomplete` rows never carry MRR, like `trialing` ones. `unpaid`, `paused` and
  `incomplete_expired` rows carry MRR over their dated span; without an end date they stop at the
  `period_end` of their last paid invoice, else they are excluded (§1.5.2).
- A row whose currency has no rate has no known MRR: it is left out of the spans, so it makes no
  customer paying either (warning `no_fx_rate:XYZ (n rows)`). When every row that could count
  lacks a rate, every A and B metric is null with `no_fx_rate:<most frequent currency>` (D9).
- An excluded row is counted once, under the first reason of EXCLUDED.
- `customer_grain: account` needs `customers.account_id`; without both end_date and canceled_at
  every span would be open-ended, so that is a missing column too.
- `customer_churn_rate_monthly` leaves out months with an empty start cohort, as D3 does.
- `net_new_mrr` is `mrr - mrr_start`; the movements sum to it up to the float noise ε absorbs
  (their sum is in `inputs.movements`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from revops_cli.metrics.context import (
    MetricContext,
    Unavailable,
    divide,
    inherit,
    null,
    number,
    ok,
)
from revops_cli.metrics.registry import metric
from revops_cli.periods import Period
from revops_cli.results import MetricResult, Unit

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
MOVEMENT_KEYS = {
    "new": "new_mrr",
    "expansion": "expansion_mrr",
    "contraction": "contraction_mrr",
    "churn": "churned_mrr",
    "reactivation": "reactivation_mrr",
}
# Current statuses that never carry MRR whatever the dates say (§1.5.1): a trial, or a first
# payment that has not gone through yet (Chargebee `future` maps here, D26).
NEVER_PAID = ("trialing", "incomplete")
# Non-paying current statuses whose change of status needs a date (§1.5.2).
UNDATED = ("unpaid", "paused", "incomplete_expired")
EXCLUDED = (
    "excluded_null_customer",
    "excluded_null_start",
    "excluded_no_fx_rate",
    "excluded_unknown_interval",
    "excluded_negative_quantity",
    "excluded_null_amount",
    "excluded_negative_mrr",
    "excluded_undated_status",
    "excluded_empty_span",
)


@dataclass(frozen=True)
class Spans:
    """The paid spans of the run (§1.5.2) and what was left out of them."""

    frame: pl.DataFrame  # key, paid_start, paid_end (null: open-ended), mrr
    first_paid: pl.DataFrame  # key, first_paid_date (§1.6)
    inputs: dict[str, int]  # subscription rows used, trialing rows, excluded_* counts (non-zero)
    warnings: tuple[str, ...]  # no_fx_rate:XYZ (n rows)
    failure: str | None  # no_fx_rate:XYZ when every row that could count lacks a rate (D9)


@dataclass(frozen=True)
class Summary:
    """Everything the A and B metrics read for one window."""

    mrr_start: float
    mrr: float
    customers_start: int
    customers: int
    amounts: dict[str, float]  # movement type -> summed amount over the grid
    events: dict[str, int]  # movement type -> number of events over the grid
    churned_from_start_cohort: int


@dataclass(frozen=True)
class Retention:
    """Start-cohort sums for NRR and GRR between two snapshots (B3)."""

    cohort: int
    start_mrr: float
    end_mrr: float
    capped_mrr: float


# --- shared frames ---------------------------------------------------------------------------


def spans(ctx: MetricContext) -> Spans:
    """The paid spans, built once per run; Unavailable when a needed column is missing."""
    _check_columns(ctx)
    return ctx.shared(("recurring.spans",), lambda: _build_spans(ctx))


def _mapped(ctx: MetricContext, column: str) -> bool:
    """Whether the export provides `column` (columns the loader always adds do not count)."""
    load = ctx.ds.loads.get("subscriptions")
    if load is not None:
        return column in load.columns
    return ctx.has("subscriptions", column)


def _check_columns(ctx: MetricContext) -> None:
    """D10: only columns without a default make the A and B metrics unavailable."""
    ctx.need("subscriptions", "customer_id", "start_date")
    source = ctx.options.mrr.source
    if source == "column" and not _mapped(ctx, "mrr"):
        raise Unavailable("missing_column:subscriptions.mrr")
    if source == "derived" or (source == "auto" and not _mapped(ctx, "mrr")):
        for column in ("amount", "interval"):
            if not _mapped(ctx, column):
                raise Unavailable(f"missing_column:subscriptions.{column}")
    if not (_mapped(ctx, "end_date") or _mapped(ctx, "canceled_at")):
        preferred = ctx.options.mrr.churn_recognition
        raise Unavailable(f"missing_column:subscriptions.{preferred}")
    if ctx.options.mrr.customer_grain == "account":
        ctx.need("customers", "customer_id", "account_id")


def _optional(frame: pl.DataFrame, column: str, dtype: type[pl.DataType]) -> pl.Expr:
    return pl.col(column) if column in frame.columns else pl.lit(None, dtype)


def _build_spans(ctx: MetricContext) -> Spans:
    subs = ctx.need("subscriptions")
    eps = ctx.options.mrr.movement_epsilon
    canceled = ctx.day("canceled_at") if "canceled_at" in subs.columns else pl.lit(None, pl.Date)
    ended = _optional(subs, "end_date", pl.Date)
    recognised = (ended, canceled)
    if ctx.options.mrr.churn_recognition == "canceled_at":
        recognised = (canceled, ended)
    trial_end = _optional(subs, "trial_end", pl.Date)
    frame = subs.select(
        pl.col("customer_id"),
        pl.col("status"),
        pl.coalesce(_optional(subs, "currency", pl.String), pl.lit(ctx.config.currency.base)).alias(
            "currency"
        ),
        pl.max_horizontal(pl.col("start_date"), trial_end).alias("paid_start"),
        pl.coalesce(*recognised).alias("paid_end"),
        pl.col("mrr").cast(pl.Float64),
        _optional(subs, "_fx_rate", pl.Float64).alias("fx_rate"),
        _optional(subs, "interval", pl.String).alias("interval"),
        _optional(subs, "quantity", pl.Int64).alias("quantity"),
        _optional(subs, "subscription_id", pl.String).alias("subscription_id"),
        pl.col("start_date"),
    )
    frame = _date_undated(ctx, frame)
    no_rate = pl.col("fx_rate").is_null() if "_fx_rate" in subs.columns else pl.lit(False)
    checks = (
        pl.col("customer_id").is_null(),
        pl.col("start_date").is_null(),
        no_rate,
        pl.col("mrr").is_null() & pl.col("interval").is_null(),
        pl.col("mrr").is_null() & (pl.col("quantity") < 0).fill_null(False),
        pl.col("mrr").is_null(),
        pl.col("mrr") < 0,
        pl.col("status").is_in(UNDATED) & pl.col("paid_end").is_null(),
        pl.col("paid_end") <= pl.col("paid_start"),
    )
    reason: pl.Expr = pl.lit(None, pl.String)
    for name, check in reversed(list(zip(EXCLUDED, checks, strict=True))):
        reason = pl.when(check.fill_null(False)).then(pl.lit(name)).otherwise(reason)
    candidates = frame.filter(~pl.col("status").is_in(NEVER_PAID)).with_columns(
        reason.alias("reason")
    )
    counts = dict(candidates.group_by("reason").len().iter_rows())
    inputs = {name: int(counts[name]) for name in EXCLUDED if counts.get(name)}
    inputs = {
        "subscription_rows": int(counts.get(None, 0)),
        "never_paid_rows": frame.height - candidates.height,
        **inputs,
    }
    missing_fx = (
        candidates.filter(pl.col("reason") == "excluded_no_fx_rate")
        .group_by("currency")
        .len()
        .sort(["len", "currency"], descending=[True, False])
    )
    warnings = tuple(f"no_fx_rate:{cur} ({n} rows)" for cur, n in sorted(missing_fx.iter_rows()))
    priced = candidates.filter(
        ~pl.col("reason").is_in(["excluded_null_customer", "excluded_null_start"]).fill_null(False)
    ).height
    failure = None
    if missing_fx.height and int(missing_fx["len"].sum()) == priced:
        failure = f"no_fx_rate:{missing_fx['currency'][0]}"
    used = _with_key(ctx, candidates.filter(pl.col("reason").is_null()))
    used = used.select("key", "paid_start", "paid_end", "mrr")
    first_paid = (
        used.filter(pl.col("mrr") > eps)
        .group_by("key")
        .agg(pl.col("paid_start").min().alias("first_paid_date"))
    )
    return Spans(used, first_paid, inputs, warnings, failure)


def _date_undated(ctx: MetricContext, frame: pl.DataFrame) -> pl.DataFrame:
    """§1.5.2: an unpaid, paused or expired row without an end date stops paying at the end of
    the service period of its last paid invoice."""
    invoices = ctx.ds.table("invoices")
    needed = ("subscription_id", "status", "period_end")
    if invoices is None or not all(c in invoices.columns for c in needed):
        return frame
    last = (
        invoices.filter((pl.col("status") == "paid") & pl.col("subscription_id").is_not_null())
        .group_by("subscription_id")
        .agg(pl.col("period_end").max().alias("_invoiced_end"))
    )
    undated = pl.col("status").is_in(UNDATED) & pl.col("paid_end").is_null()
    return (
        frame.join(last, on="subscription_id", how="left")
        .with_columns(
            pl.when(undated).then("_invoiced_end").otherwise("paid_end").alias("paid_end")
        )
        .drop("_invoiced_end")
    )


def _with_key(ctx: MetricContext, frame: pl.DataFrame) -> pl.DataFrame:
    """§1.5.4: the customer id, or with `customer_grain: account` the CRM account when known."""
    customer = pl.lit("customer:") + pl.col("customer_id")
    if ctx.options.mrr.customer_grain == "customer":
        return frame.with_columns(customer.alias("key"))
    accounts = (
        ctx.need("customers", "customer_id", "account_id")
        .filter(pl.col("customer_id").is_not_null())
        .unique("customer_id", keep="last")
        .select("customer_id", pl.col("account_id").alias("_account"))
    )
    account = pl.lit("account:") + pl.col("_account")
    return (
        frame.join(accounts, on="customer_id", how="left")
        .with_columns(pl.coalesce(account, customer).alias("key"))
        .drop("_account")
    )


def balances(ctx: MetricContext, dates: tuple[date, ...]) -> pl.DataFrame:
    """MRR(c, D) for every key paying at one of `dates` and every date: key, date, mrr."""

    def build() -> pl.DataFrame:
        frame = spans(ctx).frame
        grid = pl.DataFrame({"date": list(dates)}, schema={"date": pl.Date})
        on_books = (pl.col("paid_start") <= pl.col("date")) & (
            pl.col("paid_end").is_null() | (pl.col("date") < pl.col("paid_end"))
        )
        summed = (
            frame.join(grid, how="cross")
            .filter(on_books)
            .group_by("key", "date")
            .agg(pl.col("mrr").sum())
        )
        keys = summed.select("key").unique()
        return (
            keys.join(grid, how="cross")
            .join(summed, on=["key", "date"], how="left")
            .with_columns(pl.col("mrr").fill_null(0.0))
            .sort("key", "date")
        )

    return ctx.shared(("recurring.balances", dates), build)


def movements(ctx: MetricContext) -> pl.DataFrame:
    """The movements of every interval of the window's grid (§1.6): key, t0, t1, m0, m1, type,
    amount; intervals without a movement have a null type."""
    grid = tuple(ctx.window.grid())

    def build() -> pl.DataFrame:
        eps = ctx.options.mrr.movement_epsilon
        m0, m1 = pl.col("m0"), pl.col("m1")
        pairs = (
            balances(ctx, grid)
            .rename({"date": "t1", "mrr": "m1"})
            .with_columns(
                pl.col("t1").shift(1).over("key").alias("t0"),
                pl.col("m1").shift(1).over("key").alias("m0"),
            )
            .filter(pl.col("t0").is_not_null())
            .join(spans(ctx).first_paid, on="key", how="left")
        )
        returning = pl.col("first_paid_date").is_not_null() & (
            pl.col("first_paid_date") <= pl.col("t0")
        )
        kind = (
            pl.when((m0 <= eps) & (m1 > eps))
            .then(pl.when(returning).then(pl.lit("reactivation")).otherwise(pl.lit("new")))
            .when((m0 > eps) & (m1 <= eps))
            .then(pl.lit("churn"))
            .when((m0 > eps) & (m1 > eps) & (m1 - m0 > eps))
            .then(pl.lit("expansion"))
            .when((m0 > eps) & (m1 > eps) & (m0 - m1 > eps))
            .then(pl.lit("contraction"))
        )
        amount = (
            pl.when(pl.col("type").is_in(["new", "reactivation"]))
            .then(m1)
            .when(pl.col("type") == "churn")
            .then(m0)
            .when(pl.col("type") == "expansion")
            .then(m1 - m0)
            .when(pl.col("type") == "contraction")
            .then(m0 - m1)
        )
        return (
            pairs.with_columns(kind.alias("type"))
            .with_columns(amount.alias("amount"))
            .select("key", "t0", "t1", "m0", "m1", "type", "amount")
        )

    return ctx.shared(("recurring.movements", grid), build)


def summary(ctx: MetricContext) -> Summary:
    """Balances, counts and movements of the window, computed once."""
    grid = tuple(ctx.window.grid())

    def build() -> Summary:
        eps = ctx.options.mrr.movement_epsilon
        frame = balances(ctx, grid)
        ends = frame.filter(pl.col("date").is_in([ctx.opening, ctx.closing]))
        at = {day: ends.filter(pl.col("date") == day)["mrr"] for day in (ctx.opening, ctx.closing)}
        moves = movements(ctx).filter(pl.col("type").is_not_null())
        totals = {
            kind: (float(amount), int(n))
            for kind, amount, n in moves.group_by("type")
            .agg(pl.col("amount").sum(), pl.len())
            .iter_rows()
        }
        cohort = frame.filter((pl.col("date") == ctx.opening) & (pl.col("mrr") > eps))["key"]
        churned = moves.filter((pl.col("type") == "churn") & pl.col("key").is_in(cohort.implode()))
        return Summary(
            mrr_start=float(at[ctx.opening].sum()),
            mrr=float(at[ctx.closing].sum()),
            customers_start=int((at[ctx.opening] > eps).sum()),
            customers=int((at[ctx.closing] > eps).sum()),
            amounts={kind: totals.get(kind, (0.0, 0))[0] for kind in MOVEMENTS},
            events={kind: totals.get(kind, (0.0, 0))[1] for kind in MOVEMENTS},
            churned_from_start_cohort=churned["key"].n_unique(),
        )

    return ctx.shared(("recurring.summary", grid), build)


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


def _result(ctx: MetricContext, value: float, **inputs: float) -> MetricResult:
    """A value computed from the spans, with their exclusion counts and FX warnings."""
    base = spans(ctx)
    if base.failure is not None:
        return null(base.failure, base.inputs, base.warnings)
    return ok(value, {**inputs, **base.inputs}, base.warnings)


def _derived(ctx: MetricContext, numerator: str, denominator: str) -> MetricResult:
    """`numerator / denominator` of two other metrics (null on a zero denominator)."""
    top, bottom = ctx.value(numerator), ctx.value(denominator)
    missing = inherit(top, bottom)
    if missing is not None:
        return missing
    inputs = {numerator: top.value, denominator: bottom.value}
    return divide(number(top), number(bottom), inputs, top.warnings)


def _scaled(ctx: MetricContext, key: str, factor: float) -> MetricResult:
    base = ctx.value(key)
    missing = inherit(base)
    if missing is not None:
        return missing
    return ok(factor * number(base), {key: number(base)}, base.warnings)


def _movement_sum(
    ctx: MetricContext, positive: tuple[str, ...], negative: tuple[str, ...]
) -> float:
    amounts = summary(ctx).amounts
    return sum(amounts[k] for k in positive) - sum(amounts[k] for k in negative)


def _rate(ctx: MetricContext, positive: tuple[str, ...], negative: tuple[str, ...]) -> MetricResult:
    """Movement amounts relative to the opening MRR (B2, B4)."""
    s = summary(ctx)
    start = _result(ctx, s.mrr_start)
    if start.status != "ok":
        return start
    movement = _movement_sum(ctx, positive, negative)
    inputs = {MOVEMENT_KEYS[k]: s.amounts[k] for k in positive + negative}
    return divide(movement, s.mrr_start, {**inputs, "mrr_start": s.mrr_start}, start.warnings)


# --- A1-A7 -----------------------------------------------------------------------------------


@metric("mrr", Unit.CURRENCY)
def mrr(ctx: MetricContext) -> MetricResult:
    """MRR at the close: Σ_c MRR(c, C), the paying subscriptions at the end of day C (A1)."""
    s = summary(ctx)
    return _result(ctx, s.mrr, customers=s.customers)


@metric("mrr_start", Unit.CURRENCY)
def mrr_start(ctx: MetricContext) -> MetricResult:
    """MRR at the opening: Σ_c MRR(c, O), the end of the day before the period (A1)."""
    s = summary(ctx)
    return _result(ctx, s.mrr_start, customers_start=s.customers_start)


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
    return _result(ctx, s.amounts[kind], events=s.events[kind])


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
    movement = _movement_sum(ctx, ("new", "expansion", "reactivation"), ("contraction", "churn"))
    return _result(ctx, s.mrr - s.mrr_start, movements=movement)


@metric("customers_start", Unit.COUNT)
def customers_start(ctx: MetricContext) -> MetricResult:
    """Paying customers at the opening: |{c: MRR(c, O) > ε}| (A4)."""
    return _result(ctx, summary(ctx).customers_start)


@metric("customers", Unit.COUNT)
def customers(ctx: MetricContext) -> MetricResult:
    """Paying customers at the close: |{c: MRR(c, C) > ε}| (A4)."""
    return _result(ctx, summary(ctx).customers)


@metric("new_customers", Unit.COUNT)
def new_customers(ctx: MetricContext) -> MetricResult:
    """New customers: `new` movement events over the grid (A4)."""
    return _result(ctx, summary(ctx).events["new"])


@metric("reactivated_customers", Unit.COUNT)
def reactivated_customers(ctx: MetricContext) -> MetricResult:
    """Reactivated customers: `reactivation` movement events over the grid (A4)."""
    return _result(ctx, summary(ctx).events["reactivation"])


@metric("churned_customers", Unit.COUNT)
def churned_customers(ctx: MetricContext) -> MetricResult:
    """Churned customers: `churn` movement events over the grid (A4)."""
    return _result(ctx, summary(ctx).events["churn"])


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
    return _derived(ctx, "mrr", "customers")


@metric("asp_new_mrr", Unit.CURRENCY)
def asp_new_mrr(ctx: MetricContext) -> MetricResult:
    """Average sale price: new_mrr / new_customers, per month (A7)."""
    return _derived(ctx, "new_mrr", "new_customers")


# --- B1-B5 -----------------------------------------------------------------------------------


@metric("customer_churn_rate", Unit.FRACTION)
def customer_churn_rate(ctx: MetricContext) -> MetricResult:
    """Logo churn rate: start-cohort customers with a churn movement in P / customers at O (B1)."""
    s = summary(ctx)
    base = _result(ctx, 0.0)
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
    base = _result(ctx, 0.0)
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
    base = _result(ctx, 0.0)
    if base.status != "ok":
        return base
    gained = _movement_sum(ctx, ("new", "expansion", "reactivation"), ())
    lost = _movement_sum(ctx, ("churn", "contraction"), ())
    inputs = {MOVEMENT_KEYS[k]: s.amounts[k] for k in MOVEMENTS}
    return divide(gained, lost, inputs, base.warnings)
