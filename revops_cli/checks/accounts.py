"""Audit rules of family A: accounts whose CRM stage disagrees with what they buy (CHECKS.md)."""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity

WON_WITHIN_DAYS = 365


@rule(
    "A001",
    "lifecycle-inconsistent",
    Severity.INFO,
    ("accounts", "deals", "customers", "subscriptions"),
    "{n} {table} are not marked as customers but have a live subscription or a recently won deal",
    basis="arr",
)
def lifecycle_inconsistent(ctx: Context, params: Params, out: Collector) -> None:
    """An account that is not a customer account has a live subscription or a recently won deal.

    Why: customer counts, churn and segment reports read the lifecycle stage, so a paying account
    marked as a prospect is missing from them (and may be worked as a new lead). Recently won:
    `as_of - 365 < close_date <= as_of`. Each part runs when its tables are loaded (D30).

    Example: account 5312930588 still has Lifecycle Stage Opportunity although it won a deal on
    2026-08-16 and has a live Stripe subscription, so it is flagged "live subscription; won deal
    closed 2026-08-16".

    Fix: Set the Lifecycle Stage to Customer in the CRM, ideally with a workflow when a deal is
    closed won. If your CRM marks customers with another stage name, list it under
    `predicates: customer_stages:`.
    """
    accounts = ctx.need("accounts", "lifecycle_stage")
    prospects = accounts.filter(~ctx.is_customer_account().fill_null(False))
    found: list[pl.DataFrame] = []
    with out.part():
        live = ctx.subscriptions.filter(pl.col("is_live")).select("customer_id").unique()
        paying = (
            live.join(ctx.customer_links, on="customer_id", how="inner")
            .select(pl.col("linked_account_id").alias("account_id"))
            .drop_nulls()
            .unique()
        )
        found.append(
            prospects.join(paying, on="account_id", how="semi").select(
                "account_id", pl.lit("live subscription").alias("detail")
            )
        )
    with out.part():
        deals = ctx.need("deals", "account_id", "close_date")
        recent = (
            deals.filter(
                (pl.col("status") == "won")
                & (pl.col("close_date") > ctx.date_param(WON_WITHIN_DAYS))
                & (pl.col("close_date") <= ctx.as_of)
            )
            .group_by("account_id")
            .agg(pl.col("close_date").max())
        )
        found.append(
            prospects.join(recent, on="account_id", how="inner").select(
                "account_id", pl.format("won deal closed {}", pl.col("close_date")).alias("detail")
            )
        )
    if not found:
        return
    flagged = pl.concat(found)
    if ctx.has("customers") and ctx.has("subscriptions"):
        flagged = ctx.with_account_basis(flagged, "arr")
    else:
        flagged = flagged.with_columns(pl.lit(0.0).alias("amount"))
    out.add(
        "accounts",
        prospects.height,
        # account ids from joins: never null, so the key is the record id
        flagged.select(pl.col("account_id").alias("record_id"), "detail", "amount"),
    )
