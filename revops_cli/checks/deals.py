"""Audit rules of family D: deals (CHECKS.md).

`deals.status` is always present (open / won / lost, from the stage at load), `deal_type`
defaults to new_business and `probability` is already on the [0, 1] scale.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip, as_written
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity

is_open = pl.col("status") == "open"
is_won = pl.col("status") == "won"
is_lost = pl.col("status") == "lost"


def _flagged(ctx: Context, frame: pl.DataFrame, detail: pl.Expr, money: bool) -> pl.DataFrame:
    """record_id, detail and amount (the deal amount under basis `pipeline`, else 0)."""
    amount = ctx.record_basis("deals") if money else pl.lit(0.0)
    return frame.select(
        ctx.record_id("deals").alias("record_id"),
        detail.cast(pl.String).alias("detail"),
        amount.alias("amount"),
    )


def _stage_limit(frame: pl.DataFrame, default: int, per_stage: Mapping[str, int]) -> pl.Expr:
    """Each deal's day limit: `per_stage` by raw stage name (any case), else `default`."""
    if not per_stage or "stage" not in frame.columns:
        return pl.lit(default, pl.Int64)
    lookup = {str(stage).strip().lower(): int(days) for stage, days in per_stage.items()}
    return (
        pl.col("stage")
        .str.to_lowercase()
        .replace_strict(lookup, default=default, return_dtype=pl.Int64)
    )


def _amount_problem(amount: pl.Expr) -> pl.Expr:
    """`missing`, `zero` or `negative` for a bad deal amount, else null."""
    return (
        pl.when(amount.is_null())
        .then(pl.lit("missing"))
        .when(amount == 0)
        .then(pl.lit("zero"))
        .when(amount < 0)
        .then(pl.lit("negative"))
    )


@rule(
    "D001",
    "orphan-deal",
    Severity.ERROR,
    ("deals", "accounts"),
    "{n} deals point at no existing account",
    basis="pipeline",
)
def orphan_deal(ctx: Context, params: Params, out: Collector) -> None:
    """Deal without an account, or whose account does not exist.

    Why: a won deal without an account has nobody to bill or renew, and open orphans fall out of
    every segment and account view. Detail `null` (no account id) or `dangling` (unknown id); the
    `null` part still runs when accounts are not loaded.

    Example: open deal 8848496763 has no Associated Company IDs (flagged `null`), and lost deal
    8840896492 points at a company that was deleted (flagged `dangling`).

    Fix: Associate each deal with its company in the CRM (HubSpot association, Salesforce Account
    field), and restore or re-create deleted companies. If one cell holds several company ids
    ("id;id"), set `multi_value: first` on the deals source.
    """
    deals = ctx.need("deals", "account_id")
    known = pl.lit(True)
    with out.part():
        accounts = ctx.need("accounts")
        known = pl.col("account_id").is_in(accounts["account_id"].drop_nulls().implode())
    detail = (
        pl.when(pl.col("account_id").is_null())
        .then(pl.lit("null"))
        .when(~known)
        .then(pl.lit("dangling"))
    )
    flagged = deals.with_columns(detail.alias("problem")).filter(pl.col("problem").is_not_null())
    out.add("deals", deals.height, _flagged(ctx, flagged, pl.col("problem"), money=True))


@rule(
    "D002",
    "past-due-open-deal",
    Severity.WARNING,
    ("deals",),
    "{n} open deals have a close date in the past",
    basis="pipeline",
    grace_days=0,
)
def past_due_open_deal(ctx: Context, params: Params, out: Collector) -> None:
    """Open deal whose close date has passed.

    Why: overdue deals stay in this period's forecast and drop out of forward-looking reports.
    Flags `days(close_date) > grace_days`; the detail gives the days since the close date.

    Example: open deal 8847648865 has Close Date 2026-08-14, 48 days before the as-of day
    2026-10-01, so it is flagged "48 days overdue".

    Fix: In the CRM, move the Close Date to the date the buyer now expects, or close the deal as
    lost; review overdue deals in the weekly pipeline call. `grace_days` under
    `rules: settings: D002:` allows some slack.
    """
    deals = ctx.need("deals", "close_date").filter(is_open)
    overdue = ctx.days_since(pl.col("close_date"))
    flagged = deals.filter(overdue > params["grace_days"])
    out.add(
        "deals",
        deals.height,
        _flagged(ctx, flagged, pl.format("{} days overdue", overdue), money=True),
    )


