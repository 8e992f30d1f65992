"""Period tokens of METRICS.md §2.2 ("2024-Q3", "FY2024", "2024-07", ranges, mtd ...)."""

from __future__ import annotations

import polars as pl

# The grammar of METRICS.md §2.2, case-insensitive, surrounding whitespace ignored.
PERIOD_TOKEN = (
    r"(?i)^\s*(?:"
    r"\d{4}-(?:0[1-9]|1[0-2])"  # YYYY-MM
    r"|(?:CY|FY)?\d{4}"  # YYYY, CYYYYY, FYYYYY
    r"|(?:(?:CY|FY)?\d{4}-)?Q[1-4]"  # YYYY-Qn, FYYYYY-Qn, CYYYYY-Qn, Qn
    r"|(?:(?:CY|FY)?\d{4}-)?H[12]"  # YYYY-Hn, FYYYYY-Hn, CYYYYY-Hn, Hn
    r"|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}"  # explicit range
    r"|mtd|qtd|ytd|last-month|last-quarter"
    r")\s*$"
)


def is_period_token(text: pl.Expr) -> pl.Expr:
    """True where `text` follows the period grammar (the dates of a range are not checked here)."""
    return text.str.contains(PERIOD_TOKEN)
