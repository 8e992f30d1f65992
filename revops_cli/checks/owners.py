"""Audit rules of family O: records nobody owns, or owned by someone unknown or gone (CHECKS.md).

O001 and O003 look at the records someone must work: open leads, open deals, and customer accounts
or accounts with an open deal (CHECKS.md "Precise readings"). O002 looks at every record.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity

OWNED_TABLES = ("leads", "deals", "accounts")


def _scoped(ctx: Context, table: str, out: Collector) -> pl.DataFrame:
    """The records of `table` that need an owner, with a `scope` column saying why; only the
    columns the O rules read (a filter copies every column it carries). An account's reason that
    cannot be judged (no lifecycle stage, no deals' account ids) is a skipped part (D30)."""
    frame = ctx.need(table, "owner_id")
    frame = frame.select(ctx.finding_columns(table, "owner_id", "lifecycle_stage", "account_id"))
    if table == "leads":
        scope = pl.format("open lead ({})", pl.col("status"))
        return frame.filter(ctx.is_open_lead()).with_columns(scope.alias("scope"))
    if table == "deals":
        return frame.filter(pl.col("status") == "open").with_columns(
            pl.lit("open deal").alias("scope")
        )
    reasons: list[pl.Expr] = []
    skipped: list[str] = []
    if "lifecycle_stage" in frame.columns:
        reasons.append(pl.when(ctx.is_customer_account()).then(pl.lit("customer account")))
    else:
        skipped.append("missing_column:accounts.lifecycle_stage")
    if ctx.has("deals", "account_id", "status"):
        with_open_deal = pl.col("account_id").is_in(ctx.account_pipeline["account_id"].implode())
        reasons.append(pl.when(with_open_deal).then(pl.lit("open deals")))
    elif not ctx.has("deals"):
        skipped.append("missing_table:deals")
    else:  # a status comes from the stage unless the export maps one (SCHEMA.md)
        derived = ctx.ds.lacking("deals", "status") is None  # else the mapped status is missing
        absent = "account_id" if not ctx.has("deals", "account_id") else "status"
        skipped.append(
            f"missing_column:deals.{'stage' if absent == 'status' and derived else absent}"
        )
    if not reasons:
        raise Skip(skipped[0])
    out.skipped.extend(skipped)
    scope = pl.concat_str(reasons, separator=", ", ignore_nulls=True)
    return frame.with_columns(scope.alias("scope")).filter(pl.col("scope") != "")


def _with_amount(ctx: Context, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the records' basis amount (D29): deal amount, account pipeline, 0 for leads."""
    if table == "accounts":
        return ctx.with_account_basis(frame, "pipeline")
    return frame.with_columns(ctx.record_basis(table).alias("amount"))


@rule(
    "O001",
    "missing-owner",
    Severity.WARNING,
    OWNED_TABLES,
    "{n} {table} that need an owner have none",
    basis="pipeline",
)
def missing_owner(ctx: Context, params: Params, out: Collector) -> None:
    """An open lead, an open deal or an active account has no owner.

    Why: nobody follows up unowned records; leads go cold and deals slip. Active accounts are
    customer accounts and accounts with an open deal. Detail: why the record needs an owner.

    Example: open deal 8846186355 has an empty Deal owner (flagged "open deal") and customer account
    5314018840, which also has an open renewal deal, has an empty Company owner (flagged "customer
    account, open deals").

    Fix: Assign an owner in the CRM, e.g. with a bulk edit of an "owner is unknown" view, and add an
    assignment or rotation rule so new leads and deals always get one. If the column is empty for
    every record, check `owner_id` under `sources.<table>.columns`.
    """
    for table in OWNED_TABLES:
        with out.part():
            scoped = _scoped(ctx, table, out)
            flagged = _with_amount(ctx, table, scoped.filter(pl.col("owner_id").is_null())).select(
                ctx.record_id(table).alias("record_id"), pl.col("scope").alias("detail"), "amount"
            )
            out.add(table, scoped.height, flagged)


@rule(
    "O002",
    "unknown-owner",
    Severity.ERROR,
    ("owners", *OWNED_TABLES),
    "{n} {table} have an owner_id that is not in owners (export deactivated users too)",
    basis="pipeline",
)
def unknown_owner(ctx: Context, params: Params, out: Collector) -> None:
    """A record's owner_id is set but is not in owners.

    Why: owner reports and routing drop the record. Most often the owners export lists active users
    only (HubSpot hides deactivated owners unless archived ones are requested): export them too.

    Example: account 5311483140 and deal 8847856877 have owner 019, a deactivated user who is
    missing from owners.csv, so both are flagged "unknown owner '019'".

    Fix: Export the owners including deactivated users (HubSpot: include deactivated users;
    Salesforce: a User report without the Active filter). Then reassign the records of people who
    left (see O003).
    """
    owners = ctx.need("owners").select("owner_id").drop_nulls().unique()
    for table in OWNED_TABLES:
        with out.part():
            owned = (
                ctx.need(table, "owner_id")
                .select(ctx.finding_columns(table, "owner_id", "account_id"))
                .filter(pl.col("owner_id").is_not_null())
            )
            unknown = owned.join(owners, on="owner_id", how="anti")
            flagged = _with_amount(ctx, table, unknown).select(
                ctx.record_id(table).alias("record_id"),
                pl.format("unknown owner '{}'", pl.col("owner_id")).alias("detail"),
                "amount",
            )
            out.add(table, owned.height, flagged)


@rule(
    "O003",
    "inactive-owner",
    Severity.WARNING,
    ("owners", *OWNED_TABLES),
    "{n} {table} that need an owner belong to a deactivated user",
    basis="pipeline",
)
def inactive_owner(ctx: Context, params: Params, out: Collector) -> None:
    """An open lead, an open deal or an active account is owned by a deactivated user.

    Why: the owner has left or lost access, so nobody works the record although it looks owned.
    Active accounts are customer accounts and accounts with an open deal.

    Example: open deal 8843773679 is still owned by 010, whose is_active is false in owners.csv
    since the rep left, so it is flagged "inactive owner '010'".

    Fix: Reassign the departed user's open leads, open deals and customer accounts to an active rep
    in the CRM (a bulk edit, or Salesforce's Mass Transfer Records). Make reassignment part of
    offboarding, before the user is deactivated.
    """
    inactive = (
        ctx.need("owners", "is_active")  # S001 skips it: the default (true) would hide everyone
        .filter(pl.col("is_active").eq(False))
        .select("owner_id")
        .drop_nulls()
        .unique()
    )
    for table in OWNED_TABLES:
        with out.part():
            scoped = _scoped(ctx, table, out)
            owned = scoped.join(inactive, on="owner_id", how="semi")
            flagged = _with_amount(ctx, table, owned).select(
                ctx.record_id(table).alias("record_id"),
                pl.format("inactive owner '{}'", pl.col("owner_id")).alias("detail"),
                "amount",
            )
            out.add(table, scoped.height, flagged)
