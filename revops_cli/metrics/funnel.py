"""Metrics E9 and E10: leads and the stage funnel (METRICS.md §4).

The stage funnel reads the in-scope deals decided in a window of deal_frames.py.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from revops_cli.frames import per_value
from revops_cli.metrics.context import MetricContext, Unavailable, divide, null, ok
from revops_cli.metrics.deal_frames import WON, scope_closed
from revops_cli.metrics.registry import metric
from revops_cli.results import MetricResult, Unit

TERMINAL = "won"  # D38: the name of the funnel's terminal stage
WON_DEALS = ("funnel.won_deals",)  # the cache key of `won_deals`


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


def won_deals(ctx: MetricContext) -> pl.Series:
    """The ids of the won deals, sorted, once per run.

    A `--by` row seeds it from the whole dataset (runner.breakdown): the status of a lead's
    converted deal does not depend on the group the deal falls in (an SDR's lead, an AE's deal).
    """
    deals = ctx.need("deals")
    return ctx.shared(
        WON_DEALS, lambda: deals.filter(pl.col("status") == "won")["deal_id"].drop_nulls().sort()
    )


@metric("lead_to_customer_rate", Unit.FRACTION)
def lead_to_customer_rate(ctx: MetricContext) -> MetricResult:
    """Lead-to-customer rate: leads created in P whose converted deal is won / leads (E9)."""
    ctx.need("leads", "created_at", "converted_deal_id")
    won_ids = won_deals(ctx)
    cohort = _leads_created(ctx)
    # each converted deal id looked up in the sorted won ids: a --by row's few leads cost
    # nothing, where a join hashed every deal of the dataset for each owner
    linked = cohort["converted_deal_id"].drop_nulls()
    won = 0
    if won_ids.len() and linked.len():
        at = won_ids.search_sorted(linked, side="left").clip(upper_bound=won_ids.len() - 1)
        won = int((won_ids.gather(at) == linked).sum())
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
    cohort = scope_closed(ctx)
    history = ctx.need("deal_stage_history")
    stages = ctx.options.sales.stages
    if not stages:
        return null("missing_input:sales.stages")
    order = {stage.strip().lower(): k for k, stage in enumerate(stages, start=1)}
    terminal = len(stages) + 1
    # the stage order of every history row, once per run: the periods compared share it
    ranked = ctx.shared(
        ("funnel.ranked", tuple(order.items())),
        lambda: history.select(
            "deal_id",
            per_value(  # a few distinct stages: each is trimmed and looked up once
                history.get_column("stage"),
                lambda text: (
                    text.str.strip_chars()
                    .str.to_lowercase()
                    .replace_strict(order, default=None, return_dtype=pl.Int64)
                ),
            ).alias("_k"),
        ).drop_nulls(),
    )
    # the highest stage of each cohort deal: the cohort is a small part of the history
    highest = (
        ranked.lazy()
        .filter(pl.col("deal_id").is_in(cohort.get_column("deal_id").implode()))
        .group_by("deal_id")
        .agg(pl.col("_k").max())
    )
    reached_stage = (
        cohort.lazy()
        .select("deal_id", "status")
        .join(highest, on="deal_id", how="left")
        .select(pl.when(WON).then(pl.lit(terminal)).otherwise(pl.col("_k").fill_null(1).clip(1)))
        .collect()
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
