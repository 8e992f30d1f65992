"""Audit rules that read the run history (CHECKS.md "With run history"): close-date slippage.

The history arrives through `Context.deal_history`: the close date of every open deal as each
earlier run stored it (columns `point`, `deal_id`, `close_date`; `point` orders the runs). The
current export is the latest point. Without a run history the rules are skipped (`no_history`).
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity

# rules that run only with a run history; `select_and_run` leaves them out without one
NEEDS_HISTORY = frozenset({"D011"})


@rule(
    "D011",
    "close-date-slipped",
    Severity.WARNING,
    ("deals",),
    "{n} open deals had their close date pushed later again and again",
    basis="pipeline",
    max_pushes=3,
)
def close_date_slipped(ctx: Context, params: Params, out: Collector) -> None:
    """Open deal whose close date moved later in at least `max_pushes` of the stored runs.

    Why: a deal whose close date is pushed out run after run is rarely closing: it inflates every
    quarter's forecast until it is finally lost. A push is a pair of consecutive runs (the stored
    runs up to this as-of date, then this one) in which the deal's close date got later; a date
    moved earlier, or runs where the deal was closed or had no close date, do not count. Detail:
    the number of pushes and the first and current close dates. Needs a run history (`--history`
    or `history:` in the config); without one the rule is skipped (`no_history`).

    Example: the sample data stores no run history, so D011 flags nothing there; for example, an
    open deal that was to close on 2026-09-30 when the first nightly run stored it, then on
    2026-10-15, 2026-10-31 and 2026-11-30, is flagged "pushed 3 times: 2026-09-30 -> 2026-11-30".

    Fix: Ask the deal owner for a real close date and next step, or close the deal as lost; review
    deals with several pushes in the forecast call. Raise `max_pushes` if your cycle re-plans
    dates routinely.
    """
    if ctx.deal_history is None:
        raise Skip("no_history")
    deals = ctx.need("deals", "close_date")
    current = deals.filter(pl.col("status") == "open")
    series = pl.concat(
        [
            ctx.deal_history.select(
                pl.col("point").cast(pl.Int64),
                pl.col("deal_id").cast(pl.String),
                pl.col("close_date").cast(pl.Date),
            ),
            current.select(
                pl.lit(0, pl.Int64).alias("point"),  # this run; stored runs count back from it
                ctx.record_id("deals").alias("deal_id"),
                pl.col("close_date"),
            ),
        ]
    )
    # a push: the deal was open in two consecutive runs (a run where it was closed stored no
    # row for it) and its close date got later; an empty date on either side is none
    before = pl.col("close_date").shift(1).over("deal_id")
    consecutive = pl.col("point") == pl.col("point").shift(1).over("deal_id") + 1
    pushed = consecutive & (pl.col("close_date") > before)
    slips = (
        series.sort("deal_id", "point")
        .with_columns(pushed.fill_null(False).alias("_pushed"))
        .group_by("deal_id")
        .agg(
            pl.col("_pushed").sum().alias("pushes"),
            pl.col("close_date").drop_nulls().first().alias("first_date"),
        )
        .filter(pl.col("pushes") >= int(params["max_pushes"]))
    )
    current = current.filter(pl.col("close_date").is_not_null())
    flagged = current.with_columns(ctx.record_id("deals").alias("deal_id")).join(
        slips, on="deal_id", how="inner"
    )
    detail = pl.format(
        "pushed {} times: {} -> {}", pl.col("pushes"), pl.col("first_date"), pl.col("close_date")
    )
    out.add(
        "deals",
        current.height,
        flagged.select(
            pl.col("deal_id").alias("record_id"),
            detail.alias("detail"),
            ctx.record_basis("deals").alias("amount"),
        ),
    )
