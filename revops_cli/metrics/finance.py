"""Metrics C1-C4 and D1: revenue, growth, predictability, gross margin, spend (METRICS.md §4).

Invoices and expenses both become rows with a span of days `[_start, _end)` and a base-currency
`_amount`; the amount a window gets is `_amount x |span ∩ [p_start, E + 1)| / |span|`:

- an invoice spans its service period `[period_start, period_end)` under ratable recognition when
  both dates are set and `period_end > period_start`, else the single day `date(issued_at)` (§1.8);
- an expense spans its day (`expenses.granularity: day`) or its calendar month (`month`, §1.9).

The row frames are built once per run and the per-window totals once per window (`ctx.shared`), so
the metrics below only read sums. A row whose currency has no rate is left out of the sums and
named in `warnings`; when every row of a sum lacks a rate the sum is null with `no_fx_rate:<CUR>`
(D9).

Decisions where the spec is silent:
- `void`, `draft` and `uncollectible` invoices are never revenue, even when listed in
  `revenue.invoice_statuses` (the result then warns `ignored_invoice_status:<status>`): §1.8 says
  each "is excluded" without a condition; uncollectible ones go to `revenue_uncollectible` alone.
- Marketing rows without a channel are summed under the key `(none)`; channels are sorted by name
  with `(none)` last.
- Growth compares with the like-for-like window of the previous (or year-earlier) period
  (`periods.comparison_window`): the whole period when this one is complete, the same number of
  elapsed days when it is partial (§2.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from revops_cli.load.derive import FX_RATE
from revops_cli.metrics.context import (
    MetricContext,
    divide,
    inherit,
    no_fx_reason,
    null,
    number,
    ok,
    ratio_of,
)
from revops_cli.metrics.registry import metric
from revops_cli.periods import Period, comparison_window, previous_period, year_earlier
from revops_cli.results import MetricResult, Unit

NO_CHANNEL = "(none)"  # key of marketing spend whose row has no channel
NEVER_REVENUE = ("void", "draft", "uncollectible")
ONE_DAY = timedelta(days=1)


# --- sums over one window ------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """A money sum over the rows of one window, with the rows it had to leave out."""

    value: float
    rows: int  # rows with a share of the window, excluded ones included
    no_fx: dict[str, int]  # currency -> rows left out for lack of a rate
    null_amount: int  # rows left out because the amount did not parse
    no_date: int  # rows of the same kind that no window can place (no usable date)
    credits: int  # rows with a negative amount

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"no_fx_rate:{cur} ({n} rows)" for cur, n in sorted(self.no_fx.items()))

    def inputs(self, rows_name: str) -> dict[str, Any]:
        return {
            rows_name: self.rows,
            "excluded_no_fx_rate": sum(self.no_fx.values()),
            "excluded_null_amount": self.null_amount,
            "excluded_no_date": self.no_date,
        }

    def result(
        self, rows_name: str, warnings: tuple[str, ...] = (), extra: dict[str, Any] | None = None
    ) -> MetricResult:
        """The sum as a metric: 0 without rows (§1.2), null when every row lacks a rate (D9;
        a row whose amount did not parse does not lack one, as for MRR)."""
        inputs = {**self.inputs(rows_name), **(extra or {})}
        every = (*warnings, *self.warnings)
        if self.no_fx and sum(self.no_fx.values()) == self.rows:
            return null(no_fx_reason(self.no_fx), inputs, every)
        return ok(self.value, inputs, every)


SPAN_COLUMNS = ("_start", "_end", "_days", "_amount", "_no_fx")  # what `_span_rows` adds


def _span_rows(frame: pl.DataFrame, start: pl.Expr, end: pl.Expr, amount: pl.Expr) -> pl.DataFrame:
    """`frame` with `_start`, `_end` (exclusive), `_days`, `_amount` and `_no_fx` columns."""
    no_fx = pl.col(FX_RATE).is_null() if FX_RATE in frame.columns else pl.lit(False)
    return frame.with_columns(
        start.alias("_start"),
        end.alias("_end"),
        (end - start).dt.total_days().alias("_days"),
        amount.cast(pl.Float64).alias("_amount"),
        no_fx.alias("_no_fx"),
    )


def _in_window(rows: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Rows whose span meets [start, end + 1 day), with `_share` = overlap days / span days."""
    low = pl.max_horizontal(pl.col("_start"), pl.lit(start))
    high = pl.min_horizontal(pl.col("_end"), pl.lit(end + ONE_DAY))
    overlap = (high - low).dt.total_days().clip(lower_bound=0)
    return rows.with_columns((overlap / pl.col("_days")).alias("_share")).filter(
        pl.col("_share") > 0
    )


