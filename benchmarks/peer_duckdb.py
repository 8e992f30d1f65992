"""The DuckDB peer of the benchmark: the seven checks of PEER_PERF.md as one SQL query.

    python benchmarks/peer_duckdb.py DIR [--as-of 2025-06-30]

DIR holds deals.csv and accounts.csv as written by `generate.py --peer`. As in PEER_PERF.md
tool (B): both files are read with `read_csv` (DuckDB detects DATE and TIMESTAMP by itself),
deals are LEFT JOINed to accounts, and each check is a `count(*) FILTER (WHERE ...)` column:

    a missing owner      owner_id IS NULL
    b duplicate deal_id  count(*) - count(DISTINCT deal_id)
    c orphan deals       no matching account (null or unknown account_id)
    d open past close    open stage and close_date < as_of
    e open stale         open stage and last_activity_at < as_of - 14 days
    f won bad amount     stage = 'Closed Won' and (amount null or <= 0)
    g invalid stage      stage not one of the 6 canonical stages

"Open" is one of the 4 open stages, listed explicitly. The counts are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import duckdb

OPEN = ("Prospecting", "Qualification", "Proposal", "Negotiation")
STAGES = (*OPEN, "Closed Won", "Closed Lost")


def sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def query(deals: Path, accounts: Path, as_of: date) -> str:
    open_stages, stages = sql_list(OPEN), sql_list(STAGES)
    day = f"DATE '{as_of.isoformat()}'"
    return f"""
WITH deals AS (SELECT * FROM read_csv('{deals}')),
     accounts AS (SELECT * FROM read_csv('{accounts}'))
SELECT
    count(*) FILTER (WHERE d.owner_id IS NULL) AS a_missing_owner,
    count(*) - count(DISTINCT d.deal_id) AS b_duplicate_deal_id,
    count(*) FILTER (WHERE a.account_id IS NULL) AS c_orphan_deals,
    count(*) FILTER (WHERE d.stage IN ({open_stages}) AND d.close_date < {day})
        AS d_open_past_close,
    count(*) FILTER (
        WHERE d.stage IN ({open_stages}) AND d.last_activity_at < {day} - INTERVAL 14 DAY
    ) AS e_open_stale,
    count(*) FILTER (WHERE d.stage = 'Closed Won' AND (d.amount IS NULL OR d.amount <= 0))
        AS f_won_bad_amount,
    count(*) FILTER (WHERE d.stage NOT IN ({stages})) AS g_invalid_stage
FROM deals d LEFT JOIN accounts a ON d.account_id = a.account_id
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The seven peer checks as one DuckDB query.")
    ap.add_argument("data", type=Path, help="folder with deals.csv and accounts.csv")
    ap.add_argument("--as-of", default="2025-06-30", help="reference day (default 2025-06-30)")
    args = ap.parse_args(argv)
    sql = query(args.data / "deals.csv", args.data / "accounts.csv", date.fromisoformat(args.as_of))
    con = duckdb.connect()
    cursor = con.execute(sql)
    row = cursor.fetchone()
    names = [d[0] for d in cursor.description]
    print(json.dumps(dict(zip(names, row, strict=True)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
