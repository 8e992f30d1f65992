"""Audit rules of family U: duplicate records (CHECKS.md).

A duplicate is a cluster of two or more records sharing a normalised key; every member is flagged
with the cluster (key and sorted member ids) in `detail`. Null or empty keys never form a cluster.
"""

from __future__ import annotations

import polars as pl

from revops_cli.checks.context import (
    SPACE_RUNS,
    Collector,
    Context,
    email_domain,
    joined_per_key,
    norm_domain,
    norm_name,
)
from revops_cli.checks.registry import Params, rule
from revops_cli.results import Severity

KEY = "_cluster_key"
MEMBERS = "_members"
VALUE = "_value"
UNIT = "\x1f"  # the unit separator: in no name or id, it keeps the parts of a key apart


def _filled(expr: pl.Expr) -> pl.Expr:
    """`expr`, with an empty string read as null (an empty key never clusters)."""
    return expr.replace("", None)  # not `when(expr != "").then(expr)`: that computes expr twice


def _email(column: str) -> pl.Expr:
    """An e-mail as duplicates compare it: lower-cased and trimmed (text columns are trimmed
    when they load, of every kind of white space, so only the case is folded here)."""
    return _filled(pl.col(column).str.to_lowercase())


def _words(column: str) -> pl.Expr:
    """Lower-cased, whitespace collapsed and trimmed (U002's first and last names; trimmed when
    they load, and collapsing inner runs leaves no space at either end)."""
    return _filled(pl.col(column).str.to_lowercase().str.replace_all(SPACE_RUNS, " "))