def _total(rows: pl.DataFrame, no_date: int) -> Total:
    """Sum `_amount x _share` over `rows` (rows of one window and one kind)."""
    summary = rows.select(
        (pl.col("_amount") * pl.col("_share")).sum().alias("value"),
        (pl.col("_amount").is_null() & ~pl.col("_no_fx")).sum().alias("null_amount"),
        (pl.col("_amount") < 0).sum().alias("credits"),
    ).row(0, named=True)
    no_fx_counts = rows.filter(pl.col("_no_fx")).group_by("currency").len()
    no_fx: dict[str, int] = {str(cur): int(n) for cur, n in no_fx_counts.iter_rows()}
    return Total(
        value=float(summary["value"]),
        rows=rows.height,
        no_fx=no_fx,
        null_amount=int(summary["null_amount"]),
        no_date=no_date,
        credits=int(summary["credits"]),
    )


# --- invoices -> recognised revenue (§1.8) -------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRows:
    """Invoices as dated spans (run-wide), and the undatable ones counted by kind."""

    rows: pl.DataFrame
    no_date: dict[str, int]  # subset name -> rows without a usable date
    ignored_statuses: tuple[str, ...]


def _subsets(included: tuple[str, ...]) -> dict[str, pl.Expr]:
    """The invoice kinds the revenue metrics sum (`_recurring` is false without subscription_id)."""
    revenue = pl.col("status").is_in(included)
    return {
        "revenue": revenue,
        "recurring": revenue & pl.col("_recurring"),
        "non_recurring": revenue & ~pl.col("_recurring"),
        "uncollectible": pl.col("status") == "uncollectible",
    }


def _invoice_rows(ctx: MetricContext) -> InvoiceRows:
    frame = ctx.need("invoices", "amount", "issued_at")
    options = ctx.options.revenue

    def build() -> InvoiceRows:
        issued = ctx.day("issued_at")
        start, end = issued, issued + ONE_DAY
        if options.recognition == "ratable" and {"period_start", "period_end"} <= set(
            frame.columns
        ):
            ratable = pl.col("period_end") > pl.col("period_start")  # null when a date is null
            start = pl.when(ratable).then(pl.col("period_start")).otherwise(issued)
            end = pl.when(ratable).then(pl.col("period_end")).otherwise(issued + ONE_DAY)
        tax = pl.col("tax_amount").fill_null(0.0) if "tax_amount" in frame.columns else 0.0
        # C1: recurring means a subscription_id, an optional column: without it, none is
        recurring = (
            pl.col("subscription_id").is_not_null()
            if "subscription_id" in frame.columns
            else pl.lit(False)
        )
        rows = _span_rows(frame.with_columns(recurring.alias("_recurring")), start, end,
                          pl.col("amount") - tax)  # fmt: skip
        # only what the sums read: every window filters these rows several times over
        rows = rows.select(*SPAN_COLUMNS, "currency", "status", "_recurring")
        included = tuple(s for s in options.invoice_statuses if s not in NEVER_REVENUE)
        undated = rows.filter(pl.col("_start").is_null())
        no_date = {
            name: int(undated.select(match.fill_null(False).sum()).item())
            for name, match in _subsets(included).items()
        }
        ignored = tuple(s for s in options.invoice_statuses if s in NEVER_REVENUE)
        return InvoiceRows(rows.filter(pl.col("_start").is_not_null()), no_date, ignored)

    return ctx.shared("finance.invoice_rows", build)


@dataclass(frozen=True)
class RevenueTotals:
    totals: dict[str, Total]
    warnings: tuple[str, ...]  # about the configuration, shared by every revenue metric


def _revenue(ctx: MetricContext) -> RevenueTotals:
    """Recognised revenue of this window by kind (revenue, recurring, non_recurring, ...)."""
    invoices = _invoice_rows(ctx)

    def build() -> RevenueTotals:
        included = tuple(s for s in ctx.options.revenue.invoice_statuses if s not in NEVER_REVENUE)
        window = _in_window(invoices.rows, ctx.start, ctx.end)
        totals = {
            name: _total(window.filter(match.fill_null(False)), invoices.no_date[name])
            for name, match in _subsets(included).items()
        }
        warnings = tuple(f"ignored_invoice_status:{s}" for s in invoices.ignored_statuses)
        return RevenueTotals(totals, warnings)

    return ctx.shared(("finance.revenue", ctx.start, ctx.end), build)


def _revenue_result(ctx: MetricContext, kind: str) -> MetricResult:
    revenue = _revenue(ctx)
    total = revenue.totals[kind]
    return total.result("invoices", revenue.warnings, {"credits": total.credits})