@rule(
    "D003",
    "stale-deal",
    Severity.WARNING,
    ("deals",),
    "{n} open deals have had no activity for too long",
    basis="pipeline",
    stale_days=14,
    per_stage={},
)
def stale_deal(ctx: Context, params: Params, out: Collector) -> None:
    """Open deal without activity for more than `stale_days` (or its stage's `per_stage` limit).

    Why: a deal nobody has touched for weeks is rarely alive, yet it inflates pipeline and forecast.
    Last touch is last_activity_at, else created_at (detail `never_touched`, otherwise `silent`);
    `per_stage` keys are raw stage names, matched in any case.

    Example: open deal 8846607349 last had activity on 2026-07-30, 63 days before the as-of day
    2026-10-01 and past the 14-day default, so it is flagged `silent`.

    Fix: Log the latest call, meeting or e-mail on the deal (connect the mailbox and calendar to the
    CRM) or close it as lost. Give slow stages more time with `per_stage: {"Contract Sent": 30}`
    under `rules: settings: D003:`.
    """
    deals = ctx.need("deals", "last_activity_at").filter(is_open)
    touch = ctx.last_touch(deals)
    limit = _stage_limit(deals, params["stale_days"], params["per_stage"])
    flagged = deals.filter(ctx.days_since(touch) > limit)
    detail = (
        pl.when(pl.col("last_activity_at").is_null())
        .then(pl.lit("never_touched"))
        .otherwise(pl.lit("silent"))
    )
    out.add("deals", deals.height, _flagged(ctx, flagged, detail, money=True))


@rule(
    "D004",
    "deal-stuck-in-stage",
    Severity.WARNING,
    ("deals", "deal_stage_history"),
    "{n} open deals have sat in their stage for too long",
    basis="pipeline",
    max_days_in_stage=30,
    per_stage={},
)
def deal_stuck_in_stage(ctx: Context, params: Params, out: Collector) -> None:
    """Open deal that has been in its current stage for more than `max_days_in_stage`.

    Why: a deal that stops moving through the stages is slipping, whatever its close date says.
    Stage entry is the latest entered_at of the deal's current stage in deal_stage_history; without
    one it is the deal's created_at (detail `basis: deal_age`).

    Example: open deal 8846072909 entered its current stage 'Qualified To Buy' on 2026-06-02
    according to deal_stage_history, 121 days before the as-of day 2026-10-01, so it is flagged "121
    days in stage".

    Fix: Move the deal to the stage it has really reached in the CRM, or close it. If a stage
    normally takes longer, set `per_stage: {"Contract Sent": 60}` under `rules: settings: D004:`;
    load deal_stage_history so entry dates are exact rather than `basis: deal_age`.
    """
    deals = ctx.need("deals").filter(is_open)
    # a history without one of its columns (S001) cannot date a stage: deal age, as without one
    usable = ctx.has("deal_stage_history", "deal_id", "stage", "entered_at")
    if ctx.has("deal_stage_history") and not usable:
        columns = ("deal_id", "stage", "entered_at")
        lacking = (ctx.ds.lacking("deal_stage_history", c) for c in columns)
        out.skipped.extend(reason for reason in lacking if reason is not None)
    has_history = usable and "stage" in deals.columns
    if not has_history and "created_at" not in deals.columns:
        raise Skip("missing_column:deals.created_at")
    if has_history:
        history = ctx.need("deal_stage_history")
        current = deals.select("deal_id", pl.col("stage").str.to_lowercase().alias("stage_key"))
        # the history of open deals only, joined before anything else is computed on it
        entries = (
            history.select("deal_id", "stage", "entered_at")
            .join(current.filter(pl.col("stage_key").is_not_null()), on="deal_id")
            .filter(pl.col("stage").str.to_lowercase() == pl.col("stage_key"))
            .group_by("deal_id")
            .agg(ctx.day("entered_at").max().alias("entered"))
        )
        deals = deals.join(entries, on="deal_id", how="left")
    else:
        deals = deals.with_columns(pl.lit(None, pl.Date).alias("entered"))
    created = ctx.day("created_at") if "created_at" in deals.columns else pl.lit(None, pl.Date)
    deals = deals.with_columns(
        pl.col("entered").is_null().alias("by_age"),
        pl.coalesce(pl.col("entered"), created).alias("since"),
    ).with_columns(ctx.days_since(pl.col("since")).alias("days"))
    limit = _stage_limit(deals, params["max_days_in_stage"], params["per_stage"])
    flagged = deals.filter(pl.col("days") > limit)
    detail = (
        pl.when(pl.col("by_age"))
        .then(pl.lit("basis: deal_age"))
        .otherwise(pl.format("{} days in stage", pl.col("days")))
    )
    out.add("deals", deals.height, _flagged(ctx, flagged, detail, money=True))


@rule(
    "D005",
    "won-deal-bad-amount",
    Severity.ERROR,
    ("deals",),
    "{n} won deals have a missing, zero or negative amount",
)
def won_deal_bad_amount(ctx: Context, params: Params, out: Collector) -> None:
    """Won deal whose amount is missing, zero or negative.

    Why: bookings, win rate by amount and average deal size are wrong for every such deal.
    Detail `missing`, `zero` or `negative`.

    Example: won deal 8846627113 'Saffron Energy - SSO Add-on' has Amount 0 (flagged `zero`), and
    won deal 8845296011 has an empty Amount (flagged `missing`).

    Fix: Enter the contracted amount from the order form or the Stripe price on the won deal in the
    CRM. Make Amount required before a deal can move to Closed Won (a required property or a
    validation rule).
    """
    deals = ctx.need("deals", "amount").filter(is_won)
    problem = _amount_problem(as_written(deals, "amount"))
    out.add(
        "deals",
        deals.height,
        _flagged(ctx, deals.filter(problem.is_not_null()), problem, money=False),
    )


