"""The MRR frames every A and B metric reads (METRICS §1.5-§1.6), built once per run:
- the paid spans: one row per subscription row that can carry MRR, `[paid_start, paid_end)` with its
  monthly MRR in the base currency and the customer key (`customer_grain`);
- the balances: `MRR(c, D)` for every key and every date of a snapshot grid (zeros included);
- the movements of each grid interval, classified in the branch order of §1.6 with `ε`.

Decisions where the spec is silent:
- `incomplete` rows never carry MRR, like `trialing` ones. `unpaid`, `paused` and
  `incomplete_expired` rows carry MRR over their dated span; without an end date they stop at the
  `period_end` of their last paid invoice, else they are excluded (§1.5.2). With an end date they
  stop at it, as any row (§1.5.2 "whatever the status"). Either way they stop at A the latest: the
  status is the current one, so they do not pay at A (§1.5.1 "no (current state)", A1 "paused and
  unpaid 0"), even when the end date or the last paid invoice's period runs past A.
- A row whose currency has no rate has no known MRR: it is left out of the spans, so it makes no
  customer paying either (warning `no_fx_rate:XYZ (n rows)`). When every row that could count
  lacks a rate, every A and B metric is null with `no_fx_rate:<most frequent currency>` (D9).
- An excluded row is counted once, under the first reason of EXCLUDED.
- `customer_grain: account` keys a customer without a known account (no customers table, no
  account_id column, or an empty cell) by its customer id (§1.5.4, §7). Without both end_date and
  canceled_at every span would be open-ended, so that is a missing column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import polars as pl

from revops_cli.load.derive import mrr_inputs
from revops_cli.metrics.context import MetricContext, Unavailable, no_fx_reason, null, ok
from revops_cli.results import MetricResult
from revops_cli.schema import NEVER_PAID

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
MOVEMENT_KEYS = {
    "new": "new_mrr",
    "expansion": "expansion_mrr",
    "contraction": "contraction_mrr",
    "churn": "churned_mrr",
    "reactivation": "reactivation_mrr",
}
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
    mapped = [c for c in ("mrr", "amount", "interval") if _mapped(ctx, c)]
    for column in mrr_inputs(ctx.config, mapped):
        if column not in mapped:
            raise Unavailable(f"missing_column:subscriptions.{column}")
    lacking = ctx.ds.lacking("subscriptions", "end_date", "canceled_at")
    if lacking is not None:  # S001: when a row stops cannot be told
        raise Unavailable(lacking)
    if not (_mapped(ctx, "end_date") or _mapped(ctx, "canceled_at")):
        preferred = ctx.options.mrr.churn_recognition
        raise Unavailable(f"missing_column:subscriptions.{preferred}")


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
    # interval and quantity explain a missing MRR only where it is derived from them (§1.5.3)
    underived = pl.col("mrr").is_null() & pl.lit(ctx.options.mrr.source != "column")
    checks = (
        pl.col("customer_id").is_null(),
        pl.col("start_date").is_null(),
        no_rate,
        underived & pl.col("interval").is_null(),
        underived & (pl.col("quantity") < 0).fill_null(False),
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
        failure = no_fx_reason(dict(missing_fx.iter_rows()))
    used = _with_key(ctx, candidates.filter(pl.col("reason").is_null()))
    # The key as a dense integer in the order of its text: the balance grids join, group and sort
    # on it many times per run, and integers are several times cheaper there than strings.
    used = used.select(pl.col("key").rank("dense"), "paid_start", "paid_end", "mrr")
    first_paid = (
        used.filter(pl.col("mrr") > eps)
        .group_by("key")
        .agg(pl.col("paid_start").min().alias("first_paid_date"))
    )
    return Spans(used, first_paid, inputs, warnings, failure)


def _date_undated(ctx: MetricContext, frame: pl.DataFrame) -> pl.DataFrame:
    """§1.5.2: an unpaid, paused or expired row without an end date stops paying at the end of
    the service period of its last paid invoice; one with an end date stops at that date, as
    any row ("the service-end date end_date when set ... whatever the status"). Either stops by the
    as-of day at the latest: its status is the current one (§1.5.1: unpaid and paused count
    "no (current state)"; A1: "paused and unpaid 0"), so it does not pay at A, whether its last
    invoice or its end date runs past A."""
    non_paying = pl.col("status").is_in(UNDATED)
    frame = frame.with_columns(
        pl.when(non_paying & (pl.col("paid_end") > pl.lit(ctx.as_of)))
        .then(pl.lit(ctx.as_of))
        .otherwise("paid_end")
        .alias("paid_end")
    )
    undated = non_paying & pl.col("paid_end").is_null()
    if not frame.select(undated.any()).item():
        return frame  # the usual case: no invoice need be read
    invoices = ctx.ds.table("invoices")
    needed = ("subscription_id", "status", "period_end")
    if invoices is None or not all(c in invoices.columns for c in needed):
        last = (
            frame.select("subscription_id")
            .head(0)
            .with_columns(pl.lit(None, pl.Date).alias("_invoiced_end"))
        )
    else:
        last = (
            invoices.lazy()  # lazy: the filter reads three columns, not every column of them
            .filter((pl.col("status") == "paid") & pl.col("subscription_id").is_not_null())
            .group_by("subscription_id")
            .agg(pl.col("period_end").max().alias("_invoiced_end"))
            .collect()
        )
    invoiced = pl.col("_invoiced_end")
    by_as_of = pl.min_horizontal(invoiced, pl.lit(ctx.as_of))
    return (
        frame.join(last, on="subscription_id", how="left")
        .with_columns(
            pl.when(undated)
            .then(pl.when(invoiced.is_not_null()).then(by_as_of))  # no paid invoice: excluded
            .otherwise("paid_end")
            .alias("paid_end")
        )
        .drop("_invoiced_end")
    )


def _with_key(ctx: MetricContext, frame: pl.DataFrame) -> pl.DataFrame:
    """§1.5.4: the customer id, or with `customer_grain: account` the CRM account when known."""
    customer = pl.lit("customer:") + pl.col("customer_id")
    if ctx.options.mrr.customer_grain == "customer" or not ctx.has(
        "customers", "customer_id", "account_id"
    ):
        # without customers.account_id no customer has a known account: each is its own key
        # (§7 lists customers as optional for the account grain)
        return frame.with_columns(customer.alias("key"))
    accounts = (
        ctx.ds.tables["customers"]
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
    """MRR(c, D) for every key paying at one of `dates` and every date: key, date, mrr, sorted
    by key and date. Its users sum MRR, count keys above ε and pair consecutive dates, so keys
    at 0 on every date (no movement, no customer) change nothing."""

    def build() -> pl.DataFrame:
        for other, frame in ctx.built("recurring.balances", pl.DataFrame):
            if _distinct(dates) and _distinct(other) and set(dates) < set(other):
                # a month of the quarter, say: the quarter's rows of these dates (with keys at 0
                # here that pay only on the quarter's other dates)
                return frame.filter(pl.col("date").is_in(list(dates)))
        grid = pl.DataFrame({"date": list(dates)}, schema={"date": pl.Date})
        summed = pl.concat([_on_books(ctx, day) for day in dict.fromkeys(dates)])
        # lazy: the eager join, unique and sort of one-chunk string keys run on one core
        keys = summed.lazy().select("key").unique()
        return (
            keys.join(grid.lazy(), how="cross")
            .join(summed.lazy(), on=["key", "date"], how="left")
            .with_columns(pl.col("mrr").fill_null(0.0))
            .sort("key", "date")
            .collect()
        )

    return ctx.shared(("recurring.balances", dates), build)


def _on_books(ctx: MetricContext, day: date) -> pl.DataFrame:
    """key, date, mrr summed over the spans on the books at the end of `day`, once per day: the
    windows of a run (period, previous period, months, trailing twelve months) share most days."""

    def build() -> pl.DataFrame:
        on_books = (pl.col("paid_start") <= day) & (
            pl.col("paid_end").is_null() | (pl.lit(day) < pl.col("paid_end"))
        )
        return (
            spans(ctx)
            .frame.lazy()
            .filter(on_books)
            .group_by("key")
            .agg(pl.col("mrr").sum())
            .select("key", pl.lit(day, pl.Date).alias("date"), "mrr")
            .collect()
        )

    return ctx.shared(("recurring.on_books", day), build)


def movements(ctx: MetricContext) -> pl.DataFrame:
    """The movements of every interval of the window's grid (§1.6): key, t0, t1, m0, m1, type,
    amount; intervals without a movement have a null type."""
    grid = tuple(ctx.window.grid())

    def build() -> pl.DataFrame:
        for other, frame in ctx.built("recurring.movements", pl.DataFrame):
            if _run_of(grid, other):  # the quarter's movements of these intervals
                return frame.filter(pl.col("t1").is_in(list(grid[1:])))
        eps = ctx.options.mrr.movement_epsilon
        m0, m1 = pl.col("m0"), pl.col("m1")
        pairs = (
            balances(ctx, grid)
            .rename({"date": "t1", "mrr": "m1"})
            # balances are sorted by key and date: the row before is the key's previous date
            # when it has the same key (cheaper than a shift over the key's window)
            .with_columns(
                pl.when(pl.col("key") == pl.col("key").shift(1)).then(pl.col(c).shift(1)).alias(a)
                for c, a in (("t1", "t0"), ("m1", "m0"))
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


def _distinct(dates: tuple[date, ...]) -> bool:
    return len(set(dates)) == len(dates)


def _run_of(grid: tuple[date, ...], other: tuple[date, ...]) -> bool:
    """Whether `grid` is a shorter run of consecutive dates of `other`: each of its intervals is
    then one of `other`'s, with the same movements."""
    size = len(grid)
    return size < len(other) and any(
        other[i : i + size] == grid for i in range(len(other) - size + 1)
    )


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
            # sums that do not depend on order: a day's MRR is then the same float in every
            # window that has the day (a plain sum's rounding depends on the keys at 0 beside
            # it), and net new MRR is 0 when nothing moved, not float noise that a later delta
            # divides by (D5)
            mrr_start=_order_free_sum(at[ctx.opening]),
            mrr=_order_free_sum(at[ctx.closing]),
            customers_start=int((at[ctx.opening] > eps).sum()),
            customers=int((at[ctx.closing] > eps).sum()),
            amounts={kind: totals.get(kind, (0.0, 0))[0] for kind in MOVEMENTS},
            events={kind: totals.get(kind, (0.0, 0))[1] for kind in MOVEMENTS},
            churned_from_start_cohort=churned["key"].n_unique(),
        )

    return ctx.shared(("recurring.summary", grid), build)


def _order_free_sum(values: pl.Series) -> float:
    """The sum of `values` (no nulls) whatever their order and the zeros beside them: each value
    fixed to 12 decimals (half a pico-unit off at most) and added as integers. A value too
    large for that (beyond 10^26) or not finite falls back to fsum, exact as well."""
    largest = values.abs().max()
    if not values.is_finite().all() or (isinstance(largest, float) and largest >= 1e26):
        return math.fsum(values.to_list())
    return float(values.cast(pl.Decimal(38, 12)).sum())


# --- result helpers --------------------------------------------------------------------------


def spans_result(ctx: MetricContext, value: float, **inputs: float) -> MetricResult:
    """A value computed from the spans, with their exclusion counts and FX warnings."""
    base = spans(ctx)
    if base.failure is not None:
        return null(base.failure, base.inputs, base.warnings)
    return ok(value, {**inputs, **base.inputs}, base.warnings)


def movement_sum(ctx: MetricContext, positive: tuple[str, ...], negative: tuple[str, ...]) -> float:
    """Σ of the `positive` movement amounts minus Σ of the `negative` ones over the window."""
    amounts = summary(ctx).amounts
    return sum(amounts[k] for k in positive) - sum(amounts[k] for k in negative)