def _clusters(ctx: Context, table: str, frame: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
    """Rows of `frame` whose non-null `key` is shared with another row, with `record_id`, the
    key (KEY) and the cluster's sorted record ids (MEMBERS)."""
    # a group-by and a join, not `str.join(...).over(KEY)`: that window panics in polars 2.1 on
    # large frames (an out-of-bounds string view)
    # Candidates share a 64-bit hash of the key (cheaper to compare than the text), found by
    # sorting the hashes (a quarter of the time of `is_duplicated`); the group-by on the key
    # itself then drops any hash collision. The key is computed lazily, so that its string work
    # is spread over the cores (an eager expression on one chunk runs on one), and computed
    # again for the candidates alone rather than kept for every row.
    hashes = (
        frame.lazy()
        .select(key.alias(KEY))
        .select(pl.when(pl.col(KEY).is_not_null()).then(pl.col(KEY).hash()).alias("_hash"))
        .collect()
        .get_column("_hash")
    )
    ordered = hashes.drop_nulls().sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    candidates = (
        frame.filter(hashes.is_in(repeated.implode()).fill_null(False))
        .lazy()
        .with_columns(key.alias(KEY), ctx.record_id(table).alias("record_id"))
        .collect()
    )
    members = (
        candidates.group_by(KEY)
        .agg(pl.col("record_id").sort().str.join(", ").alias(MEMBERS), pl.len().alias("_size"))
        .filter(pl.col("_size") > 1)
        .drop("_size")
    )
    return candidates.join(members, on=KEY, how="inner", maintain_order="left")


def _detail(label: str) -> pl.Expr:
    """`<label> '<key>': <member ids>` for the rows of `_clusters`."""
    shown = pl.col(KEY).str.replace_all(UNIT, " ", literal=True)
    return pl.format(f"{label} '{{}}': {{}}", shown, pl.col(MEMBERS))


def _rows(found: pl.DataFrame, detail: pl.Expr, amount: pl.Expr, severity: str) -> pl.DataFrame:
    """The collector's columns for the members of `found`."""
    return found.select(
        "record_id",
        detail.alias("detail"),
        amount.cast(pl.Float64).alias("amount"),
        pl.lit(severity).alias("severity"),
    )


def _all_but_largest(found: pl.DataFrame) -> pl.DataFrame:
    """`found` with `amount`: VALUE of each member except the cluster's largest (ties: the
    smallest record id), which gets 0."""
    ranked = found.sort([VALUE, "record_id"], descending=[True, False], nulls_last=True)
    is_largest = pl.int_range(pl.len()).over(KEY) == 0
    return ranked.with_columns(
        pl.when(is_largest).then(0.0).otherwise(pl.col(VALUE).fill_null(0.0)).alias("amount")
    )


def _tiered(
    ctx: Context,
    out: Collector,
    table: str,
    strong: tuple[str, pl.Expr],
    weak: tuple[str, pl.Expr],
) -> None:
    """Clusters on the strong key (warning), then on the weak key (info) for the records no
    strong cluster holds. Each tier runs when its columns are loaded."""
    frame = ctx.need(table)
    rows: list[pl.DataFrame] = []
    strong_ids = pl.Series("record_id", [], pl.String)
    for (label, key), severity in ((strong, "warning"), (weak, "info")):
        with out.part():
            ctx.need(table, *key.meta.root_names())
            found = _clusters(ctx, table, frame, key).filter(
                ~pl.col("record_id").is_in(strong_ids.implode())
            )
            if severity == "warning":
                strong_ids = found["record_id"]
            rows.append(_rows(found, _detail(label), pl.lit(0.0), severity))
    if rows:
        out.add(table, frame.height, pl.concat(rows))


@rule(
    "U001",
    "duplicate-account",
    Severity.WARNING,
    ("accounts",),
    "{n} accounts share a domain or a name with another account",
)
def duplicate_account(ctx: Context, params: Params, out: Collector) -> None:
    """Two or more accounts with the same normalised domain (info: only the normalised name).

    Why: duplicate accounts split activity, pipeline and ownership, and break the billing link.
    A name match alone is weaker evidence, hence info; detail `domain '<d>': <ids>` or
    `name '<n>': <ids>`.

    Example: accounts 5312830814 'Kestrel Logistics AG' (kestrel-logistics.example) and 5316118054
    'Kestrel Logistics Inc' ('https://www.Kestrel-Logistics.example/') are both flagged "domain
    'kestrel-logistics.example': 5312830814, 5316118054".

    Fix: Merge the records in the CRM (HubSpot or Salesforce merge), keeping the one billing links
    to. For a name-only match (info), first check that they are not separate companies, such as
    subsidiaries.
    """
    domain = _filled(norm_domain(pl.col("domain")))
    name = _filled(norm_name(pl.col("name")))
    _tiered(ctx, out, "accounts", ("domain", domain), ("name", name))


@rule(
    "U002",
    "duplicate-lead",
    Severity.WARNING,
    ("leads",),
    "{n} leads share an e-mail, or a name and company, with another lead",
)
def duplicate_lead(ctx: Context, params: Params, out: Collector) -> None:
    """Two or more leads with the same e-mail (info: only first name, last name and company).

    Why: duplicate leads are worked twice, double-count funnel metrics and annoy the prospect.
    The name tier needs all three parts; detail `email '<e>': <ids>` or
    `name '<first> <last> / <company>': <ids>`.

    Example: leads 34964 and 109915 have the e-mail 'Victor.Ortega@foxgloveworks.example' and
    'victor.ortega@foxgloveworks.example'; both are flagged "email
    'victor.ortega@foxgloveworks.example': 109915, 34964".

    Fix: Merge the contacts in the CRM, keeping the record with the activity history, and
    deduplicate on e-mail when importing lists. For a name-and-company match (info), merge only
    after checking that it is the same person.
    """
    company = _filled(norm_name(pl.col("company")))
    # first and last names are compared apart ('Mary Ann' 'Lee' is not 'Mary' 'Ann Lee'): a
    # separator no name holds, shown as a space
    name = pl.concat_str(
        [pl.concat_str([_words("first_name"), _words("last_name")], separator=UNIT), company],
        separator=" / ",
    )
    _tiered(ctx, out, "leads", ("email", _email("email")), ("name", name))


@rule(
    "U003",
    "lead-is-existing-customer",
    Severity.INFO,
    ("leads", "accounts"),
    "{n} open leads come from the domain of a customer account",
)
def lead_is_existing_customer(ctx: Context, params: Params, out: Collector) -> None:
    """Open lead whose e-mail domain is the domain of a customer account.

    Why: the lead is an existing customer and should be routed as expansion, not new business.
    Any domain matches, a free-mail one included (CHECKS.md names no exception here, unlike the
    billing-customer link; V002 reports a customer account with a free-mail domain).

    Example: open lead 109190 has an e-mail at junipercapital.example, the domain of customer
    account 5314143941, so it is flagged "domain 'junipercapital.example' of customer account
    5314143941".

    Fix: Associate the lead with the customer account in the CRM and route it to the account's owner
    as an expansion opportunity, not to new-business prospecting. A routing rule on the e-mail
    domain prevents it.
    """
    leads = ctx.need("leads", "email").filter(ctx.is_open_lead())
    accounts = ctx.need("accounts", "domain", "lifecycle_stage")
    domains = (
        accounts.filter(ctx.is_customer_account())
        .select(
            ctx.record_id("accounts").alias("account_id"),  # a keyless one as `accounts:row N`
            _filled(norm_domain(pl.col("domain"))).alias("mail_domain"),
        )
        .filter(pl.col("mail_domain").is_not_null())
    )
    customer_domains = joined_per_key(domains, "mail_domain", "account_id", "accounts")
    flagged = (  # lazy: the domain of every open lead's e-mail is read over both cores
        leads.lazy()
        .with_columns(email_domain(pl.col("email")).alias("mail_domain"))
        .join(customer_domains.lazy(), on="mail_domain", how="inner")
        .collect()
    )
    detail = pl.format("domain '{}' of customer account {}", "mail_domain", "accounts")
    out.add(
        "leads",
        leads.height,
        flagged.select(
            ctx.record_id("leads").alias("record_id"),
            detail.alias("detail"),
            pl.lit(0.0).alias("amount"),
        ),
    )


@rule(
    "U004",
    "duplicate-open-deal",
    Severity.WARNING,
    ("deals",),
    "{n} open deals duplicate another open deal on the same account",
    basis="pipeline of all but the largest",
)
def duplicate_open_deal(ctx: Context, params: Params, out: Collector) -> None:
    """Two or more open deals on the same account with the same normalised name.

    Why: the same opportunity entered twice inflates pipeline and forecast. Revenue at risk is
    the pipeline of every member but the largest; detail `name '<n>' on account <id>: <ids>`.

    Example: open deals 8847498091 and 8848451716, both 'Aurora Manufacturing - New Business' on
    account 5316821541, are flagged; both are 1,440, so the pipeline of one, 8848451716, is at risk.

    Fix: Merge the deals in the CRM or delete the copy, keeping the one with the activity history
    and the right amount. If they are really separate opportunities, give them distinct names (e.g.
    the product).
    """
    deals = ctx.need("deals", "account_id", "name").filter(pl.col("status") == "open")
    name = _filled(norm_name(pl.col("name")))
    key = pl.concat_str([name, pl.col("account_id")], separator=UNIT)
    found = _all_but_largest(
        _clusters(
            ctx,
            "deals",
            deals.with_columns(name.alias("_name"), ctx.record_basis("deals").alias(VALUE)),
            key,
        )
    )
    detail = pl.format("name '{}' on account {}: {}", "_name", "account_id", MEMBERS)
    out.add("deals", deals.height, _rows(found, detail, pl.col("amount"), "warning"))


@rule(
    "U005",
    "duplicate-billing-customer",
    Severity.WARNING,
    ("customers", "subscriptions"),
    "{n} billing customers with a live subscription share an e-mail",
    basis="arr of all but the largest",
)
def duplicate_billing_customer(ctx: Context, params: Params, out: Collector) -> None:
    """Two or more customers with the same e-mail, each with a live subscription.

    Why: one buyer billed through two customer records is a double charge or a split MRR
    history. Revenue at risk is the ARR of every member but the largest.

    Example: Stripe customers cus_noN2o96AyhIMQK and cus_erZIPvLGDQlaxg both have the e-mail
    finance@glaciermanufacturing.example (in different case) and a live subscription each; the ARR
    of the smaller one is at risk.

    Fix: Move the subscriptions onto one Stripe customer (cancel and re-create at period end) and
    check for double charges. If they really are two buyers sharing one mailbox, give each its own
    billing e-mail.
    """
    customers = ctx.need("customers", "email")
    with_live = customers.filter(
        pl.col("customer_id").is_in(ctx.customer_arr["customer_id"].implode())
    )
    valued = ctx.with_customer_basis(with_live).rename({"amount": VALUE})
    found = _all_but_largest(_clusters(ctx, "customers", valued, _email("email")))
    out.add(
        "customers",
        with_live.height,
        _rows(found, _detail("email"), pl.col("amount"), "warning"),
    )


@rule(
    "U006",
    "duplicate-owner",
    Severity.WARNING,
    ("owners",),
    "{n} owners share an e-mail with another owner",
)
def duplicate_owner(ctx: Context, params: Params, out: Collector) -> None:
    """Two or more owners with the same e-mail.

    Why: one person under two owner ids splits their pipeline, quota and activity metrics.

    Example: owners 005 and 012 share the e-mail sofia.alvarez@northwind-analytics.example (012 was
    created by SSO provisioning), so both are flagged "email
    'sofia.alvarez@northwind-analytics.example': 005, 012".

    Fix: Reassign the records of the extra user to the main one and deactivate it in the CRM's user
    settings, then fix the SSO provisioning that created it.
    """
    owners = ctx.need("owners", "email")
    found = _clusters(ctx, "owners", owners, _email("email"))
    out.add("owners", owners.height, _rows(found, _detail("email"), pl.lit(0.0), "warning"))
