"""Fast paths for the common shapes of big exports: one plain ISO format per date column, and
plain decimal numbers.

The general parsers (`parse`) try several formats and a full number grammar on every cell. A fast
expression reads only the one shape its column shows, and for every cell it accepts it gives exactly
what the general parser gives (tests/test_fastpath.py checks this cell by cell with hypothesis). It
is null for every other cell: `canonical_frame` then runs the general parser on those cells alone,
so a column with a few odd cells costs one fast pass plus a cheap pass over its misses.
"""

from __future__ import annotations

import re

import polars as pl

from revops_cli.load import parse
from revops_cli.schema import ColumnType

# (shape of a whole cell, strftime format, whether the value is a UTC instant)
FAST_FORMATS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"), "%Y-%m-%dT%H:%M:%S", False),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"), "%Y-%m-%d %H:%M:%S", False),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"), "%Y-%m-%dT%H:%M", False),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"), "%Y-%m-%d %H:%M", False),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d", False),
    # UTC instants: Stripe and most APIs ('Z'), JavaScript's toISOString, Salesforce's API
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "%Y-%m-%dT%H:%M:%SZ", True),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"), "%Y-%m-%dT%H:%M:%S%.3fZ", True),
    (
        re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000"),
        "%Y-%m-%dT%H:%M:%S%.3f+0000",
        True,
    ),
)
EXACT_INT = 2**53  # integers up to here survive the general parser's float
DATE_KINDS = (ColumnType.DATE, ColumnType.DATETIME)
NUMBER_KINDS = (ColumnType.MONEY, ColumnType.NUMBER)


def guess_format(sample: str | None) -> tuple[str, bool] | None:
    """The plain ISO format of `sample` and whether it is a UTC instant; None for other shapes."""
    if sample is None:
        return None
    return next(
        ((fmt, utc) for pattern, fmt, utc in FAST_FORMATS if pattern.fullmatch(sample)), None
    )


def fast_date(kind: ColumnType, text: pl.Expr, sample: str, timezone: str) -> pl.Expr | None:
    """`text` read in the one format of `sample`, with the general parser's semantics.

    Only cells exactly as long as the sample are read: strptime is lenient about padding
    ('2024-7-1') and a leading '+', which the general parser rejects. Cells are not trimmed: one
    with spaces around it is longer than the sample, and left to the general parser.
    """
    guess = guess_format(sample)
    if guess is None:
        return None
    fmt, utc = guess
    cleaned = pl.when(text.str.len_bytes() == len(sample)).then(text)
    if fmt == "%Y-%m-%d":
        day = cleaned.str.to_date(fmt, strict=False, cache=False)
        if kind is ColumnType.DATE:
            return day
        naive = day.cast(pl.Datetime("us"))
    else:
        naive = cleaned.str.to_datetime(fmt, strict=False, time_unit="us", cache=False)
        if kind is ColumnType.DATE and not utc:
            return naive.dt.date()  # a naive time is already in metrics.timezone
    if utc:
        instant = naive.dt.replace_time_zone("UTC")
        return (
            instant.dt.convert_time_zone(timezone).dt.date() if kind is ColumnType.DATE else instant
        )
    local = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def fast_number(text: pl.Expr) -> pl.Expr:
    """Plain decimal text ('1234.5', '-7', '.5') as Float64, as `parse.parse_money` reads it.

    The float cast also takes exponents, 'inf' and 'nan', which the money grammar rejects (D27);
    those cells, and magnitudes from 1e100 on, are left to the general parser, and so are cells
    with spaces around the number (the cast does not read them: trimming every cell would cost
    more than the cast). '-0' is +0.0, as D27 wants.
    """
    value = text.cast(pl.Float64, strict=False)
    plain = (value.abs() < parse.MAX_MAGNITUDE) & ~text.str.contains_any(["e", "E"])
    return pl.when(plain & (value != 0)).then(value).when(plain).then(0.0)


def fast_integer(text: pl.Expr) -> pl.Expr:
    """Plain integer text ('12', '-3') as Int64, as `parse.parse_integer` reads it; other cells
    ('3.0', '1,000', ' 7') are left to the general parser, and so are values beyond 2**53, which
    it reads through a float."""
    value = text.cast(pl.Int64, strict=False)
    return pl.when((value <= EXACT_INT) & (value >= -EXACT_INT)).then(value)


def fast_expression(
    kind: ColumnType, text: pl.Expr, sample: str | None, decimal: str, timezone: str
) -> pl.Expr | None:
    """The fast expression of a column of `kind`, or None when it has no fast path.

    `sample` is the column's first non-empty cell (dates take its format); numbers have a fast
    path only with '.' as the decimal mark.
    """
    if kind in DATE_KINDS and sample is not None:
        return fast_date(kind, text, sample, timezone)
    if kind in NUMBER_KINDS and decimal == ".":
        return fast_number(text)
    if kind is ColumnType.INTEGER:
        return fast_integer(text)
    return None


def first_values(
    raw: pl.DataFrame, texts: dict[str, pl.Expr], rows: int = 1000
) -> dict[str, str | None]:
    """The first non-empty cell of each column among the first `rows` rows."""
    if not texts:
        return {}
    head = raw.head(rows).select(
        parse.clean_text(text).drop_nulls().first().alias(column) for column, text in texts.items()
    )
    return head.row(0, named=True)
