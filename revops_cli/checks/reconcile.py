"""Audit rules of family R: the CRM against billing (CHECKS.md).

The bridge is the account link of a billing customer (`ctx.customer_links`): customers.account_id
when that account exists, else the one account whose domain is the customer's e-mail domain.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, as_written
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity
from revops_cli.schema import ROW

# R001: an invoice issued up to this many days before the close date is billing evidence
INVOICE_LEAD_DAYS = 30
# R003: the deal that sets an account's expected ARR closed at most this many days before as_of
ANCHOR_DAYS = 400
# R003: a gap is more than the tolerance by more than float noise (0.29 x 100 is 28.999...96),
# relative to the amounts compared
NOISE = 1e-12


def _linked(ctx: Context) -> pl.DataFrame:
    """customer_id -> account_id for the customers linked to an account."""
    return ctx.customer_links.filter(pl.col("linked_account_id").is_not_null()).select(
        "customer_id", pl.col("linked_account_id").alias("account_id")
    )


@rule(
    "R001",
    "won-deal-not-billed",
    Severity.ERROR,
    ("deals", "accounts", "customers", "subscriptions", "invoices"),
    "{n} won deals have no subscription or invoice in billing",
    basis="pipeline",
    grace_days=30,
    lookback_days=365,
)
def won_deal_not_billed(ctx: Context, params: Params, out: Collector) -> None:
    """Won new-business or expansion deal that billing never picked up.

    Why: revenue sales counts as closed is not being collected. Looks at won deals with
    `grace_days < days(close_date) <= lookback_days` and amount > 0 on an existing account.
    Billing evidence is a linked customer's subscription starting on or before close_date +
    grace_days that is live or ended after close_date (part: subscriptions), or a linked
    customer's invoice issued in [close_date - 30 days, as_of] (part: invoices). Detail
    `no linked billing customer` or `no subscription or invoice`.

    Example: deal 8844163355 'Yarrow Mobility - New Business' was won on 2026-05-20 for 152,280,
    but no Stripe customer links to its account, so on the as-of day 2026-10-01 (134 days later) it
    is flagged "no linked billing customer".

    Fix: Have billing set up the subscription or invoice in Stripe. If the customer exists there,
    put the CRM company id in the metadata field mapped as `account_id` (or use an e-mail at the
    account's domain); if billing starts later, raise `grace_days` under `rules: settings: R001:`.
    """
    grace, lookback = params["grace_days"], params["lookback_days"]
    deals = ctx.need("deals", "account_id", "amount", "close_date", "deal_type")
    accounts = ctx.need("accounts")
    age = ctx.days_since(pl.col("close_date"))
    candidates = deals.filter(
        (pl.col("status") == "won")
        & pl.col("deal_type").is_in(["new_business", "expansion"])
        & (as_written(deals, "amount") > 0)  # in any currency; at risk only when rated
        & (age > grace)
        & (age <= lookback)
        & pl.col("account_id").is_in(accounts["account_id"].implode())
    )
    # one row per (deal, linked customer); a deal is its row (ROW), as a deal without an id is
    # a record too (`deals:row N`), which a null deal_id would drop from every is_in below
    pairs = candidates.select(ROW, "account_id", "close_date").join(
        _linked(ctx), on="account_id", how="inner"
    )
    billed: list[pl.DataFrame] = []
    with out.part():
        subs = ctx.subscriptions.select("customer_id", "start_date", "is_live", "service_end")
        started = pl.col("start_date") <= pl.col("close_date") + pl.duration(days=grace)
        running = pl.col("is_live") | (pl.col("service_end") > pl.col("close_date"))
        billed.append(pairs.join(subs, on="customer_id").filter(started & running).select(ROW))
    with out.part():
        invoices = ctx.need("invoices", "issued_at").select("customer_id", "issued_at")
        issued = ctx.day("issued_at")
        in_window = (issued >= pl.col("close_date") - pl.duration(days=INVOICE_LEAD_DAYS)) & (
            issued <= ctx.as_of
        )
        billed.append(pairs.join(invoices, on="customer_id").filter(in_window).select(ROW))
    if not billed:
        return  # neither subscriptions nor invoices: no evidence to look for (both parts skipped)
    evidence = pl.concat(billed)[ROW].implode()
    flagged = candidates.filter(~pl.col(ROW).is_in(evidence)).select(
        ctx.record_id("deals").alias("record_id"),
        pl.when(pl.col(ROW).is_in(pairs[ROW].implode()))
        .then(pl.lit("no subscription or invoice"))
        .otherwise(pl.lit("no linked billing customer"))
        .alias("detail"),
        ctx.record_basis("deals").alias("amount"),
    )
    out.add("deals", candidates.height, flagged)


@rule(
    "R002",
    "billing-customer-unknown-to-crm",
    Severity.WARNING,
    ("customers", "subscriptions", "accounts"),
    "{n} billing customers with a live subscription have no account in the CRM",
    basis="arr",
)
def billing_customer_unknown_to_crm(ctx: Context, params: Params, out: Collector) -> None:
    """Customer with a live subscription and no account link (by id or by e-mail domain).

    Why: someone is paying whom sales, success and renewals do not know. Detail `null` (no
    account id) or `dangling` (an account id that is not in accounts).

    Example: Stripe customer cus_m3qXkUb1yUBev3 has a live subscription, an empty hubspot_company_id
    and a gmail.com e-mail (free mail never links), so it is flagged `null`.

    Fix: Put the CRM company id into the customer's metadata in Stripe (the column mapped as
    `account_id` under `sources.customers.columns`), creating the company in the CRM first if it is
    missing. Replace the ids of deleted companies (`dangling`) with the current ones.
    """
    customers = ctx.need("customers")
    ctx.need("accounts")
    live = customers.filter(pl.col("customer_id").is_in(ctx.customer_arr["customer_id"].implode()))
    unlinked = ctx.customer_links.filter(pl.col("linked_account_id").is_null())["customer_id"]
    account_id = (
        pl.col("account_id") if "account_id" in customers.columns else pl.lit(None, pl.String)
    )
    flagged = ctx.with_customer_basis(
        live.filter(pl.col("customer_id").is_in(unlinked.implode()))
    ).select(
        ctx.record_id("customers").alias("record_id"),
        pl.when(account_id.is_null())
        .then(pl.lit("null"))
        .otherwise(pl.lit("dangling"))
        .alias("detail"),
        "amount",
    )
    out.add("customers", live.height, flagged)


@rule(
    "R003",
    "crm-billing-amount-mismatch",
    Severity.WARNING,
    ("deals", "accounts", "customers", "subscriptions"),
    "{n} accounts are billed a different ARR than their won deals say",
    basis="abs difference",
    tolerance_pct=0.10,
    tolerance_abs=100,
    deal_amount_basis="arr",
)
def crm_billing_amount_mismatch(ctx: Context, params: Params, out: Collector) -> None:
    """Linked account whose billed ARR differs from the ARR of its won deals.

    Why: either billing charges less than was sold (leakage) or more (a refund risk).
    Expected ARR is the amount of the latest won new_business or renewal deal closed within 400
    days, plus the won expansion deals closed after it (x12 under `deal_amount_basis: mrr`);
    billed ARR is 12 x MRR of the linked customers' live subscriptions. Revenue at risk is the
    absolute difference; detail `underbilled` or `overbilled`.

    Example: account 5310215049 won a 21,060 renewal on 2025-10-27 and a 5,460 expansion on
    2026-06-24 (expected ARR 26,520), but its Stripe subscription bills 21,060 a year: the gap of
    5,460 exceeds the 2,652 tolerance, so it is flagged `underbilled`.

    Fix: Bring the subscription in Stripe in line with the signed deal (add the seats or the price),
    or correct the deal amount in the CRM if the deal is wrong. If deal amounts are monthly, set
    `deal_amount_basis: mrr` under `rules: settings: R003:` (with `tolerance_pct`, `tolerance_abs`).
    """
    deals = ctx.need("deals", "account_id", "amount", "close_date", "deal_type")
    ctx.need("accounts")
    # the billed ARR is 12 x MRR: without the columns it comes from (unmapped, or S001) every
    # account would look unbilled
    ctx.need_mrr_inputs()
    factor = 12.0 if params["deal_amount_basis"] == "mrr" else 1.0
    age = ctx.days_since(pl.col("close_date"))
    won = deals.filter(
        (pl.col("status") == "won")
        & pl.col("account_id").is_not_null()
        & (age >= 0)
        & (age <= ANCHOR_DAYS)
    )
    anchors = (
        won.filter(pl.col("deal_type").is_in(["new_business", "renewal"]))
        .sort("close_date", "deal_id")
        .group_by("account_id")
        .agg(
            pl.col("close_date").last().alias("anchor_date"),
            pl.col("amount").last().alias("anchor_amount"),
        )
        .filter(pl.col("anchor_amount").is_not_null())  # a won deal without amount is D005's
    )
    expansions = (
        anchors.join(won.filter(pl.col("deal_type") == "expansion"), on="account_id")
        .filter(pl.col("close_date") > pl.col("anchor_date"))
        .group_by("account_id")
        .agg(pl.col("amount").fill_null(0.0).sum().alias("expansion"))
    )
    linked = _linked(ctx).select("account_id").unique()
    compared = (
        anchors.join(linked, on="account_id", how="semi")
        .join(expansions, on="account_id", how="left")
        .join(ctx.account_arr, on="account_id", how="left")
        .with_columns(
            ((pl.col("anchor_amount") + pl.col("expansion").fill_null(0.0)) * factor).alias(
                "expected"
            ),
            pl.col("arr").fill_null(0.0).alias("billed"),
        )
        .with_columns((pl.col("billed") - pl.col("expected")).alias("gap"))
    )
    tolerance = pl.max_horizontal(
        pl.col("expected") * params["tolerance_pct"], pl.lit(float(params["tolerance_abs"]))
    )
    # more than the tolerance, not by float noise alone: 0.29 x 100 is 28.999999999999996, and
    # a gap of 29 is not more than 29; a gap of 100.0016 is more than 100
    noise = NOISE * pl.max_horizontal(
        tolerance, pl.col("expected").abs(), pl.col("billed").abs(), pl.lit(1.0)
    )
    flagged = compared.filter(pl.col("gap").abs() - tolerance > noise).select(
        pl.col("account_id").alias("record_id"),
        pl.when(pl.col("gap") < 0)
        .then(pl.lit("underbilled"))
        .otherwise(pl.lit("overbilled"))
        .alias("detail"),
        pl.col("gap").abs().alias("amount"),
    )
    out.add("accounts", compared.height, flagged)


@rule(
    "R004",
    "churned-but-crm-customer",
    Severity.WARNING,
    ("accounts", "customers", "subscriptions"),
    "{n} customer accounts have no live subscription left in billing",
    basis="arr at churn",
    grace_days=30,
)
def churned_but_crm_customer(ctx: Context, params: Params, out: Collector) -> None:
    """Customer account whose linked customers have no live subscription any more.

    Why: the CRM still counts as a customer someone billing lost, so customer counts, renewals
    and health are overstated. Flags when the latest service end of the linked customers'
    subscriptions is more than `grace_days` before as_of; an account whose linked customers
    have no subscription at all is not flagged. Revenue at risk is the ARR of the subscriptions
    that ended last (D29); detail `last service end <date>`.

    Example: account 5312994874 has Lifecycle Stage Customer, but the last subscription of its
    Stripe customer ended on 2026-08-17, 45 days before the as-of day 2026-10-01, so it is flagged
    "last service end 2026-08-17".

    Fix: If the customer churned, change the account's lifecycle stage in the CRM (e.g. a
    former-customer stage or type) and close its renewal. If it still pays under another Stripe
    customer, link that customer to the account (see R002).
    """
    accounts = ctx.need("accounts", "lifecycle_stage").filter(ctx.is_customer_account())
    subs = _linked(ctx).join(ctx.subscriptions, on="customer_id", how="inner")
    last_end = pl.col("service_end").max().over("account_id")
    per_account = (
        subs.with_columns(
            pl.when(pl.col("service_end") == last_end).then(pl.col("arr")).alias("at_churn")
        )
        .group_by("account_id")
        .agg(
            pl.col("is_live").any().alias("live"),
            pl.col("service_end").max().alias("last_end"),
            # as the file writes it: an inclusive end loads one day later (D15)
            ctx.written_service_end()
            .sort_by("service_end", ctx.written_service_end())
            .last()
            .alias("written_end"),
            pl.col("at_churn").sum().alias("amount"),
        )
    )
    flagged = (
        accounts.join(per_account, on="account_id", how="inner")
        .filter(~pl.col("live") & (ctx.days_since(pl.col("last_end")) > params["grace_days"]))
        .select(
            ctx.record_id("accounts").alias("record_id"),
            pl.format("last service end {}", pl.col("written_end")).alias("detail"),
            "amount",
        )
    )
    out.add("accounts", accounts.height, flagged)


@rule(
    "R005",
    "crm-customer-without-billing",
    Severity.WARNING,
    ("accounts", "customers"),
    "{n} customer accounts have no linked billing customer",
)
def crm_customer_without_billing(ctx: Context, params: Params, out: Collector) -> None:
    """Customer account that no billing customer links to (by id or by e-mail domain).

    Why: either the customer is billed under an unlinked record (see R002) or not billed at all.

    Example: account 5311643463 has Lifecycle Stage Evangelist (a reseller partner), but no Stripe
    customer has its id in hubspot_company_id or an e-mail at its domain, so it is flagged.

    Fix: Link the Stripe customer to the account (the CRM id in the metadata column mapped as
    `account_id`, or an e-mail at the account's domain). If the account never pays, correct its
    lifecycle stage, or set `predicates: customer_stages:` to the stages that mean paying.
    """
    accounts = ctx.need("accounts", "lifecycle_stage").filter(ctx.is_customer_account())
    flagged = accounts.join(_linked(ctx), on="account_id", how="anti").select(
        ctx.record_id("accounts").alias("record_id"),
        pl.lit(None, pl.String).alias("detail"),
        pl.lit(0.0).alias("amount"),
    )
    out.add("accounts", accounts.height, flagged)