@rule(
    "D006",
    "open-deal-bad-amount",
    Severity.WARNING,
    ("deals",),
    "{n} open deals have a missing, zero or negative amount",
)
def open_deal_bad_amount(ctx: Context, params: Params, out: Collector) -> None:
    """Open deal whose amount is missing, zero or negative.

    Why: the deal counts in pipeline numbers with no value, so coverage and weighted pipeline are
    understated. Detail `missing`, `zero` or `negative`.

    Example: open deal 8848158481 in stage Qualified To Buy has an empty Amount, so it is flagged
    `missing`.

    Fix: Enter an estimated amount in the CRM (from the quote or the price list) and make Amount
    required from an early stage on (HubSpot stage properties, a Salesforce validation rule).
    """
    deals = ctx.need("deals", "amount").filter(is_open)
    problem = _amount_problem(as_written(deals, "amount"))
    out.add(
        "deals",
        deals.height,
        _flagged(ctx, deals.filter(problem.is_not_null()), problem, money=False),
    )


@rule(
    "D007",
    "missing-close-date",
    Severity.WARNING,
    ("deals",),
    "{n} open or won deals have no close date",
    basis="pipeline",
)
def missing_close_date(ctx: Context, params: Params, out: Collector) -> None:
    """Open or won deal without a close date.

    Why: the deal cannot be placed in a period: it drops out of bookings (won) or of the pipeline
    of every quarter (open). Detail: the deal's status.

    Example: open deal 8846368887 has an empty Close Date (flagged `open`), and won deal 8841507885
    has none either (flagged `won`).

    Fix: Set the Close Date in the CRM: the expected date for open deals, the signature date for won
    ones. Make it required when a deal is created.
    """
    deals = ctx.need("deals", "close_date").filter(is_open | is_won)
    flagged = deals.filter(pl.col("close_date").is_null())
    out.add("deals", deals.height, _flagged(ctx, flagged, pl.col("status"), money=True))


@rule(
    "D008",
    "closed-deal-future-close-date",
    Severity.WARNING,
    ("deals",),
    "{n} won or lost deals close more than a day after the as-of date",
    basis="pipeline",
)
def closed_deal_future_close_date(ctx: Context, params: Params, out: Collector) -> None:
    """Won or lost deal whose close date is more than one day after as_of.

    Why: a closed deal dated in the future is booked into a period that has not happened yet.
    Detail: the status and the days ahead of as_of.

    Example: deal 8847569048 was marked won on 2026-09-29 but kept its planned Close Date
    2026-10-20, 19 days after the as-of day 2026-10-01, so it is flagged "won 19 days ahead".

    Fix: Set the Close Date to the day the deal was actually won or lost in the CRM. A workflow that
    stamps the date when the stage changes to Closed Won or Closed Lost prevents it.
    """
    deals = ctx.need("deals", "close_date").filter(is_won | is_lost)
    ahead = -ctx.days_since(pl.col("close_date"))
    flagged = deals.filter(ahead > 1)
    detail = pl.format("{} {} days ahead", pl.col("status"), ahead)
    out.add("deals", deals.height, _flagged(ctx, flagged, detail, money=True))


@rule(
    "D010",
    "probability-status-mismatch",
    Severity.INFO,
    ("deals",),
    "{n} closed deals have a probability that contradicts their status",
)
def probability_status_mismatch(ctx: Context, params: Params, out: Collector) -> None:
    """Won deal with probability below 100 %, or lost deal above 0 %.

    Why: weighted pipeline and stage-probability reports read the probability, which disagrees with
    the outcome. A null probability is not flagged.

    Example: won deal 8843934556 has Deal probability 90 (flagged "won with probability 0.9"), and
    lost deal 8841025979 has 20.

    Fix: Set 100 % on won stages and 0 % on lost stages in the pipeline's stage probabilities
    (HubSpot deal stage settings, Salesforce Opportunity Stage values), then correct the deals whose
    probability was overridden by hand.
    """
    deals = ctx.need("deals", "probability").filter(is_won | is_lost)
    mismatch = (is_won & (pl.col("probability") < 1)) | (is_lost & (pl.col("probability") > 0))
    # rounded: 0.9 % read as a fraction is 0.009000000000000001
    shown = pl.col("probability").round(9)
    detail = pl.format("{} with probability {}", pl.col("status"), shown)
    out.add("deals", deals.height, _flagged(ctx, deals.filter(mismatch), detail, money=False))
