"""The run history's SQLite schema and its forward migrations.

The schema version is SQLite's `PRAGMA user_version`. Migration N takes a store of version N - 1 to
version N; opening a store runs every migration it lacks, in one transaction. Never edit a
migration that has shipped: add the next one.
"""

from __future__ import annotations

import sqlite3
from calendar import monthrange
from collections.abc import Callable
from datetime import date


def _script(connection: sqlite3.Connection, script: str) -> None:
    """Each statement of `script`; not `executescript`, which commits the open transaction."""
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)


def _create_v1(connection: sqlite3.Connection) -> None:
    """Version 1: the runs and what each stored."""
    _script(
        connection,
        """
        CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at TEXT NOT NULL,          -- UTC, ISO 8601: when the run ended
            command TEXT NOT NULL,              -- audit | metrics | report
            as_of TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            config_path TEXT NOT NULL,
            config_hash TEXT NOT NULL,          -- sha256 of the config file's bytes
            exit_code INTEGER NOT NULL
        );
        CREATE TABLE rule_results (
            run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            severity TEXT NOT NULL,
            status TEXT NOT NULL,               -- pass | fail | skipped | error
            reason TEXT,
            count INTEGER NOT NULL,
            revenue_at_risk REAL NOT NULL,
            PRIMARY KEY (run_id, code)
        );
        CREATE TABLE flagged_records (          -- fingerprint: code + table_name + record_id
            run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            table_name TEXT NOT NULL,
            record_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            detail TEXT,
            revenue_at_risk REAL NOT NULL
        );
        CREATE TABLE metric_values (
            run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            period_label TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            partial INTEGER NOT NULL,
            unit TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            value REAL,                         -- a number, or null
            value_json TEXT,                    -- a list or map value, JSON-encoded
            PRIMARY KEY (run_id, key)
        );
        CREATE TABLE open_deals (
            run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            deal_id TEXT NOT NULL,
            close_date TEXT,
            stage TEXT,
            amount REAL
        );
        """,
    )


def _add_period_kind(connection: sqlite3.Connection) -> None:
    """Version 2: each metric row's period kind (for `trend --period-kind`), and the indexes of
    the queries a nightly job makes (previous run, deal series, trends, pruning)."""
    connection.execute(
        "ALTER TABLE metric_values ADD COLUMN period_kind TEXT NOT NULL DEFAULT 'other'"
    )
    rows = connection.execute(
        "SELECT rowid, period_start, period_end FROM metric_values"
    ).fetchall()
    connection.executemany(
        "UPDATE metric_values SET period_kind = ? WHERE rowid = ?",
        [
            (period_kind(date.fromisoformat(start), date.fromisoformat(end)), rowid)
            for rowid, start, end in rows
        ],
    )
    _script(
        connection,
        """
        CREATE INDEX runs_recorded_at ON runs (recorded_at);
        CREATE INDEX flagged_records_run ON flagged_records (run_id, code);
        CREATE INDEX open_deals_run ON open_deals (run_id);
        CREATE INDEX metric_values_key ON metric_values (key, period_kind);
        """,
    )


def _add_deals_stored(connection: sqlite3.Connection) -> None:
    """Version 3: whether a run stored its open deals (`open_deals` holds its rows, none when
    every deal was closed), for D011: a run without a deals table is no link in a deal's chain,
    a run with every deal closed breaks it. Older runs count as storing them when they hold a
    row there (the best that can be told)."""
    _script(
        connection,
        """
        ALTER TABLE runs ADD COLUMN deals_stored INTEGER NOT NULL DEFAULT 0;
        UPDATE runs SET deals_stored = 1 WHERE run_id IN (SELECT run_id FROM open_deals)
        """,
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_v1,
    _add_period_kind,
    _add_deals_stored,
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(connection: sqlite3.Connection) -> int:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    return int(version)


def migrate(connection: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Run the migrations from the store's version up to `target`; the caller holds the write
    transaction, so that a second process waits and then finds nothing left to do."""
    for version in range(schema_version(connection), target):
        MIGRATIONS[version](connection)
        connection.execute(f"PRAGMA user_version = {version + 1}")


def whole_months(start: date, end: date) -> int | None:
    """How many calendar months the period `start..end` spans, None when it is not whole
    months (a range such as 2024-07-10..2024-08-20)."""
    if start.day != 1 or end.day != monthrange(end.year, end.month)[1]:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def period_kind(start: date, end: date) -> str:
    """`month` or `quarter` for a period of whole calendar months, else `other`."""
    return {1: "month", 3: "quarter"}.get(whole_months(start, end) or 0, "other")
