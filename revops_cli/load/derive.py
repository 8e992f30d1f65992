"""Columns settled once at load, so that the audit and the metrics see the same values (D15).

Money is converted to the base currency, subscription MRR is normalised to a month (METRICS §1.5.3),
inclusive end dates become exclusive, and deal probability is put on the [0, 1] scale (§1.7).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

import polars as pl

from revops_cli.config import Config, SourceConfig
from revops_cli.schema import TABLES, ColumnType

FX_RATE = "_fx_rate"  # rate used to convert the row's money (null: currency without a rate, V003)


def native(column: str) -> str:
    """The name of the copy of money `column` as written, before conversion to the base currency
    (null where the cell did not parse): an amount in a currency without a rate is not missing."""
    return f"_{column}_native"


NATIVE_AMOUNT = native("amount")  # `amount` before conversion, e.g. for V003's detail

# Months in one billing interval of length 1 (METRICS §1.5.3; a week is 12/52 of a month, not 1/4).
MONTHS_PER_INTERVAL = {
    "day": 12 / 365,
    "week": 12 / 52,
    "month": 1.0,
    "quarter": 3.0,
    "half_year": 6.0,
    "year": 12.0,
}


def convert_money(
    table: str, frame: pl.DataFrame, source: SourceConfig, config: Config
) -> pl.DataFrame:
    """Money in the base currency; `currency` filled with the source's default or the base.

    A table whose money has no currency column (forecasts) is in the source's `default_currency`
    (METRICS §1.4: a null currency is the base unless the source sets one); the config check
    makes sure that currency has a rate.
    """
    spec = TABLES[table]
    money = [
        c for c, kind in spec.columns.items() if kind is ColumnType.MONEY and c in frame.columns
    ]
    base = config.currency.base
    rates = {**config.currency.rates, base: 1.0}  # METRICS §1.4: the reporting currency is 1
    fallback = source.default_currency or base
    if "currency" not in spec.columns:
        return frame.with_columns(pl.col(c) * rates[fallback] for c in money) if money else frame
    currency = (
        pl.col("currency").fill_null(fallback) if "currency" in frame.columns else pl.lit(fallback)
    )
    frame = frame.with_columns(currency.alias("currency"))
    rate = pl.col("currency").replace_strict(rates, default=None, return_dtype=pl.Float64)
    natives = [pl.col(c).alias(native(c)) for c in money]
    return frame.with_columns(*natives, rate.alias(FX_RATE)).with_columns(
        *(pl.col(c) * pl.col(FX_RATE) for c in money)
    )


def inclusive_ends(config: Config) -> frozenset[tuple[str, str]]:
    """The (table, column) end dates that the config says are inclusive: they load one day later,
    as exclusive ends."""
    ends = set()
    if config.metrics.subscriptions.end_date_inclusive:
        ends.add(("subscriptions", "end_date"))
    if config.metrics.invoices.period_end_inclusive:
        ends.add(("invoices", "period_end"))
    return frozenset(ends)


def derive_columns(table: str, frame: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Apply the load-time options of METRICS §8 to one canonical table."""
    for end_table, column in inclusive_ends(config):
        if end_table == table:
            frame = _end_exclusive(frame, column)
    if table == "subscriptions":
        return _subscriptions(frame, config)
    if table == "deals" and "probability" in frame.columns:
        return _probability(frame, config.metrics.deals.probability_scale)
    if table == "owners" and "is_active" not in frame.columns:
        return frame.with_columns(is_active=pl.lit(True))  # SCHEMA.md: default true
    return frame


def _subscriptions(frame: pl.DataFrame, config: Config) -> pl.DataFrame:
    # MRR in the base currency, and as written (B001 tests the latter, D15)
    return frame.with_columns(
        _mrr(frame, config, "amount", "mrr").alias("mrr"),
        _mrr(frame, config, native("amount"), native("mrr")).alias(native("mrr")),
    )


def mrr_inputs(config: Config, mapped: Collection[str]) -> tuple[str, ...]:
    """The subscription columns MRR comes from, given the `mapped` ones (`metrics.mrr.source`):
    the `mrr` column itself, or `amount` and `interval` to derive it from."""
    source = config.metrics.mrr.source
    given = source == "column" or (source == "auto" and "mrr" in mapped)
    return ("mrr",) if given else ("amount", "interval")


def _mrr(frame: pl.DataFrame, config: Config, amount: str, column: str) -> pl.Expr:
    """MRR from the `column` holding it or derived from `amount`, as `metrics.mrr.source` says."""
    options = config.metrics
    derived = _derived_mrr(frame, amount, options.subscriptions.amount_includes_quantity)
    given = pl.col(column) if column in frame.columns else pl.lit(None, pl.Float64)
    source = options.mrr.source
    return {"column": given, "derived": derived, "auto": pl.coalesce(given, derived)}[source]


def _derived_mrr(frame: pl.DataFrame, amount: str, includes_quantity: bool) -> pl.Expr:
    """amount x quantity / months per interval; null for a negative quantity or unknown interval."""
    if amount not in frame.columns or "interval" not in frame.columns:  # unmapped, or S001
        return pl.lit(None, pl.Float64)
    quantity = (
        pl.lit(1)
        if includes_quantity or "quantity" not in frame.columns
        else pl.col("quantity").fill_null(1)
    )
    count = (
        pl.col("interval_count").fill_null(1) if "interval_count" in frame.columns else pl.lit(1)
    )
    months = (
        pl.col("interval").replace_strict(
            MONTHS_PER_INTERVAL, default=None, return_dtype=pl.Float64
        )
        * count
    )
    valid = (quantity >= 0) & (months > 0)
    return pl.when(valid).then(pl.col(amount) * quantity / months)


def _end_exclusive(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    if column not in frame.columns:
        return frame
    return frame.with_columns(pl.col(column) + timedelta(days=1))


def _probability(frame: pl.DataFrame, scale: str) -> pl.DataFrame:
    """Probability on [0, 1]; `auto` reads the column as percent when any value is above 1."""
    percent = scale == "percent" or (
        scale == "auto" and bool(frame.select((pl.col("probability") > 1).any()).item())
    )
    return frame.with_columns(pl.col("probability") / 100) if percent else frame
