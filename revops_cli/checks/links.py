"""Audit rules of family I: links between tables that point at nothing (CHECKS.md).

Owner links are family O, deal -> account is D001 and customer -> account is R002. A link that is
optional ("set but not in ...") is checked only when set; a required one (I004-I006) is flagged
when null too, with detail `null`, like D001.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, joined_per_key
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity


def _dangling(
    ctx: Context,
    out: Collector,
    child: str,
    link: str,
    parent: str,
    key: str,
    required: bool = False,
    money: bool = False,
) -> None:
    """Flag rows of `child` whose `link` is not a `key` of `parent` (null too when `required`)."""
    frame = ctx.need(child, link).select(ctx.finding_columns(child, link))
    # no `unique()`: the anti-join reads repeated keys the same, and dropping them cost half a
    # second on two million lead ids
    keys = ctx.need(parent, key).select(pl.col(key).alias(link)).drop_nulls()
    population = frame if required else frame.filter(pl.col(link).is_not_null())
    # an anti-join keeps null links: they match nothing
    flagged = population.join(keys, on=link, how="anti").select(
        ctx.record_id(child).alias("record_id"),
        pl.when(pl.col(link).is_null())
        .then(pl.lit("null"))
        .otherwise(pl.format("dangling '{}'", pl.col(link)))
        .alias("detail"),
        (ctx.record_basis(child) if money else pl.lit(0.0)).alias("amount"),
    )
    out.add(child, ctx.record_count(child, population), flagged)


@rule(
    "I001",
    "lead-account-dangling",
    Severity.WARNING,
    ("leads", "accounts"),
    "{n} {table} point at an account that does not exist",
)
def lead_account_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """A lead's account_id is set but is not in accounts.

    Why: the lead is cut off from its account, so account-based routing, scoring and duplicate
    checks miss it.

    Example: lead 28062 has Associated Company IDs (Primary) 5316946903, a company that was deleted
    in HubSpot, so it is flagged "dangling '5316946903'".

    Fix: Associate the contact with the right existing company in the CRM, or remove the
    association. If the company still exists, export accounts without a view, owner or date filter
    so every associated company is in the file.
    """
    _dangling(ctx, out, "leads", "account_id", "accounts", "account_id")


@rule(
    "I002",
    "lead-deal-dangling",
    Severity.WARNING,
    ("leads", "deals"),
    "{n} {table} were converted into a deal that does not exist",
)
def lead_deal_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """A lead's converted_deal_id is set but is not in deals.

    Why: the conversion cannot be traced to revenue, so lead-to-deal conversion and source
    attribution are understated.

    Example: lead 48979 has Associated Deal IDs 8840378306, a deal that is not in the deals export,
    so it is flagged "dangling '8840378306'".

    Fix: Restore the deal if it was deleted by mistake, or associate the contact with the deal that
    replaced it in the CRM. Export deals from every pipeline, with no date filter, so converted
    leads find their deal.
    """
    _dangling(ctx, out, "leads", "converted_deal_id", "deals", "deal_id")


@rule(
    "I003",
    "deal-lead-dangling",
    Severity.INFO,
    ("deals", "leads"),
    "{n} {table} come from a lead that does not exist",
)
def deal_lead_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """A deal's lead_id is set but is not in leads.

    Why: the deal's source lead was deleted or not exported, so attribution by lead source loses
    the deal.

    Example: deal 8842293097 has Associated Contact IDs 110761, a contact missing from the contacts
    export, so it is flagged "dangling '110761'".

    Fix: Export all contacts rather than a filtered list or view; if the contact was deleted,
    restore it or associate the deal with the current contact in the CRM.
    """
    _dangling(ctx, out, "deals", "lead_id", "leads", "lead_id")


@rule(
    "I004",
    "history-deal-dangling",
    Severity.WARNING,
    ("deal_stage_history", "deals"),
    "{n} {table} rows belong to a deal that does not exist",
)
def history_deal_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """A stage-history row's deal_id is null or not in deals.

    Why: history of deleted or unexported deals distorts stage conversion and time-in-stage.

    Example: rows 854 and 855 of deal_stage_history.csv belong to deal 8846415584, which is not in
    the deals export; they are flagged as `deal_stage_history:row 854` and `row 855` with "dangling
    '8846415584'".

    Fix: Export the stage history and the deals with the same scope (pipelines, date range, deleted
    deals), or drop the history of deleted deals from the history export.
    """
    _dangling(ctx, out, "deal_stage_history", "deal_id", "deals", "deal_id", required=True)


@rule(
    "I005",
    "subscription-customer-dangling",
    Severity.ERROR,
    ("subscriptions", "customers"),
    "{n} {table} belong to a billing customer that does not exist",
    basis="arr",
)
def subscription_customer_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """A subscription's customer_id is null or not in customers.

    Why: its MRR cannot be attributed to a customer or an account, which breaks customer counts,
    churn and the CRM reconciliation. At risk: 12 x MRR of the subscription.

    Example: Stripe subscription sub_1quhIlVXhv54MhjeH6cdk5yx has Customer ID cus_86Fku7zbKL3Soi,
    which is not in stripe_customers.csv, so it is flagged "dangling 'cus_86Fku7zbKL3Soi'" with 12 x
    its MRR at risk.

    Fix: Export all Stripe customers (no created-date filter, same account and mode as the
    subscriptions) so the customer is in the file. If the customer is really gone, cancel the
    subscription in Stripe or attach it to the right customer.
    """
    _dangling(
        ctx,
        out,
        "subscriptions",
        "customer_id",
        "customers",
        "customer_id",
        required=True,
        money=True,
    )


@rule(
    "I006",
    "invoice-customer-dangling",
    Severity.ERROR,
    ("invoices", "customers"),
    "{n} {table} belong to a billing customer that does not exist",
    basis="invoice",
)
def invoice_customer_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """An invoice's customer_id is null or not in customers.

    Why: the revenue cannot be attributed to a customer or an account. At risk: the invoice amount.

    Example: Stripe invoice in_16Xq3X1kDYJhthZLqFSFXxmz of 200 USD has Customer cus_86Fku7zbKL3Soi,
    which is not in stripe_customers.csv, so it is flagged "dangling 'cus_86Fku7zbKL3Soi'".

    Fix: Export all Stripe customers (no created-date filter, same account and mode as the invoices)
    so the invoice's customer is in the file. Check that `sources.invoices.columns.customer_id` maps
    the customer id column ("Customer"), not its e-mail or name.
    """
    _dangling(
        ctx, out, "invoices", "customer_id", "customers", "customer_id", required=True, money=True
    )


@rule(
    "I007",
    "invoice-subscription-dangling",
    Severity.WARNING,
    ("invoices", "subscriptions"),
    "{n} {table} point at a subscription that does not exist or belongs to another customer",
    basis="invoice",
)
def invoice_subscription_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """An invoice's subscription_id is set but not in subscriptions, or is another customer's.

    Why: recurring revenue is split wrongly between customers, and revenue recognition by
    subscription is broken. At risk: the invoice amount.

    Example: invoice in_1xlEPVt8jcgRnjRKuXLDynVJ names subscription sub_1Gpq5h1v8Mu1n2Bq3v96NNU9,
    which belongs to another customer, and is flagged "subscription 'sub_1Gpq5h1v8Mu1n2Bq3v96NNU9'
    belongs to customer 'cus_vFfpN1t4kKusbR'".

    Fix: Export subscriptions of every status (canceled and ended too) so each invoiced subscription
    is in the file, and check the `customer_id` and `subscription_id` mappings of both sources. An
    invoice billed to the wrong customer must be voided and reissued in the billing system.
    """
    invoices = (
        ctx.need("invoices", "subscription_id")
        .select(ctx.finding_columns("invoices", "subscription_id", "customer_id"))
        .filter(pl.col("subscription_id").is_not_null())
    )
    subs = (
        ctx.need("subscriptions")
        .select("subscription_id", "customer_id")
        .filter(pl.col("subscription_id").is_not_null())
        .unique()
    )
    holders = joined_per_key(subs, "subscription_id", "customer_id", "sub_customers")
    matched = subs.drop_nulls().with_columns(pl.lit(True).alias("same"))
    joined = invoices.join(holders, on="subscription_id", how="left").join(
        matched, on=["subscription_id", "customer_id"], how="left"
    )
    dangling = pl.col("sub_customers").is_null()
    # a missing customer on either side is I005's or I006's, not "another customer's"
    other = (
        pl.col("customer_id").is_not_null()
        & (pl.col("sub_customers") != "")
        & pl.col("same").is_null()
    )
    flagged = joined.filter(dangling | other).select(
        ctx.record_id("invoices").alias("record_id"),
        pl.when(dangling)
        .then(pl.format("dangling '{}'", pl.col("subscription_id")))
        .otherwise(
            pl.format(
                "subscription '{}' belongs to customer '{}'",
                pl.col("subscription_id"),
                pl.col("sub_customers"),
            )
        )
        .alias("detail"),
        ctx.record_basis("invoices").alias("amount"),
    )
    out.add("invoices", invoices.height, flagged)


@rule(
    "I008",
    "forecast-owner-dangling",
    Severity.WARNING,
    ("forecasts", "owners"),
    "{n} {table} rows belong to an owner that does not exist",
)
def forecast_owner_dangling(ctx: Context, params: Params, out: Collector) -> None:
    """A forecast row's owner_id is set but is not in owners.

    Why: the forecast cannot be compared with the owner's deals, so per-owner forecast accuracy
    drops the row.

    Example: row 29 of forecasts.csv has owner_id '7' while owners.csv lists the rep as '007' (Excel
    dropped the leading zeros), so it is flagged "dangling '7'".

    Fix: Write owner ids exactly as in the owners export: keep the column as text when editing the
    sheet in Excel. Export deactivated users too, so the forecasts of reps who left still match.
    """
    _dangling(ctx, out, "forecasts", "owner_id", "owners", "owner_id")
