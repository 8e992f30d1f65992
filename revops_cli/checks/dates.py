"""Audit rules of family T: dates that cannot be true (CHECKS.md).

Dates are compared as days in the run's time zone (DECISIONS D16), as every rule that speaks of
days does; `detail` names the column and the offending date.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity
from revops_cli.schema import TABLE_NAMES, TABLES, ColumnType

# Event dates that cannot lie in the future (planned dates such as close_date or end_date can).
EVENT_COLUMNS = {
    "accounts": ("created_at",),
    "leads": ("created_at", "last_activity_at", "converted_at"),
    "deals": ("created_at", "last_activity_at"),
    "deal_stage_history": ("entered_at",),
    "customers": ("created_at",),
    "subscriptions": ("canceled_at",),
    "invoices": ("issued_at", "paid_at"),
}
# (later, earlier): the first date of each pair may not be before the second.
DATE_ORDER = {
    "leads": (("converted_at", "created_at"), ("last_activity_at", "created_at")),
    "deals": (("close_date", "created_at"), ("last_activity_at", "created_at")),
    "subscriptions": (("end_date", "start_date"), ("canceled_at", "start_date")),
    "invoices": (("paid_at", "issued_at"), ("period_end", "period_start")),
}
LAST_DAY = date(9999, 12, 31)
SENTINEL_DATES = (date(1900, 1, 1), date(1970, 1, 1), LAST_DAY)
DATE_KINDS = (ColumnType.DATE, ColumnType.DATETIME)


def _as_date(value: object) -> date:
    """A date parameter given as a date (YAML) or as ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value).strip())


@rule(
    "T001",
    "future-timestamp",
    Severity.WARNING,
    tuple(EVENT_COLUMNS),
    "{n} {table} records have an event date in the future",
    tolerance_days=1,
)
def future_timestamp(ctx: Context, params: Params, out: Collector) -> None:
    """An event date is later than as_of plus `tolerance_days`.

    Why: created, last activity, converted, entered, issued, paid and canceled dates cannot lie
    after the export. A future date is a time-zone, format (day/month swapped) or data-entry
    error, and it makes the record look fresh to every staleness rule.

    Example: with as-of day 2026-10-01, lead 30864 has Last Activity Date 2027-06-04 (a year typo)
    and is flagged "last_activity_at 2027-06-04"; a Stripe invoice dated 2026-10-15 is flagged
    "issued_at 2026-10-15".

    Fix: Correct the date in the source system (the logged activity, the record's date). If many
    records are off by a day or have day and month swapped, fix `metrics.timezone` or the source's
    `date_format`; `tolerance_days` under `rules: settings: T001:` allows more slack.
    """
    latest = ctx.as_of + timedelta(days=int(params["tolerance_days"]))
    for table, columns in EVENT_COLUMNS.items():
        with out.part():
            frame, present = ctx.need_any(table, *columns)
            flagged = pl.concat(
                [
                    frame.filter(ctx.day(c) > latest).select(
                        ctx.record_id(table).alias("record_id"),
                        pl.format("{} {}", pl.lit(c), ctx.day(c)).alias("detail"),
                        pl.lit(0.0).alias("amount"),
                    )
                    for c in present
                ]
            )
            out.add(table, ctx.record_count(table, frame), flagged)


@rule(
    "T002",
    "date-order",
    Severity.WARNING,
    tuple(DATE_ORDER),
    "{n} {table} records have dates in an impossible order",
    basis="pipeline",
)
def date_order(ctx: Context, params: Params, out: Collector) -> None:
    """A date precedes the date it must follow, such as a deal closed before it was created.

    Why: converted, closed, active, ended, canceled or paid before created, started or issued, or
    an invoice period that ends before it starts, cannot be true. Backdated deals shorten the
    sales cycle and land in past periods; reversed spans give negative durations and wrong MRR.
    Two datetimes are compared as instants (a payment an hour before the invoice is flagged); a
    pair with a date is compared as days, so a deal may close on the day it was created. So is a
    pair of datetimes one of which has no time of day (midnight in the run's zone): Salesforce's
    ConvertedDate and LastActivityDate, or Pipedrive's last activity date, are dates in `*_at`
    columns, and a lead converted on the day it was created is in order.

    Example: deal 8845058270 has Close Date 2026-03-12 but Create Date 2026-03-21, so it is flagged
    "close_date 2026-03-12 < created_at 2026-03-21" with its amount at risk.

    Fix: Correct whichever date is wrong in the source system: usually the deal's Close Date or the
    lead's conversion date in the CRM, or a subscription's or invoice's dates in Stripe. If many
    records are reversed, check the source's `date_format` for a day/month swap.
    """
    for table, pairs in DATE_ORDER.items():
        with out.part():
            frame = ctx.need(table)
            present = [(a, b) for a, b in pairs if a in frame.columns and b in frame.columns]
            if not present:
                absent = (c for pair in pairs for c in pair if c not in frame.columns)
                missing = "/".join(dict.fromkeys(absent))
                raise Skip(f"missing_column:{table}.{missing}")
            flagged = pl.concat(
                [
                    frame.filter(_reversed(ctx, later, earlier)).select(
                        ctx.record_id(table).alias("record_id"),
                        pl.format(
                            "{} {} < {} {}",
                            pl.lit(later),
                            _shown(ctx, table, later, earlier),
                            pl.lit(earlier),
                            _shown(ctx, table, earlier, later),
                        ).alias("detail"),
                        ctx.record_basis(table).alias("amount"),
                    )
                    for later, earlier in present
                ]
            )
            out.add(table, ctx.record_count(table, frame), flagged)


