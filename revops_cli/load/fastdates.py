"""A fast path for date columns written in one plain ISO format, the common case of big exports.

The general parsers try several formats per cell. When every non-empty cell of a column parses with
the one plain format its first value shows, that single parse gives the same values at a fraction
of the cost; otherwise the column goes through the general parser.
"""

from __future__ import annotations

import re

import polars as pl

from revops_cli.load import parse
from revops_cli.schema import ColumnType

# Naive ISO shapes (no offset): what the general parser reads as a time in metrics.timezone.
FAST_FORMATS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"), "%Y-%m-%dT%H:%M"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"), "%Y-%m-%d %H:%M"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
)


def guess_format(sample: str | None) -> str | None:
    """The plain ISO format of `sample`, or None when it has another shape."""
    if sample is None:
        return None
    return next((fmt for pattern, fmt in FAST_FORMATS if pattern.fullmatch(sample)), None)


def fast_parse(kind: ColumnType, text: pl.Expr, fmt: str, timezone: str) -> pl.Expr:
    """`text` parsed with the single format `fmt`, with the general parser's semantics."""
    cleaned = parse.clean_text(text)
    if fmt == "%Y-%m-%d":
        day = cleaned.str.to_date(fmt, strict=False)
        if kind is ColumnType.DATE:
            return day
        naive = day.cast(pl.Datetime("us"))
    else:
        naive = cleaned.str.to_datetime(fmt, strict=False, time_unit="us")
        if kind is ColumnType.DATE:
            return naive.dt.date()  # a naive time is already in metrics.timezone
    local = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def choose(
    raw: pl.DataFrame, candidates: dict[str, tuple[ColumnType, pl.Expr]], timezone: str
) -> dict[str, pl.Expr]:
    """The fast expression of each candidate column that parses every non-empty cell."""
    if not candidates:
        return {}
    firsts = (
        raw.lazy()
        .select(
            parse.clean_text(text).drop_nulls().first().alias(column)
            for column, (_, text) in candidates.items()
        )
        .collect()
        .row(0, named=True)
    )
    fast: dict[str, pl.Expr] = {}
    for column, (kind, text) in candidates.items():
        fmt = guess_format(firsts[column])
        if fmt is not None:
            fast[column] = fast_parse(kind, text, fmt, timezone)
    if not fast:
        return {}
    misses = (
        raw.lazy()
        .select(
            (parse.clean_text(candidates[c][1]).is_not_null() & expr.is_null()).sum().alias(c)
            for c, expr in fast.items()
        )
        .collect()
        .row(0, named=True)
    )
    return {column: expr for column, expr in fast.items() if misses[column] == 0}
