"""Audit rules of family V: values that parse but cannot be right (CHECKS.md).

E-mails and domains that no one can reach, currencies without a rate, placeholder names and numbers
outside their range. Each rule flags the record that holds the value, with the value in `detail`.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip, norm_domain
from revops_cli.checks.registry import Params, rule
from revops_cli.load.derive import FX_RATE, NATIVE_AMOUNT, native
from revops_cli.results import Severity

# One `@`, no spaces, and a domain of non-empty dot-separated parts (CHECKS.md V001).
EMAIL_SYNTAX = r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$"
PLACEHOLDER_LOCALS = ("test", "asdf", "none", "xxx", "noemail")  # DECISIONS D39
PLACEHOLDER_DOMAINS = ("example.com", "test.com", "email.com", "domain.com")
DISPOSABLE_DOMAINS = ("mailinator.com", "yopmail.com", "10minutemail.com", "guerrillamail.com")
EMAIL_TABLES = ("leads", "customers", "owners")

# Dot-separated labels of letters, digits and inner hyphens; an alphabetic last label (V002).
HOST_NAME = r"^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,}$"

PLACEHOLDER_VALUES = ("test", "asdf", "xxx", "n/a", "unknown", "none", "null", "-")
PLACEHOLDER_CHARS = max(len(v) for v in PLACEHOLDER_VALUES)
NAME_COLUMNS = {
    "leads": ("first_name", "last_name", "company"),
    "accounts": ("name",),
    "deals": ("name",),
    "customers": ("name",),
}
CURRENCY_TABLES = ("deals", "subscriptions", "invoices", "expenses")


def _number(expr: pl.Expr) -> pl.Expr:
    """A number as short text: 150.0 -> '150'."""
    return expr.round(2).cast(pl.String).str.replace(r"\.0$", "")


@rule(
    "V001",
    "invalid-email",
    Severity.WARNING,
    EMAIL_TABLES,
    "{n} {table} e-mails are malformed, placeholders or disposable",
)
def invalid_email(ctx: Context, params: Params, out: Collector) -> None:
    """An e-mail address is malformed, a placeholder or on a disposable domain.

    Why: mail to these addresses never reaches a person, so sequences, invoices and owner alerts are
    lost, and the record inflates lead and customer counts. Detail: `syntax`, `placeholder` or
    `disposable` with the address.

    Example: lead 110838 has Email 'lucia.rossi@gmail' (no dot in the domain) and is flagged
    "syntax 'lucia.rossi@gmail'"; 'test@cloverstudio.example' is flagged `placeholder` and
    'ravi.walsh@mailinator.com' `disposable`.

    Fix: Correct the address in the CRM or Stripe (from the contact's signature or the billing
    contact), or delete test and junk records. Block disposable and placeholder addresses in your
    form settings so new ones do not come in.
    """
    for table in EMAIL_TABLES:
        with out.part():
            frame = ctx.need(table, "email")
            # The lower-cased address and its parts are columns of their own: a lazy query does
            # not share subexpressions inside `when/then`, so they would be computed per branch.
            # Only the two columns needed are carried. A valid address has one '@' and no
            # spaces, so its parts are those of `email_domain`.
            parts = pl.col("_parts")
            domain = parts.struct.field("field_1")
            problem = (
                pl.when(~pl.col("_lower").str.contains(EMAIL_SYNTAX))
                .then(pl.lit("syntax"))
                .when(
                    parts.struct.field("field_0").is_in(PLACEHOLDER_LOCALS)
                    | domain.is_in(PLACEHOLDER_DOMAINS)
                )
                .then(pl.lit("placeholder"))
                .when(domain.is_in(DISPOSABLE_DOMAINS))
                .then(pl.lit("disposable"))
            )
            # the record id is made for the flagged rows only: formatting `table:row N` for
            # every row costs a tenth of a second on two million leads
            checked = (
                frame.lazy()
                .select(ctx.finding_columns(table, "email"))
                .filter(pl.col("email").is_not_null())
                .with_columns(pl.col("email").str.to_lowercase().alias("_lower"))
                .with_columns(pl.col("_lower").str.split_exact("@", 1).alias("_parts"))
                .with_columns(problem.alias("problem"))
            )
            flagged = (
                checked.filter(pl.col("problem").is_not_null())
                .select(
                    ctx.record_id(table).alias("record_id"),
                    pl.format("{} '{}'", pl.col("problem"), pl.col("email")).alias("detail"),
                    pl.lit(0.0).alias("amount"),
                )
                .collect()
            )
            checked_count = int(frame.select(pl.col("email").is_not_null().sum()).item())
            out.add(table, checked_count, flagged)


@rule(
    "V002",
    "invalid-domain",
    Severity.INFO,
    ("accounts",),
    "{n} {table} have a domain that is not a company host name",
)
def invalid_domain(ctx: Context, params: Params, out: Collector) -> None:
    """An account's domain is not a host name, or is a free-mail domain.

    Why: the domain links billing customers to accounts and finds duplicate accounts; a malformed or
    shared free-mail domain links the wrong records or none.

    Example: account 5315940177 has Company Domain Name 'gmail.com' (flagged "free-mail
    'gmail.com'") and account 5314923842 has 'n/a' (flagged "not a host name 'n/a'").

    Fix: Set the company's own website domain in the CRM (e.g. acme.com; scheme, www. and path are
    ignored) or clear the field. Never put a free-mail domain on a company: it links no billing
    customer and makes unrelated accounts look like duplicates.
    """
    frame = ctx.need("accounts", "domain").filter(pl.col("domain").is_not_null())
    host = norm_domain(pl.col("domain"))
    free = [d.lower() for d in ctx.predicates.free_mail_domains]
    problem = (
        pl.when(~host.str.contains(HOST_NAME))
        .then(pl.lit("not a host name"))
        .when(host.is_in(free))
        .then(pl.lit("free-mail"))
    )
    flagged = (
        frame.with_columns(problem.alias("problem"))
        .filter(pl.col("problem").is_not_null())
        .select(
            ctx.record_id("accounts").alias("record_id"),
            pl.format("{} '{}'", pl.col("problem"), pl.col("domain")).alias("detail"),
            pl.lit(0.0).alias("amount"),
        )
    )
    out.add("accounts", frame.height, flagged)


@rule(
    "V003",
    "unknown-currency",
    Severity.ERROR,
    CURRENCY_TABLES,
    "{n} {table} records are in a currency without a rate and are left out of every money sum",
    basis="0 (raw amount and currency in detail)",
)
def unknown_currency(ctx: Context, params: Params, out: Collector) -> None:
    """A record's currency is not the base currency and has no rate in `currency.rates`.

    Why: its money cannot be converted, so it is left out of every total and metric. Revenue at
    risk is 0 (DECISIONS D21): the raw amount and its currency are in `detail`.

    Example: Stripe invoice in_1TvIaf6Y2yi3W2C1KvxBLYeQ is a one-off training invoice of 4,800 CHF
    while `currency.rates` has no CHF, so it is flagged with "4800 CHF" and left out of revenue.

    Fix: Add the rate under `currency.rates` in the config (1 unit = rate x base, e.g. `CHF: 1.13`).
    If the currency code itself is wrong, correct it in the source system; empty currency cells take
    the source's `default_currency`.
    """
    for table in CURRENCY_TABLES:
        with out.part():
            frame = ctx.need(table, "currency", FX_RATE)
            # the amount as written, else (a subscription export with an `mrr` column only) MRR
            written = [c for c in (NATIVE_AMOUNT, native("mrr")) if c in frame.columns]
            raw = (
                pl.format("{} {}", _number(pl.coalesce(written)), pl.col("currency"))
                if written
                else pl.lit(None, pl.String)
            )
            flagged = frame.filter(pl.col(FX_RATE).is_null()).select(
                ctx.record_id(table).alias("record_id"),
                pl.coalesce(raw, pl.col("currency")).alias("detail"),
                pl.lit(0.0).alias("amount"),
            )
            out.add(table, ctx.record_count(table, frame), flagged)


@rule(
    "V005",
    "placeholder-value",
    Severity.INFO,
    tuple(NAME_COLUMNS),
    "{n} {table} records have a placeholder name such as 'test' or 'n/a'",
)
def placeholder_value(ctx: Context, params: Params, out: Collector) -> None:
    """A name field holds a placeholder such as test, asdf, n/a or unknown.

    Why: placeholder records are test data or skipped form fields; they inflate counts and hide the
    real name that matching and outreach need.

    Example: lead 18553 has Last Name 'Unknown' (flagged "last_name 'Unknown'") and Stripe customer
    cus_CAPHteIFKmEI6T is named 'test'.

    Fix: Enter the real name in the CRM or Stripe (from the e-mail signature, enrichment or the
    billing details) and delete test records. Make the name fields required on forms and imports.
    """
    for table, columns in NAME_COLUMNS.items():
        with out.part():
            frame, present = ctx.need_any(table, *columns)
            flagged = pl.concat([_placeholders(ctx, table, frame, c) for c in present])
            out.add(table, frame.height, flagged)


def _placeholders(ctx: Context, table: str, frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """The rows of `frame` whose `column` is a placeholder, as the collector's columns.

    The text is trimmed when it loads. Lower-casing never makes a text shorter in characters,
    so only the cells as short as the longest placeholder are lower-cased and compared: a
    filter on the length costs a tenth of lower-casing every name. The record id is made for
    the flagged rows alone (for every row, it would cost more than the test).
    """
    cells = frame.select(ctx.finding_columns(table, column))
    short = cells.filter(pl.col(column).str.len_chars() <= PLACEHOLDER_CHARS)
    return short.filter(pl.col(column).str.to_lowercase().is_in(PLACEHOLDER_VALUES)).select(
        ctx.record_id(table).alias("record_id"),
        pl.format("{} '{}'", pl.lit(column), pl.col(column)).alias("detail"),
        pl.lit(0.0).alias("amount"),
    )


@rule(
    "V006",
    "out-of-range-number",
    Severity.WARNING,
    ("deals", "subscriptions", "invoices"),
    "{n} {table} records hold a number outside its range",
)
def out_of_range_number(ctx: Context, params: Params, out: Collector) -> None:
    """A probability outside 0-100 %, a subscription quantity below 1, or a paid negative invoice.

    Why: these numbers feed weighted pipeline, MRR and revenue; one out-of-range value skews every
    total it enters. Probability is read on the scale the loader detected (METRICS.md §1.7).

    Example: deal 8846261315 has Deal probability 150 on the percent scale (flagged "probability
    150%"); subscription sub_1JsBPRS5PTXueGWUYGLdEMGt has quantity 0 and invoice
    in_12WgLpjXLjqo57eK4K5GS59Q is paid with -250 USD.

    Fix: Set the probability to 0-100 in the CRM (and check the stage probabilities of the
    pipeline), or set `metrics.deals.probability_scale` if the scale is misdetected. In Stripe,
    remove an item instead of setting its quantity to 0, and give credits as credit notes, not
    negative paid invoices.
    """
    with out.part():
        deals = ctx.need("deals", "probability").filter(pl.col("probability").is_not_null())
        flagged = deals.filter((pl.col("probability") < 0) | (pl.col("probability") > 1)).select(
            ctx.record_id("deals").alias("record_id"),
            pl.format("probability {}%", _number(pl.col("probability") * 100)).alias("detail"),
            pl.lit(0.0).alias("amount"),
        )
        out.add("deals", deals.height, flagged)
    with out.part():
        subs = ctx.need("subscriptions")
        lacking = ctx.ds.lacking("subscriptions", "quantity")
        if lacking is not None:  # S001
            raise Skip(lacking)
        if "quantity" not in subs.columns:  # unmapped: every row is one (D10)
            subs = subs.with_columns(pl.lit(1).alias("quantity"))
        subs = subs.filter(pl.col("quantity").is_not_null())
        flagged = subs.filter(pl.col("quantity") < 1).select(
            ctx.record_id("subscriptions").alias("record_id"),
            pl.format("quantity {}", pl.col("quantity")).alias("detail"),
            pl.lit(0.0).alias("amount"),
        )
        out.add("subscriptions", ctx.record_count("subscriptions", subs), flagged)
    with out.part():
        paid = ctx.need("invoices", "amount").filter(
            (pl.col("status") == "paid") & pl.col(NATIVE_AMOUNT).is_not_null()
        )
        # the native amount keeps its sign when the currency has no rate (V003)
        flagged = paid.filter(pl.col(NATIVE_AMOUNT) < 0).select(
            ctx.record_id("invoices").alias("record_id"),
            pl.format(
                "paid with amount {} {}", _number(pl.col(NATIVE_AMOUNT)), pl.col("currency")
            ).alias("detail"),
            pl.lit(0.0).alias("amount"),
        )
        out.add("invoices", paid.height, flagged)