def _instants(column: str, other: str) -> bool:
    """Whether a pair of T002 compares instants: both are datetimes (`*_at`, D25). A pair with a
    date compares days, the datetime taken in the run's time zone (SCHEMA.md, D16)."""
    return column.endswith("_at") and other.endswith("_at")


def _reversed(ctx: Context, later: str, earlier: str) -> pl.Expr:
    """`later` before `earlier`: as instants for two datetimes that both have a time of day,
    else as days in the run's time zone."""
    by_day = ctx.day(later) < ctx.day(earlier)
    if not _instants(later, earlier):
        return by_day
    local = [pl.col(c).dt.convert_time_zone(ctx.tz).dt.time() for c in (later, earlier)]
    dated = (local[0] == time(0)) | (local[1] == time(0))  # a date-only cell reads as midnight
    return pl.when(dated).then(by_day).otherwise(pl.col(later) < pl.col(earlier))


def _shown(ctx: Context, table: str, column: str, other: str) -> pl.Expr:
    """`column` as the detail shows it: an instant in UTC, or the day as the file writes it."""
    if _instants(column, other):
        return pl.col(column).dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%SZ")
    return ctx.written_day(table, column)


DATED_TABLES = tuple(
    t for t in TABLE_NAMES if any(kind in DATE_KINDS for kind in TABLES[t].columns.values())
)


@rule(
    "T003",
    "sentinel-date",
    Severity.WARNING,
    DATED_TABLES,
    "{n} {table} records have a placeholder date such as 1900-01-01 or 9999-12-31",
    min_date="1990-01-01",
)
def sentinel_date(ctx: Context, params: Params, out: Collector) -> None:
    """A date before `min_date` or equal to 1900-01-01, 1970-01-01 or 9999-12-31.

    Why: these are what spreadsheets and databases write for an unknown date (Excel's day zero,
    the Unix epoch, "never ends"); read as real dates they make decades-old or endless records.

    Example: account 5310106615 has Create Date '1970-01-01 00:00' from a broken import (flagged
    "created_at 1970-01-01"), and subscription sub_14h35NL0r3fl6Z6aX0SdjvHL has Ended At 9999-12-31.

    Fix: Replace the placeholder with the real date in the source system, or clear it when unknown
    (an empty cell is read as unknown, and an empty end date means no end). If your data really goes
    back before 1990, lower `min_date` under `rules: settings: T003:`.
    """
    min_date = _as_date(params["min_date"])
    for table in DATED_TABLES:
        columns = tuple(c for c, kind in TABLES[table].columns.items() if kind in DATE_KINDS)
        if not columns:
            continue
        with out.part():
            frame, present = ctx.need_any(table, *columns)
            written = {c: ctx.written_day(table, c) for c in present}
            flagged = pl.concat(
                [
                    # 9999-12-31 late in the day with an offset is in year 10000 in the run's
                    # zone (a date polars can hold): the "never ends" placeholder still
                    frame.filter(
                        (day < min_date) | day.is_in(SENTINEL_DATES) | (day > LAST_DAY)
                    ).select(
                        ctx.record_id(table).alias("record_id"),
                        pl.format("{} {}", pl.lit(c), day).alias("detail"),
                        pl.lit(0.0).alias("amount"),
                    )
                    for c, day in written.items()
                ]
            )
            out.add(table, ctx.record_count(table, frame), flagged)
