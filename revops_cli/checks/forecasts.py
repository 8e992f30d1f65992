"""Audit rules of family F: forecast submissions (CHECKS.md)."""

from __future__ import annotations

from datetime import date

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip
from revops_cli.checks.registry import Params, rule
from revops_cli.periods import Period, resolve_forecast_period
from revops_cli.results import Severity
from revops_cli.schema import ROW


def resolved_periods(ctx: Context, forecasts: pl.DataFrame) -> dict[str, Period | None]:
    """Each distinct `period` token and its period; None when it does not parse (rule S002),
    a range with impossible or reversed dates included (METRICS.md §2.2)."""
    tokens = forecasts["period"].drop_nulls().unique().to_list()  # a handful of distinct tokens
    calendar = ctx.config.fiscal_calendar()  # as the metrics resolve them
    return {token: resolve_forecast_period(token, ctx.as_of, calendar) for token in tokens}


def _period_key(ctx: Context, forecasts: pl.DataFrame) -> pl.Expr:
    """The period a forecast row means, by its dates (D31): `Q3`, `2024-Q3` and
    `2024-07-01..2024-09-30` are one period, shown by the label of a named period when one of
    the tokens has it.

    A token that does not parse is null, as SCHEMA.md makes every value that does not parse
    (rule S002 reports it), so it joins no cluster.
    """
    resolved = {t: p for t, p in resolved_periods(ctx, forecasts).items() if p is not None}
    shown: dict[tuple[date, date], str] = {}
    # named periods first (a range only when no token names its dates), then by label
    for period in sorted(resolved.values(), key=lambda p: (p.kind == "range", p.label)):
        shown.setdefault((period.start, period.end), period.label)
    labels = {token: shown[(p.start, p.end)] for token, p in resolved.items()}
    return pl.col("period").replace_strict(labels, default=None, return_dtype=pl.String)


@rule(
    "F001",
    "duplicate-forecast",
    Severity.INFO,
    ("forecasts",),
    "{n} {table} rows are one of several forecasts for the same period and owner, team or company",
)
def duplicate_forecast(ctx: Context, params: Params, out: Collector) -> None:
    """More than one forecast row for the same period and owner, team or company.

    Why: forecast accuracy compares one number with the actual; with several submissions the
    metrics pick one per METRICS.md §1.10 (`forecast.snapshot`, default: the latest submitted on
    or before the period start), which may not be the one meant.
    Scope: the owner when set, else the team, else the company (DECISIONS D31). Detail: the
    cluster, with its rows.

    Example: rows 35 and 36 of forecasts.csv are both the company forecast for 2026-Q3 (no owner_id,
    no team), submitted on 2026-06-26 and 2026-07-08; both are flagged "2026-Q3 company: rows 35,
    36".

    Fix: Keep one submission per period and owner, team or company in the forecast export, or choose
    which one counts with `metrics.forecast.snapshot` (period_start, period_end or latest). If
    resubmissions are your process, add F001 to `rules: ignore:`.
    """
    forecasts = ctx.need("forecasts")
    lacking = ctx.ds.lacking("forecasts", "owner_id", "team")
    if lacking is not None:  # S001: the scope of a row cannot be told
        raise Skip(lacking)
    owner = pl.col("owner_id") if "owner_id" in forecasts.columns else pl.lit(None, pl.String)
    team = pl.col("team") if "team" in forecasts.columns else pl.lit(None, pl.String)
    scope = (
        pl.when(owner.is_not_null())
        .then(pl.format("owner '{}'", owner))
        .when(team.is_not_null())
        .then(pl.format("team '{}'", team))
        .otherwise(pl.lit("company"))
    )
    keyed = forecasts.with_columns(
        _period_key(ctx, forecasts).alias("period_key"), scope.alias("scope")
    ).filter(pl.col("period_key").is_not_null())
    clusters = (
        keyed.group_by("period_key", "scope")
        .agg(pl.len().alias("rows"), pl.col(ROW).sort().cast(pl.String).str.join(", ").alias("at"))
        .filter(pl.col("rows") > 1)
    )
    flagged = keyed.join(clusters, on=["period_key", "scope"], how="inner").select(
        ctx.record_id("forecasts").alias("record_id"),
        pl.format("{} {}: rows {}", pl.col("period_key"), pl.col("scope"), pl.col("at")).alias(
            "detail"
        ),
        pl.lit(0.0).alias("amount"),
    )
    out.add("forecasts", keyed.height, flagged)
