"""The deal frames and money sums every deal metric reads (METRICS.md §1.4, §1.7).

Every deal metric reads one frame of all deals with their effective close date, converted amount and
sales-scope flag (built once per run), and the deals decided in a window (built once per window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from revops_cli.config import with_preset
from revops_cli.load.derive import FX_RATE, NATIVE_AMOUNT
from revops_cli.metrics.context import MetricContext, no_fx_reason, null, ok
from revops_cli.results import MetricResult

CLOSED = ("won", "lost")  # the statuses of a decided deal
WON = pl.col("status") == "won"


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
        """Every input row lacks a rate: the reason is no_fx_rate (D9). A row with a null
        amount does not lack one (it is left out as missing), so with it the sum is 0."""
        return self.rows == 0 and self.missing == 0 and self.unconverted > 0

    @property
    def reason(self) -> str:
        return no_fx_reason(self.no_rate)


def money_of(frame: pl.DataFrame, amount: pl.Expr | None = None) -> Money:
    """Σ amount (default `_amount`) over `frame`; nulls are left out and counted."""
    value = pl.col("_amount") if amount is None else amount
    row = frame.select(
        value.sum().alias("total"),
        value.is_not_null().sum().alias("rows"),
        pl.col("_missing").sum().alias("missing"),
        pl.col("_no_rate").any().alias("any_no_rate"),
    ).row(0)
    no_rate: dict[str, int] = {}
    if row[3]:  # the usual case has none: no group-by (a --by run sums thousands of groups)
        counts = frame.filter(pl.col("_no_rate")).group_by("currency").len()
        no_rate = {str(cur): int(n) for cur, n in counts.iter_rows()}
    return Money(float(row[0] or 0.0), int(row[1]), int(row[2]), no_rate)


def excluded(money: Money, missing_key: str = "excluded_null_amount") -> dict[str, int]:
    """The rows a money sum left out, for `inputs`: null amounts (under `missing_key`) and
    amounts without a rate."""
    return {missing_key: money.missing, "excluded_no_fx_rate": money.unconverted}


def money_result(money: Money, inputs: dict[str, Any]) -> MetricResult:
    """A money sum: 0 for no rows, null `no_fx_rate:<CUR>` when every amount lacks a rate."""
    if money.only_unconverted:
        return null(money.reason, inputs, money.warnings)
    return ok(money.total, inputs, money.warnings)


# --- shared frames -------------------------------------------------------------------------------


def all_deals(ctx: MetricContext) -> pl.DataFrame:
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
        # a row in a currency without a rate lacks a rate whatever its amount, as an invoice or
        # a subscription row does (D9): only a row that has a rate can be `_missing`
        (native.is_null() & ~no_rate).alias("_missing"),
        no_rate.alias("_no_rate"),
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
    values = with_preset(source).values if source else {}  # a preset's map too (D17)
    for word, raws in values.get("status", {}).items():
        if word in CLOSED:
            lookup.update({raw.strip().lower(): word for raw in raws})
    return lookup


def stage_key(column: str = "stage") -> pl.Expr:
    """A stage column stripped and lower-cased, to look stages up by name."""
    return pl.col(column).str.strip_chars().str.to_lowercase()


def _close_from_history(ctx: MetricContext, frame: pl.DataFrame) -> pl.DataFrame:
    """§1.7 `deals.close_date_source: stage_history`: a won (lost) deal closes on the first day it
    entered a won (lost) stage; deals without such a history row keep `close_date`."""
    history = ctx.need("deal_stage_history")
    entries = (
        history.select(
            "deal_id",
            stage_key()
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


def closed_deals(ctx: MetricContext) -> pl.DataFrame:
    """Won and lost deals of every type with effective close date in [p_start, E], once a window."""
    ctx.need("deals", "close_date")
    deals = all_deals(ctx)
    return ctx.shared(
        ("sales.closed", ctx.start, ctx.end),
        lambda: deals.filter(pl.col("status").is_in(CLOSED) & ctx.in_period(pl.col("_close"))),
    )


def scope_closed(ctx: MetricContext) -> pl.DataFrame:
    """In-scope (sales.deal_types) deals decided in the window, once a window."""
    closed = closed_deals(ctx)
    return ctx.shared(
        ("sales.closed.scope", ctx.start, ctx.end), lambda: closed.filter(pl.col("_scope"))
    )


def merge_warnings(results: Iterable[MetricResult]) -> tuple[str, ...]:
    """The warnings of `results`, each once, in first-seen order."""
    return tuple(dict.fromkeys(w for r in results for w in r.warnings))
