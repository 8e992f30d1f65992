"""What a rule sees: the canonical tables, the shared predicates of CHECKS.md and the money bases.

Shared frames (open deals, live subscriptions, the customer-to-account link, ARR per account) are
computed once per run and cached here, whatever number of rules use them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import polars as pl

from revops_cli.load.dataset import Dataset
from revops_cli.load.derive import inclusive_ends, mrr_inputs, native
from revops_cli.results import Severity
from revops_cli.schema import NEVER_PAID, ROW, TABLES

# What `\s+` -> ' ' collapses, without rewriting every single plain space: runs of two or more
# whitespace characters, and any whitespace character other than a plain space (3x cheaper).
SPACE_RUNS = r"\s{2,}|[^\S ]"

LEGAL_SUFFIXES = (
    "inc",
    "llc",
    "ltd",
    "gmbh",
    "sa",
    "sas",
    "bv",
    "corp",
    "co",
    "plc",
    "ag",
    "oy",
    "ab",
)


class Skip(Exception):
    """A part of a rule cannot run: a table or column is not loaded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Part:
    """The flagged rows of one table: columns record_id, detail, amount and optionally severity."""

    table: str
    checked: int
    flagged: pl.DataFrame


@dataclass
class Collector:
    """Where a rule puts what it flagged; parts that cannot run are recorded as skipped."""

    parts: list[Part] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # the reason to skip for polars' "column not found" on a column the file lacks (S001)
    absent: Callable[[BaseException], str | None] = lambda exc: None

    @contextmanager
    def part(self) -> Iterator[None]:
        """Run one part of a rule; a Skip inside it skips that part only (DECISIONS D30), and so
        does reading a column that the config maps and the file lacks (S001)."""
        try:
            yield
        except Skip as skip:
            self.skipped.append(skip.reason)
        except pl.exceptions.ColumnNotFoundError as exc:
            reason = self.absent(exc)
            if reason is None:
                raise
            self.skipped.append(reason)

    def add(
        self,
        table: str,
        checked: int,
        flagged: pl.DataFrame,
        severity: Severity | None = None,
    ) -> None:
        """Add flagged rows (record_id, detail, amount[, severity]) of `table`."""
        columns = {"record_id": pl.String, "detail": pl.String, "amount": pl.Float64}
        exprs = [pl.col(c).cast(t) for c, t in columns.items()]
        if "severity" in flagged.columns:
            exprs.append(pl.col("severity").cast(pl.String))
        elif severity is not None:
            exprs.append(pl.lit(severity.value).alias("severity"))
        self.parts.append(Part(table, checked, flagged.select(exprs)))


def as_written(frame: pl.DataFrame, column: str) -> pl.Expr:
    """Money `column` as written, before conversion: a value in a currency without a rate is
    not missing (SCHEMA.md: it is left out of money sums, and V003 reports it)."""
    return pl.col(native(column)) if native(column) in frame.columns else pl.col(column)


def joined_per_key(frame: pl.DataFrame, key: str, value: str, alias: str) -> pl.DataFrame:
    """One row per `key` of `frame`: its non-null `value`s sorted and joined with ', ' (as
    `alias`; '' when it has none). Most keys have one row, and only the repeated ones are grouped:
    sorting and joining a list per key cost a fifth of a second per hundred thousand keys."""
    single = pl.col(key).is_unique()
    return pl.concat(
        [
            frame.filter(single).select(key, pl.col(value).fill_null("").alias(alias)),
            frame.filter(~single)
            .group_by(key)
            .agg(pl.col(value).drop_nulls().sort().str.join(", ").alias(alias)),
        ]
    )


def norm_domain(expr: pl.Expr) -> pl.Expr:
    """Lower-case host: no scheme, no `www.`, no path or port (CHECKS.md); of a text column,
    which is trimmed when it loads."""
    return (
        expr.str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.-]*://", "")
        .str.replace(r"^www\.", "")
        .str.replace(r"[/:?#].*$", "")
    )


def email_domain(expr: pl.Expr) -> pl.Expr:
    """The lower-cased domain of an e-mail address (null without exactly one @); of a text
    column, which is trimmed when it loads."""
    # one regex, not a count and a split: `when` would compute the cleaned text twice
    return expr.str.to_lowercase().str.extract(r"^[^@]*@([^@]*)$", 1)


