"""The parse-only baseline of the benchmark: read CSV files with polars, every column as text.

    python benchmarks/parse_baseline.py FILE [FILE ...]

Each file is read once with `pl.read_csv(path, infer_schema=False)` (all columns, all String),
as in PEER_PERF.md tool (F). Nothing else is done; the row count goes to stdout.
"""

from __future__ import annotations

import sys

import polars as pl


def main(paths: list[str]) -> int:
    rows = 0
    for path in paths:
        rows += pl.read_csv(path, infer_schema=False).height
    print(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
