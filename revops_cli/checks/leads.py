"""Audit rules of family L: leads left alone, or whose conversion does not add up (CHECKS.md).

Windows are `lower < days <= upper` in whole days: a lead exactly `stale_days` old is not stale.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity


@rule(
    "L001",
    "stale-lead",
    Severity.WARNING,
    ("leads",),
    "{n} open {table} have not been touched for too long",
    stale_days=30,
)
def stale_lead(ctx: Context, params: Params, out: Collector) -> None:
    """An open lead has not been touched for more than `stale_days`.

    Why: interest decays fast; a lead nobody has worked for a month is lost pipeline that still
    counts as open. Last touch is the last activity, else the creation date; detail `never_touched`
    when there was no activity at all, else `silent`.
    """
    leads = ctx.need("leads", "created_at", "last_activity_at").filter(ctx.is_open_lead())
    is_stale = ctx.days_since(ctx.last_touch()) > int(params["stale_days"])
    flagged = leads.filter(is_stale).select(
        ctx.record_id("leads").alias("record_id"),
        pl.when(pl.col("last_activity_at").is_null())
        .then(pl.lit("never_touched"))
        .otherwise(pl.lit("silent"))
        .alias("detail"),
        pl.lit(0.0).alias("amount"),
    )
    out.add("leads", leads.height, flagged)


@rule(
    "L002",
    "lead-not-followed-up",
    Severity.WARNING,
    ("leads",),
    "{n} new {table} have had no activity within the follow-up SLA",
    sla_days=2,
)
def lead_not_followed_up(ctx: Context, params: Params, out: Collector) -> None:
    """A new lead has had no activity more than `sla_days` after it was created.

    Why: response time drives conversion; a lead nobody contacted within the SLA is likely lost.
    Detail: days since creation.
    """
    new = ctx.need("leads", "created_at", "last_activity_at").filter(pl.col("status") == "new")
    age = ctx.days_since(ctx.day("created_at"))
    flagged = new.filter(
        pl.col("last_activity_at").is_null() & (age > int(params["sla_days"]))
    ).select(
        ctx.record_id("leads").alias("record_id"),
        pl.format("{} days since created", age).alias("detail"),
        pl.lit(0.0).alias("amount"),
    )
    out.add("leads", new.height, flagged)


@rule(
    "L003",
    "lead-conversion-inconsistent",
    Severity.WARNING,
    ("leads",),
    "{n} {table} have a status that disagrees with their conversion fields",
)
def lead_conversion_inconsistent(ctx: Context, params: Params, out: Collector) -> None:
    """A lead is converted without a conversion date, or has conversion fields but another status.

    Why: conversion rates and lead-to-deal attribution count the status, the date or the deal,
    and each gives a different answer.
    """
    leads = ctx.need("leads")
    present = [c for c in ("converted_at", "converted_deal_id") if c in leads.columns]
    if not present:
        raise Skip("missing_column:leads.converted_at/converted_deal_id")
    converted = pl.col("status") == "converted"
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if "converted_at" in present:
        checks.append(
            (converted & pl.col("converted_at").is_null(), pl.lit("converted without converted_at"))
        )
    for column in present:
        checks.append(
            (
                ~converted & pl.col(column).is_not_null(),
                pl.format("{} set but status {}", pl.lit(column), pl.col("status")),
            )
        )
    flagged = pl.concat(
        [
            leads.filter(when).select(
                ctx.record_id("leads").alias("record_id"),
                detail.alias("detail"),
                pl.lit(0.0).alias("amount"),
            )
            for when, detail in checks
        ]
    )
    out.add("leads", leads.height, flagged)