def norm_name(expr: pl.Expr) -> pl.Expr:
    """Lower-case, punctuation removed, legal suffixes removed, spaces collapsed (CHECKS.md).

    A suffix is a word at the end, after the name ('Acme Corp Ltd' -> 'acme'): 'AG Barr' and
    'Co Op Bank' keep their first word, and a name that is only a suffix stays as it is.
    """
    suffixes = "|".join(LEGAL_SUFFIXES)
    return (
        expr.str.to_lowercase()
        .str.replace_all(r"[^\w\s]|_", "")  # `\w` holds the underscore, punctuation too
        .str.replace_all(SPACE_RUNS, " ")
        .str.strip_chars()
        .str.replace(rf"(?: (?:{suffixes}))+$", "")
    )


class Context:
    """The dataset as the rules read it, with the shared predicates and money bases."""

    def __init__(self, dataset: Dataset, deal_history: pl.DataFrame | None = None) -> None:
        self.ds = dataset
        # close dates stored by earlier runs (columns point, deal_id, close_date; point orders the
        # runs), or None when no run history is configured: only D011 reads it
        self.deal_history = deal_history
        self.config = dataset.config
        self.as_of = dataset.as_of
        self.predicates = dataset.config.predicates
        self.tz = dataset.config.metrics.timezone

    # --- access -----------------------------------------------------------------------------

    def need(self, table: str, *columns: str) -> pl.DataFrame:
        """The canonical frame of `table`, or Skip when it or one of `columns` is not loaded, or
        when one of `columns` is mapped but missing from the file's header (S001: the rules
        needing it are skipped; a default, such as the base currency, does not stand in)."""
        frame = self.ds.table(table)
        if frame is None:
            raise Skip(f"missing_table:{table}")
        lacking = self.ds.lacking(table, *columns)
        if lacking is not None:
            raise Skip(lacking)
        for column in columns:
            if column not in frame.columns:
                raise Skip(f"missing_column:{table}.{column}")
        return frame

    def need_mrr_inputs(self) -> None:
        """Skip unless the columns MRR comes from are mapped (`metrics.mrr.source`; the metrics are
        unavailable for the same reason): the `mrr` column, or `amount` and `interval`. The frame
        always has `mrr` and `interval` (derived, or a vocabulary without a default), so the
        mapping decides."""
        self.need("subscriptions")
        mapped = self.ds.loads["subscriptions"].columns
        for column in mrr_inputs(self.config, mapped):
            if column not in mapped:
                raise Skip(f"missing_column:subscriptions.{column}")

    def has(self, table: str, *columns: str) -> bool:
        frame = self.ds.table(table)
        return frame is not None and all(c in frame.columns for c in columns)

    def need_any(self, table: str, *columns: str) -> tuple[pl.DataFrame, list[str]]:
        """The table and those of `columns` it has; Skip when it has none of them."""
        frame = self.need(table)
        present = [c for c in columns if c in frame.columns]
        if not present:
            raise Skip(f"missing_column:{table}.{'/'.join(columns)}")
        return frame, present

    @staticmethod
    def record_count(table: str, frame: pl.DataFrame) -> int:
        """How many records `frame` holds: all rows of one subscription are one record (D14),
        and each row without an id is a record of its own."""
        if table == "subscriptions" and "subscription_id" in frame.columns:
            ids = frame["subscription_id"]
            return ids.drop_nulls().n_unique() + ids.null_count()
        return frame.height  # a file without the subscription_id header (S001): a row each

    def record_id(self, table: str) -> pl.Expr:
        """The id a finding reports: the key, else `table:row N` (CHECKS.md, DECISIONS D14); a
        row whose key cell is empty is a record of its own, `table:row N` too."""
        row = pl.format("{}:row {}", pl.lit(table), pl.col(ROW))
        key = TABLES[table].record_id
        frame = self.ds.table(table)
        if key is None or (frame is not None and key not in frame.columns):
            return row  # no key, or subscriptions without their id header (S001, D14)
        if frame is not None and not frame.get_column(key).has_nulls():
            # every row has its key (the usual case), and the rows a rule flags are rows of the
            # table: the coalesce would format `table:row N` for each of them, and drop it
            return pl.col(key).cast(pl.String)
        return pl.coalesce(pl.col(key).cast(pl.String), row)

    def finding_columns(self, table: str, *columns: str) -> list[str]:
        """`columns` plus those that `record_id` and `record_basis` read, for a `select` before a
        join: an eager join copies every column of the frame it keeps."""
        needed = [*columns, ROW, *(c for c in ("amount", "mrr", "status") if c not in columns)]
        key = TABLES[table].record_id
        if key is not None and key not in needed:
            needed.append(key)
        frame = self.ds.table(table)
        present = frame.columns if frame is not None else []
        return [c for c in dict.fromkeys(needed) if c in present]

    def record_basis(self, table: str) -> pl.Expr:
        """Basis amount of a row's own record (D29): deal or invoice amount, 12 x MRR (none for a
        trial, as in `subscriptions.arr`: trials are live, but MRR excludes them)."""
        frame = self.ds.table(table)
        columns = frame.columns if frame is not None else []
        if table in ("deals", "invoices") and "amount" in columns:
            return pl.col("amount").fill_null(0.0)
        if table == "subscriptions" and "mrr" in columns:
            arr = _row_arr(columns)
            repeated = self._current_subscription_arr
            if repeated is None:
                return arr
            # all rows of a subscription are one record (D14), priced at its latest span: an
            # ended price change does not make the record's MRR
            ids, values = repeated
            return pl.col("subscription_id").replace_strict(ids, values, default=arr)
        return pl.lit(0.0)

    @cached_property
    def _current_subscription_arr(self) -> tuple[pl.Series, pl.Series] | None:
        """(subscription_id, basis) of the subscriptions recorded in several rows, from each one's
        current row; None when no id repeats (the usual case)."""
        subs = self.ds.table("subscriptions")
        if subs is None or "subscription_id" not in subs.columns or "mrr" not in subs.columns:
            return None
        if self.ds.lacking("subscriptions", "end_date", "canceled_at") is not None:
            return None  # the latest span cannot be told (S001): each row's own MRR
        ids = subs.get_column("subscription_id").drop_nulls()
        if ids.is_unique().all():
            return None
        repeated = ids.filter(ids.is_duplicated()).unique()
        current = current_rows(self.subscriptions).filter(  # one row per subscription
            pl.col("subscription_id").is_in(repeated.implode())
        )
        basis = current.select(_row_arr(current.columns)).to_series()
        return current.get_column("subscription_id"), basis

    def with_account_basis(
        self, frame: pl.DataFrame, basis: str, on: str = "account_id"
    ) -> pl.DataFrame:
        """`frame` with an `amount` column: the account's open pipeline or its ARR (D29)."""
        try:
            source = self.account_pipeline if basis == "pipeline" else self.account_arr
        except Skip:  # no account link: the record stands, its basis is not known (D30)
            return frame.with_columns(pl.lit(0.0).alias("amount"))
        value = "pipeline" if basis == "pipeline" else "arr"
        joined = frame.join(
            source.select(pl.col("account_id").alias(on), pl.col(value).alias("amount")),
            on=on,
            how="left",
        )
        return joined.with_columns(pl.col("amount").fill_null(0.0))

    def with_customer_basis(self, frame: pl.DataFrame, on: str = "customer_id") -> pl.DataFrame:
        """`frame` with an `amount` column: 12 x MRR of the customer's live subscriptions (D29)."""
        if not self.has("subscriptions"):
            return frame.with_columns(pl.lit(0.0).alias("amount"))
        source = self.customer_arr.select(
            pl.col("customer_id").alias(on), pl.col("arr").alias("amount")
        )
        return frame.join(source, on=on, how="left").with_columns(pl.col("amount").fill_null(0.0))

    # --- dates ------------------------------------------------------------------------------

    def day(self, column: str) -> pl.Expr:
        """A date or datetime column as a date in the run's time zone (DECISIONS D16)."""
        col = pl.col(column)
        # every `*_at` column is a UTC datetime (DECISIONS D25); the others are dates already
        return col.dt.convert_time_zone(self.tz).dt.date() if column.endswith("_at") else col

    def written_day(self, table: str, column: str) -> pl.Expr:
        """`day(column)` as the file writes it, for a finding's detail: an inclusive end
        (`end_date_inclusive`, `period_end_inclusive`) loads one day later (D15)."""
        if (table, column) in self._inclusive:
            return self.day(column) - timedelta(days=1)
        return self.day(column)

    def written_service_end(self) -> pl.Expr:
        """A subscription row's `service_end` as the file writes it (`written_day`)."""
        columns = self.ds.tables["subscriptions"].columns
        ends = [c for c in ("end_date", "canceled_at") if c in columns]
        if not ends:
            return pl.col("service_end")  # null on every row, as long as the frame
        return pl.coalesce([self.written_day("subscriptions", c) for c in ends])

    @cached_property
    def _inclusive(self) -> frozenset[tuple[str, str]]:
        return inclusive_ends(self.config)

    def days_since(self, expr: pl.Expr) -> pl.Expr:
        """Whole days from the date `expr` to as_of."""
        return (pl.lit(self.as_of) - expr).dt.total_days()

    def date_param(self, days: int) -> date:
        return self.as_of - timedelta(days=days)

    # --- shared predicates -----------------------------------------------------------------

    def is_open_lead(self) -> pl.Expr:
        return pl.col("status").is_in(list(self.predicates.open_lead_statuses))

    def is_customer_account(self) -> pl.Expr:
        stages = [s.lower() for s in self.predicates.customer_stages]
        return pl.col("lifecycle_stage").str.strip_chars().str.to_lowercase().is_in(stages)

    def last_touch(self, frame: pl.DataFrame) -> pl.Expr:
        """coalesce(last_activity_at, created_at) of `frame`'s rows; the activity alone when the
        table has no created_at (L001 and D003 alike)."""
        if "created_at" not in frame.columns:
            return self.day("last_activity_at")
        return pl.coalesce(self.day("last_activity_at"), self.day("created_at"))

    @cached_property
    def subscriptions(self) -> pl.DataFrame:
        """Subscription rows with `service_end` (end_date, else canceled_at) and `is_live`."""
        subs = self.need("subscriptions")
        lacking = self.ds.lacking("subscriptions", "end_date", "canceled_at")
        if lacking is not None:  # S001: when a row stops cannot be told
            raise Skip(lacking)
        ends = [c for c in ("end_date", "canceled_at") if c in subs.columns]
        service_end = pl.coalesce([self.day(c) for c in ends]) if ends else pl.lit(None, pl.Date)
        live_statuses = list(self.predicates.live_subscription_statuses)
        # without a status (S001) the dates alone say whether a row runs, as under the default
        live = pl.col("status").is_in(live_statuses) if "status" in subs.columns else pl.lit(True)
        return subs.with_columns(service_end.alias("service_end")).with_columns(
            (live & (pl.col("service_end").is_null() | (pl.col("service_end") > self.as_of))).alias(
                "is_live"
            ),
            (_row_arr(subs.columns) if "mrr" in subs.columns else pl.lit(0.0)).alias("arr"),
        )

    @cached_property
    def customer_links(self) -> pl.DataFrame:
        """customer_id -> linked account_id (null when none), by id else by e-mail domain."""
        customers = self.need("customers")
        # S001: a link column the file lacks would leave customers unlinked that are not
        domains = self.config.link_by_domain
        lacking = self.ds.lacking("customers", "account_id", *(["email"] if domains else []))
        lacking = lacking or (self.ds.lacking("accounts", "domain") if domains else None)
        if lacking is not None:
            raise Skip(lacking)
        accounts = self.ds.table("accounts")
        domain_link = (
            domains
            and "email" in customers.columns
            and accounts is not None
            and "domain" in accounts.columns
        )
        if "account_id" not in customers.columns and not domain_link:
            # no way to link: every customer would look unknown to the CRM (SCHEMA.md: the
            # rules that need an unmapped column are skipped)
            raise Skip("missing_column:customers.account_id")
        account_ids = (
            accounts.select("account_id")
            if accounts is not None
            else pl.DataFrame({"account_id": []}, schema={"account_id": pl.String})
        )
        direct = (
            pl.when(pl.col("account_id").is_in(account_ids["account_id"].implode())).then(
                pl.col("account_id")
            )
            if "account_id" in customers.columns
            else pl.lit(None, pl.String)  # no CRM id in the export: by domain alone
        )
        linked = customers.select(
            "customer_id",
            direct.alias("direct"),
            (email_domain(pl.col("email")) if "email" in customers.columns else pl.lit(None))
            .cast(pl.String)
            .alias("mail_domain"),
        )
        if domain_link and accounts is not None:
            free = [d.lower() for d in self.predicates.free_mail_domains]
            by_domain = (
                accounts.select("account_id", norm_domain(pl.col("domain")).alias("mail_domain"))
                # a domain of nothing ('https://www.') equals no e-mail domain, not 'bob@''s
                .filter((pl.col("mail_domain") != "") & ~pl.col("mail_domain").is_in(free))
                .group_by("mail_domain")
                .agg(pl.col("account_id").first(), pl.len().alias("matches"))
                .filter(pl.col("matches") == 1)
                .select("mail_domain", pl.col("account_id").alias("by_domain"))
            )
            linked = linked.join(by_domain, on="mail_domain", how="left")
        else:
            linked = linked.with_columns(pl.lit(None, pl.String).alias("by_domain"))
        # one row per customer: the load kept the last row of a repeated id, and each row
        # without an id is a customer of its own (CHECKS.md `table:row N`), still linked
        return linked.select(
            "customer_id", pl.coalesce("direct", "by_domain").alias("linked_account_id")
        )

    @cached_property
    def customer_arr(self) -> pl.DataFrame:
        """customer_id -> 12 x MRR of its live subscriptions (D29)."""
        return (
            self.subscriptions.filter(pl.col("is_live"))
            .group_by("customer_id")
            .agg(pl.col("arr").sum())
        )

    @cached_property
    def account_arr(self) -> pl.DataFrame:
        """account_id -> 12 x MRR of the live subscriptions of its linked customers (D29)."""
        return (
            self.customer_links.join(self.customer_arr, on="customer_id", how="inner")
            .group_by(pl.col("linked_account_id").alias("account_id"))
            .agg(pl.col("arr").sum())
            .filter(pl.col("account_id").is_not_null())
        )

    @cached_property
    def account_pipeline(self) -> pl.DataFrame:
        """account_id -> sum of its open deals' amounts (D29, basis `pipeline` for an account)."""
        if not self.has("deals", "account_id", "status"):  # no status: S001 on the stage
            return pl.DataFrame(
                {"account_id": [], "pipeline": []},
                schema={"account_id": pl.String, "pipeline": pl.Float64},
            )
        deals = self.ds.tables["deals"]
        amount = pl.col("amount") if "amount" in deals.columns else pl.lit(0.0)
        return (
            deals.filter(pl.col("status") == "open")
            .group_by("account_id")
            .agg(amount.fill_null(0.0).sum().alias("pipeline"))
        )


