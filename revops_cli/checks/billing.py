"""Audit rules of family B: consistency inside the billing exports (CHECKS.md).

A subscription is one record however many rows (price spans) it has (DECISIONS D14): its record id
is `subscription_id` and the runner counts it once. `ctx.subscriptions` adds `service_end`
(end_date, else canceled_at), `is_live` and `arr` (12 x MRR) to every row.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip, as_written, current_rows
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity

RECORD = "_record"  # B004: the record id of a row, the subscription_id or `subscriptions:row N`


@rule(
    "B001",
    "live-subscription-bad-amount",
    Severity.WARNING,
    ("subscriptions",),
    "{n} live subscriptions have a missing, zero or negative MRR",
)
def live_subscription_bad_amount(ctx: Context, params: Params, out: Collector) -> None:
    """Live, not trialing, subscription whose MRR is missing, zero or negative.

    Why: a paying subscription without a positive MRR understates MRR, ARR and every retention
    rate. Trials are excluded (they carry no MRR). Detail `missing`, `zero` or `negative`.

    Example: Stripe subscription sub_1y9qgJpbxl9jOb0ckAVR5EcM on the Sandbox plan is active at a
    price of 0.00, so it is flagged `zero`.

    Fix: Put the real price on the subscription in Stripe, or cancel it if it is an internal or test
    account. If MRR should come from a column of the export, map it as `mrr` under
    `sources.subscriptions.columns` (`metrics.mrr.source`).
    """
    ctx.need_mrr_inputs()
    subs = ctx.subscriptions.filter(pl.col("is_live") & (pl.col("status") != "trialing"))
    mrr = as_written(subs, "mrr")  # in any currency: a missing rate is V003's finding
    problem = (
        pl.when(mrr.is_null())
        .then(pl.lit("missing"))
        .when(mrr == 0)
        .then(pl.lit("zero"))
        .when(mrr < 0)
        .then(pl.lit("negative"))
    )
    flagged = subs.filter(problem.is_not_null()).select(
        ctx.record_id("subscriptions").alias("record_id"),
        problem.alias("detail"),
        pl.lit(0.0).alias("amount"),
    )
    out.add("subscriptions", ctx.record_count("subscriptions", subs), flagged)


@rule(
    "B002",
    "subscription-status-date-mismatch",
    Severity.WARNING,
    ("subscriptions",),
    "{n} subscriptions have a status that contradicts their end date",
    basis="arr",
)
def subscription_status_date_mismatch(ctx: Context, params: Params, out: Collector) -> None:
    """Live status but a service end on or before as_of; or canceled with no end date at all.

    Why: MRR and churn read the dates, the billing tool reads the status: one of them is wrong.
    Service end is end_date, else canceled_at. Detail `<status> but ended <date>` or
    `canceled without end date`.

    Example: Stripe subscription sub_1v2QUCR1bWKOZr0Tt0OoU0ZA has Status active but Ended At
    2026-07-31, before the as-of day 2026-10-01, so it is flagged "active but ended 2026-07-31".

    Fix: Check the subscription in Stripe: if it has ended, cancel it or export again (the status is
    stale); if it still runs, correct the end date. Also check that `end_date` under
    `sources.subscriptions.columns` maps Ended At, not Current Period End.
    """
    if not {"end_date", "canceled_at"} & set(ctx.need("subscriptions").columns):
        raise Skip("missing_column:subscriptions.end_date")
    subs = current_rows(ctx.subscriptions)
    live_status = pl.col("status").is_in(list(ctx.predicates.live_subscription_statuses))
    ended = live_status & (pl.col("service_end") <= ctx.as_of)
    undated = (pl.col("status") == "canceled") & pl.col("service_end").is_null()
    written = ctx.written_service_end()  # as in the file
    detail = (
        pl.when(ended)
        .then(pl.format("{} but ended {}", pl.col("status"), written))
        .when(undated)
        .then(pl.lit("canceled without end date"))
    )
    flagged = subs.filter(ended | undated).select(
        ctx.record_id("subscriptions").alias("record_id"),
        detail.alias("detail"),
        ctx.record_basis("subscriptions").alias("amount"),
    )
    out.add("subscriptions", ctx.record_count("subscriptions", subs), flagged)


@rule(
    "B003",
    "invoice-status-date-mismatch",
    Severity.WARNING,
    ("invoices",),
    "{n} invoices have a status that contradicts their payment date",
    basis="invoice",
)
def invoice_status_date_mismatch(ctx: Context, params: Params, out: Collector) -> None:
    """Paid invoice without paid_at, or paid_at set on an open or void invoice.

    Why: cash and collection figures read one field, revenue the other; they disagree.
    Detail `paid without paid_at` or `paid_at set while <status>`.

    Example: Stripe invoice in_1lWBNBL8p7mUkUcGZNbUHwFA is void but has a Paid At date, so it is
    flagged "paid_at set while void"; a paid invoice with an empty Paid At is flagged "paid without
    paid_at".

    Fix: Open the invoice in the billing system and correct whichever is wrong: record the payment
    date of a paid invoice, or clear the payment of a voided one. Check that `paid_at` under
    `sources.invoices.columns` maps the payment date, not the due date.
    """
    invoices = ctx.need("invoices", "paid_at")
    paid_undated = (pl.col("status") == "paid") & pl.col("paid_at").is_null()
    unpaid_dated = pl.col("status").is_in(["open", "void"]) & pl.col("paid_at").is_not_null()
    detail = (
        pl.when(paid_undated)
        .then(pl.lit("paid without paid_at"))
        .otherwise(pl.format("paid_at set while {}", pl.col("status")))
    )
    flagged = invoices.filter(paid_undated | unpaid_dated).select(
        ctx.record_id("invoices").alias("record_id"),
        detail.alias("detail"),
        ctx.record_basis("invoices").alias("amount"),
    )
    out.add("invoices", invoices.height, flagged)


@rule(
    "B004",
    "overlapping-subscriptions",
    Severity.WARNING,
    ("subscriptions",),
    "{n} live subscriptions overlap another of the same customer and plan",
    basis="arr of the smaller",
)
def overlapping_subscriptions(ctx: Context, params: Params, out: Collector) -> None:
    """Two live subscriptions of the same customer and plan whose periods overlap.

    Why: the customer is probably charged twice for one plan, or an upgrade left the old
    subscription running. Both are flagged (detail `overlaps <ids>`); revenue at risk is the ARR
    of the smaller of each pair (equal ARR: the larger id counts as the smaller), DECISIONS D28.

    Example: one customer has two live 'Extra Storage (Monthly)' subscriptions,
    sub_1YEDzSbSPLI7ZHza7ntBR4I3 and sub_1Kj2S9pMXFUETI0LFyQHTnu8, neither ended; each is flagged
    "overlaps <the other id>". Both bill 20 GBP a month, so the larger id, sub_1YEDz..., counts as
    the smaller: its ARR, 304.80 USD, is at risk.

    Fix: Cancel the subscription that should have been replaced in Stripe and refund or credit the
    double charge. For an upgrade or more seats, change the existing subscription instead of
    creating a second one.
    """
    ctx.need("subscriptions", "plan")
    live = ctx.subscriptions.filter(
        pl.col("is_live") & pl.col("plan").is_not_null() & pl.col("start_date").is_not_null()
    )
    # a row without an id is a record of its own (`subscriptions:row N`); the ids count the
    # records checked, and a file without them (S001) has a record a row
    ids = ["subscription_id"] if "subscription_id" in live.columns else []
    live = live.select(
        ctx.record_id("subscriptions").alias(RECORD),
        *ids,
        "customer_id",
        "plan",
        "start_date",
        "service_end",
        "arr",
    )
    # periods are [start_date, service_end), open-ended when service_end is null
    starts_before_other_ends = pl.col("service_end_other").is_null() | (
        pl.col("start_date") < pl.col("service_end_other")
    )
    other_starts_before_end = pl.col("service_end").is_null() | (
        pl.col("start_date_other") < pl.col("service_end")
    )
    is_smaller = (pl.col("arr") < pl.col("arr_other")) | (
        (pl.col("arr") == pl.col("arr_other")) & (pl.col(RECORD) > pl.col(f"{RECORD}_other"))
    )
    pairs = live.join(live, on=["customer_id", "plan"], suffix="_other").filter(
        (pl.col(RECORD) != pl.col(f"{RECORD}_other"))
        & starts_before_other_ends
        & other_starts_before_end
    )
    flagged = pairs.group_by(RECORD, maintain_order=True).agg(
        pl.format(
            "overlaps {}",
            pl.col(f"{RECORD}_other").unique().sort().str.join(", "),
        ).alias("detail"),
        pl.when(is_smaller).then(pl.col("arr")).otherwise(0.0).max().alias("amount"),
    )
    out.add(
        "subscriptions",
        ctx.record_count("subscriptions", live),
        flagged.select(pl.col(RECORD).alias("record_id"), "detail", "amount"),
    )