@metric("revenue", Unit.CURRENCY)
def revenue(ctx: MetricContext) -> MetricResult:
    """Revenue: invoiced revenue recognised in the period, net of tax and credits (C1, §1.8).

    Invoices of the `revenue.invoice_statuses` (default paid, open) count; each is spread evenly
    over the days of its service period, or falls on its issue day.
    """
    return _revenue_result(ctx, "revenue")


@metric("revenue_recurring", Unit.CURRENCY)
def revenue_recurring(ctx: MetricContext) -> MetricResult:
    """Recurring revenue: recognised revenue of invoices linked to a subscription (C1); 0 when
    `invoices.subscription_id` (optional) is not mapped."""
    return _revenue_result(ctx, "recurring")


@metric("revenue_non_recurring", Unit.CURRENCY)
def revenue_non_recurring(ctx: MetricContext) -> MetricResult:
    """Non-recurring revenue: recognised revenue of invoices without a subscription (C1): all of
    it when `invoices.subscription_id` (optional) is not mapped."""
    return _revenue_result(ctx, "non_recurring")


@metric("revenue_uncollectible", Unit.CURRENCY)
def revenue_uncollectible(ctx: MetricContext) -> MetricResult:
    """Uncollectible revenue: what `uncollectible` invoices would have recognised (§1.8)."""
    return _revenue_result(ctx, "uncollectible")


def _growth(ctx: MetricContext, other: Period) -> MetricResult:
    """(revenue(P) - revenue(other)) / revenue(other), over like-for-like windows (§2.6)."""
    current = ctx.value("revenue")
    earlier = ctx.sub(comparison_window(ctx.window, other))
    previous = earlier.value("revenue")
    missing = inherit(current, previous)
    if missing is not None:
        return missing
    now, then = number(current), number(previous)
    inputs = {
        "revenue": now,
        "revenue_previous": then,
        "previous_start": earlier.start.isoformat(),
        "previous_end": earlier.end.isoformat(),
    }
    warnings = tuple(dict.fromkeys((*current.warnings, *previous.warnings)))
    return divide(now - then, then, inputs, warnings)


@metric("revenue_growth_rate", Unit.FRACTION)
def revenue_growth_rate(ctx: MetricContext) -> MetricResult:
    """Revenue growth rate: change of revenue against the previous period (C2).

    Null with `zero_denominator` when the previous period has no revenue.
    """
    return _growth(ctx, previous_period(ctx.period, ctx.calendar))


@metric("revenue_growth_rate_yoy", Unit.FRACTION)
def revenue_growth_rate_yoy(ctx: MetricContext) -> MetricResult:
    """Revenue growth rate year over year: change against the same period a year earlier (C2).

    A year without invoices has revenue 0 (a sum over no rows, §1.2), so the rate is null with
    `zero_denominator` (D9), not `insufficient_history`.
    """
    return _growth(ctx, year_earlier(ctx.period, ctx.calendar))


@metric("revenue_predictability", Unit.FRACTION)
def revenue_predictability(ctx: MetricContext) -> MetricResult:
    """Revenue predictability: the recurring share of recognised revenue (C3)."""
    return ratio_of(ctx, "revenue_recurring", "revenue", warnings="denominator")


# --- expenses (§1.9) -----------------------------------------------------------------------------

CATEGORIES = {
    "marketing": ("marketing",),
    "sales": ("sales",),
    "sm": ("marketing", "sales"),
    "cogs": ("cogs",),
}


@dataclass(frozen=True)
class ExpenseTotals:
    totals: dict[str, Total]
    channels: dict[str, float] | None  # marketing by channel; None without a channel column


def _expense_rows(ctx: MetricContext) -> tuple[pl.DataFrame, dict[str, int]]:
    frame = ctx.need("expenses", "date", "category", "amount")

    def build() -> tuple[pl.DataFrame, dict[str, int]]:
        day = pl.col("date")
        if ctx.options.expenses.granularity == "month":
            start, end = day.dt.month_start(), day.dt.month_end() + ONE_DAY
        else:
            start, end = day, day + ONE_DAY
        rows = _span_rows(frame, start, end, pl.col("amount"))
        undated = rows.filter(pl.col("_start").is_null())
        no_date = {
            name: int(undated.select(pl.col("category").is_in(cats).sum()).item())
            for name, cats in CATEGORIES.items()
        }
        return rows.filter(pl.col("_start").is_not_null()), no_date

    return ctx.shared("finance.expense_rows", build)