def _row_arr(columns: Collection[str]) -> pl.Expr:
    """12 x MRR of a subscription row; a trial carries none (trials are live, MRR excludes them).
    Without a status (S001) every row counts, as under the default status."""
    arr = (pl.col("mrr") * 12).fill_null(0.0)
    if "status" not in columns:
        return arr
    return pl.when(pl.col("status").is_in(NEVER_PAID)).then(0.0).otherwise(arr)


def current_rows(subs: pl.DataFrame) -> pl.DataFrame:
    """The last row of each subscription: all its rows are one record (D14), and in a history
    export (one row per price change) the earlier rows end where the next begins, so the record's
    status, service end and MRR are those of its latest span (by start, then by service end, open
    last). A row without a subscription_id is a record of its own. `subs` has `service_end`."""
    if (
        "subscription_id" not in subs.columns
        or subs["subscription_id"].drop_nulls().is_unique().all()
    ):
        return subs  # each row its own record (no id header: S001)
    record = pl.coalesce(pl.col("subscription_id"), pl.format("row {}", pl.col(ROW)))
    by = [pl.col("start_date")] if "start_date" in subs.columns else []  # S001: no start
    ordered = subs.with_columns(record.alias("_record")).sort(
        [*by, pl.col("service_end"), pl.col(ROW)], nulls_last=[False] * len(by) + [True, False]
    )
    return ordered.unique("_record", keep="last", maintain_order=True).drop("_record")
