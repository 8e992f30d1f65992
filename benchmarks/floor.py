"""The floor of the benchmark: about the least work a run that follows the spec does with polars.

    python benchmarks/floor.py CONFIG [--skip TABLE.COLUMN ...]

Each file of CONFIG is read as the parse baseline reads it (every column as text: only a parse
of every column shows a record with more fields than the header, which SCHEMA reports and does
not load). Then each date, datetime, amount, number and integer column is typed with the
cheapest polars expression: the one ISO format of its first cell, a plain cast for numbers. The
cells that hold text but did not type are counted, as S002 must count them for every typed cell.
A bound, not the spec's parser: the yes/no and period columns (few cells) stay text, and so does
a date column whose first cell has no plain ISO format; '$1,200' counts as failed. Nothing else:
no trimming, no vocabularies, no keys, no rule, no metric, no output, and no import but polars,
PyYAML and two small modules of revops.

`--skip` leaves a column untyped; the runner passes the columns the metrics never read
(`revops_cli.metrics.unread_columns`) for the metrics' floor. The headers must be the canonical
column names, as `generate.py` writes them. The count of cells that did not type goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
import yaml

from revops_cli.load.fastpath import guess_format
from revops_cli.schema import TABLES, ColumnType

DATES = (ColumnType.DATE, ColumnType.DATETIME)
FLOATS = (ColumnType.MONEY, ColumnType.NUMBER)


def typed(kind: ColumnType, text: pl.Expr, sample: str | None) -> pl.Expr | None:
    """`text` typed the cheapest way, or None for a column of text (or of dates in no format)."""
    if kind in DATES:
        guess = guess_format(sample)
        if guess is None:
            return None
        return text.str.to_datetime(guess[0], strict=False, time_unit="us", cache=False)
    if kind in FLOATS:
        return text.cast(pl.Float64, strict=False)
    if kind is ColumnType.INTEGER:
        return text.cast(pl.Int64, strict=False)
    return None


def failed_cells(table: str, path: Path, skip: set[str]) -> int:
    raw = pl.read_csv(path, infer_schema=False)
    kinds = TABLES[table].columns
    wanted = [c for c in raw.columns if c in kinds and f"{table}.{c}" not in skip]
    samples = raw.head(1000).select(pl.col(c).drop_nulls().first() for c in wanted).row(0)
    counts = []
    for column, sample in zip(wanted, samples, strict=True):
        value = typed(kinds[column], pl.col(column), sample)
        if value is not None:
            counts.append((value.is_null() & pl.col(column).is_not_null()).sum().alias(column))
    return sum(raw.select(counts).row(0)) if counts else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", type=Path)
    ap.add_argument("--skip", action="append", default=[], help="TABLE.COLUMN left untyped")
    args = ap.parse_args(argv)
    sources = yaml.safe_load(args.config.read_text(encoding="utf-8"))["sources"]
    skip = set(args.skip)
    print(
        sum(
            failed_cells(table, args.config.parent / source["path"], skip)
            for table, source in sources.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