def _expenses(ctx: MetricContext) -> ExpenseTotals:
    """Expenses of this window by category, and marketing by channel."""
    rows, no_date = _expense_rows(ctx)

    def build() -> ExpenseTotals:
        window = _in_window(rows, ctx.start, ctx.end)
        totals = {
            name: _total(window.filter(pl.col("category").is_in(cats)), no_date[name])
            for name, cats in CATEGORIES.items()
        }
        channels = None
        if "channel" in window.columns:
            by_channel = (
                window.filter((pl.col("category") == "marketing") & pl.col("_amount").is_not_null())
                .group_by(pl.col("channel").fill_null(NO_CHANNEL))
                .agg((pl.col("_amount") * pl.col("_share")).sum())
            )
            found: dict[str, float] = dict(by_channel.iter_rows())
            order = sorted(found, key=lambda name: (name == NO_CHANNEL, name))
            channels = {name: found[name] for name in order}
        return ExpenseTotals(totals, channels)

    return ctx.shared(("finance.expenses", ctx.start, ctx.end), build)


@metric("marketing_spend", Unit.CURRENCY)
def marketing_spend(ctx: MetricContext) -> MetricResult:
    """Marketing spend: `marketing` expenses in the period (D1, §1.9)."""
    return _expenses(ctx).totals["marketing"].result("expense_rows")


@metric("sales_spend", Unit.CURRENCY)
def sales_spend(ctx: MetricContext) -> MetricResult:
    """Sales spend: `sales` expenses in the period (D1, §1.9)."""
    return _expenses(ctx).totals["sales"].result("expense_rows")


@metric("sm_spend", Unit.CURRENCY)
def sm_spend(ctx: MetricContext) -> MetricResult:
    """S&M spend: marketing plus sales expenses in the period (D1, §1.9)."""
    return _expenses(ctx).totals["sm"].result("expense_rows")


@metric("marketing_spend_by_channel", Unit.CURRENCY)
def marketing_spend_by_channel(ctx: MetricContext) -> MetricResult:
    """Marketing spend by channel: `{channel: amount}`, rows without a channel under `(none)` (D7).

    Channels with no convertible row in the period are left out (their rows are in `warnings`).
    """
    ctx.need("expenses", "channel")
    expenses = _expenses(ctx)
    marketing = expenses.totals["marketing"]
    result = marketing.result("expense_rows")
    if result.status != "ok" or expenses.channels is None:
        return result
    return ok(expenses.channels, result.inputs, result.warnings)


@metric("cost_per_lead", Unit.CURRENCY)
def cost_per_lead(ctx: MetricContext) -> MetricResult:
    """Cost per lead: marketing spend / leads created in the period (D1)."""
    return ratio_of(ctx, "marketing_spend", "leads_created")


@metric("marketing_spend_ratio", Unit.RATIO)
def marketing_spend_ratio(ctx: MetricContext) -> MetricResult:
    """Marketing spend ratio: marketing spend / recognised revenue (D1)."""
    return ratio_of(ctx, "marketing_spend", "revenue", warnings="both")


# --- gross margin (C4) ---------------------------------------------------------------------------


def _gross_profit(ctx: MetricContext) -> MetricResult:
    """revenue - cogs, or why it cannot be computed; inputs carry both terms."""
    total = ctx.value("revenue")
    missing = inherit(total)
    if missing is not None:
        return missing
    cogs = _expenses(ctx).totals["cogs"]
    inputs = {"revenue": number(total), **cogs.inputs("cogs_rows")}
    if cogs.rows == cogs.null_amount:  # no cogs amount at all: never a silent 100 % (T18)
        return null("missing_input:expenses.cogs", inputs)
    cost = cogs.result("cogs_rows")
    if cost.status != "ok":
        return cost
    inputs["cogs"] = number(cost)
    warnings = tuple(dict.fromkeys((*total.warnings, *cost.warnings)))
    return ok(number(total) - number(cost), inputs, warnings)


@metric("gross_profit", Unit.CURRENCY)
def gross_profit(ctx: MetricContext) -> MetricResult:
    """Gross profit: recognised revenue minus `cogs` expenses (C4).

    Unavailable with `missing_input:expenses.cogs` when no cogs row falls in the period.
    """
    return _gross_profit(ctx)


@metric("gross_margin", Unit.FRACTION)
def gross_margin(ctx: MetricContext) -> MetricResult:
    """Gross margin: gross profit / recognised revenue (C4).

    Unavailable with `missing_input:expenses.cogs` when no cogs row falls in the period; null with
    `zero_denominator` when revenue is 0.
    """
    profit = ctx.value("gross_profit")
    missing = inherit(profit)
    if missing is not None:
        return missing
    inputs = dict(profit.inputs)
    return divide(number(profit), inputs["revenue"], inputs, profit.warnings)
