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

    Example: lead 81288 is In Progress (working) and was last touched on 2026-07-14, 79 days before
    the as-of day 2026-10-01, so it is flagged `silent`; an open lead with no Last Activity Date
    created 59 days ago is `never_touched`.

    Fix: Work the lead and log the call or e-mail in the CRM, or close it with a closed Lead Status
    such as Unqualified. If your sales cycle is longer, raise `stale_days` under
    `rules: settings: L001:`.
    """
    leads = ctx.need("leads", "last_activity_at").filter(ctx.is_open_lead())
    is_stale = ctx.days_since(ctx.last_touch(leads)) > int(params["stale_days"])
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

    Example: lead 111498 has Lead Status New, was created on 2026-09-24 and has no Last Activity
    Date, so on the as-of day 2026-10-01 it is flagged "7 days since created".

    Fix: Have the owner contact the lead now and log the activity in the CRM; add an assignment and
    notification workflow for new leads. Set `sla_days` under `rules: settings: L002:` to your real
    follow-up SLA.
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

    Example: lead 9969 has Lead Status Open Deal (converted) but no Became an Opportunity Date,
    flagged "converted without converted_at"; lead 88209 is In Progress with that date set, flagged
    "converted_at set but status working".

    Fix: Make the status and the conversion fields agree in the CRM: fill in the conversion date of
    converted leads, or set the status of leads with a deal to the converted status. If your
    converted status has another name, map it under `sources.leads.values.status.converted`.
    """
    leads = ctx.need("leads")
    present = [c for c in ("converted_at", "converted_deal_id") if c in leads.columns]
    if not present:
        raise Skip("missing_column:leads.converted_at/converted_deal_id")
    for column in ("converted_at", "converted_deal_id"):
        if column not in present:  # D30: its part is skipped, the other runs
            out.skipped.append(ctx.ds.lacking("leads", column) or f"missing_column:leads.{column}")
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
