"""The run history: one SQLite file (standard library sqlite3, no server) that every run appends to.

Safe under cron: the file is in WAL mode with a busy timeout, so that two runs at once wait for each
other instead of failing; each run is written in one `BEGIN IMMEDIATE ... COMMIT` transaction, so
that a crash or a kill leaves the store as it was before the run. A store written by a newer revops
(a higher schema version) is refused, never modified.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType

import polars as pl

from revops_cli import __version__
from revops_cli.errors import RevopsError
from revops_cli.history.schema import SCHEMA_VERSION, migrate, period_kind, schema_version
from revops_cli.results import AuditReport, MetricsReport

BUSY_TIMEOUT_SECONDS = 60.0
OPEN_DEAL_COLUMNS = ("deal_id", "close_date", "stage", "amount")


@dataclass(frozen=True)
class RunRecord:
    """One run as it is stored: when, on what, with which outcome, and what it found."""

    recorded_at: datetime
    command: str  # audit | metrics | report
    as_of: date
    tool_version: str
    config_path: str
    config_hash: str
    exit_code: int
    audit: AuditReport | None = None
    metrics: MetricsReport | None = None
    open_deals: pl.DataFrame | None = None  # OPEN_DEAL_COLUMNS, one row per open deal


def timestamp(moment: datetime) -> str:
    """A run time as stored: UTC, ISO 8601 to the second (text that sorts by time)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class HistoryStore:
    """An open run history; use it as a context manager, or call `close`."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.connection = connection

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """sqlite3's errors as one-line RevopsErrors naming the file."""
        with sqlite_errors(self.path):
            yield

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole (also on a signal)."""
        with self.errors():
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def record(self, run: RunRecord, keep_days: int | None = None) -> int:
        """Append `run`; with `keep_days`, drop the runs recorded more than that many days
        before it, in the same transaction. Returns the new run's id."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (recorded_at, command, as_of, tool_version, config_path, "
                "config_hash, exit_code, deals_stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    timestamp(run.recorded_at),
                    run.command,
                    run.as_of.isoformat(),
                    run.tool_version,
                    run.config_path,
                    run.config_hash,
                    run.exit_code,
                    run.open_deals is not None,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            if run.audit is not None:
                insert_audit(db, run_id, run.audit)
            if run.metrics is not None:
                insert_metrics(db, run_id, run.metrics)
            if run.open_deals is not None:
                insert_open_deals(db, run_id, run.open_deals)
            if keep_days is not None:
                cutoff = timestamp(run.recorded_at - timedelta(days=keep_days))
                db.execute("DELETE FROM runs WHERE recorded_at < ?", (cutoff,))
        return run_id


def insert_audit(db: sqlite3.Connection, run_id: int, report: AuditReport) -> None:
    """Each selected rule's status, count and money; each flagged record's fingerprint."""
    totals: dict[str, tuple[int, float]] = {}
    for finding in report.findings:
        count, money = totals.get(finding.code, (0, 0.0))
        totals[finding.code] = (count + finding.count, money + finding.revenue_at_risk)
    db.executemany(
        "INSERT INTO rule_results (run_id, code, name, severity, status, reason, count, "
        "revenue_at_risk) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id,
                r.code,
                r.name,
                r.severity.value,
                r.status.value,
                r.reason,
                *totals.get(r.code, (0, 0.0)),
            )
            for r in report.rules
        ],
    )
    columns = ("code", "table", "record_id", "severity", "detail", "revenue_at_risk")
    db.executemany(
        "INSERT INTO flagged_records (run_id, code, table_name, record_id, severity, detail, "
        "revenue_at_risk) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(run_id, *row) for row in report.records.select(columns).iter_rows()],
    )


def insert_metrics(db: sqlite3.Connection, run_id: int, report: MetricsReport) -> None:
    """Each metric of the run's period: a number in `value`, a list or map in `value_json`."""
    period = report.period
    kind = period_kind(period.start, period.end)
    rows = []
    for metric in report.metrics:
        value = metric.current.value
        number = float(value) if isinstance(value, int | float) else None
        encoded = json.dumps(value, default=str) if isinstance(value, list | dict) else None
        rows.append(
            (
                run_id,
                metric.key,
                period.label,
                period.start.isoformat(),
                period.end.isoformat(),
                int(report.partial),
                kind,
                metric.unit.value,
                metric.current.status,
                metric.current.reason,
                number,
                encoded,
            )
        )
    db.executemany(
        "INSERT INTO metric_values (run_id, key, period_label, period_start, period_end, partial, "
        "period_kind, unit, status, reason, value, value_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def insert_open_deals(db: sqlite3.Connection, run_id: int, deals: pl.DataFrame) -> None:
    rows = deals.select(
        pl.col("deal_id").cast(pl.String),
        pl.col("close_date").cast(pl.String),
        pl.col("stage").cast(pl.String),
        pl.col("amount").cast(pl.Float64),
    ).iter_rows()
    db.executemany(
        "INSERT INTO open_deals (run_id, deal_id, close_date, stage, amount) "
        "VALUES (?, ?, ?, ?, ?)",
        [(run_id, *row) for row in rows],
    )


def open_store(path: Path, create: bool = True) -> HistoryStore:
    """The run history at `path` (created when missing, if `create`), migrated to the current
    schema version; RevopsError (exit 2) for a store of a newer version or a file that is not
    one."""
    if path.is_dir():
        raise RevopsError(f"{path}: is a folder, not a run history file", "name a file in it")
    if not path.exists():
        if not create:
            raise RevopsError(
                f"{path}: no run history here",
                "run `revops audit --history PATH` first, or check the path",
            )
        if not path.parent.is_dir():
            raise RevopsError(
                f"{path}: the folder {path.parent} does not exist",
                "create it or choose another history path",
            )
    with sqlite_errors(path):
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    store = HistoryStore(path, connection)
    try:
        with store.errors():
            _prepare(store, create)
    except BaseException:
        store.close()
        raise
    return store


def _prepare(store: HistoryStore, create: bool) -> None:
    db = store.connection
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    version, objects = _snapshot(db)
    _refuse_newer(store.path, version)
    # no revops schema yet: a new file, or someone else's database, never written into
    if version == 0 and (objects > 0 or not create):
        raise RevopsError(
            f"{store.path}: is not a revops run history",
            "point --history at a new file, or at one that revops audit wrote",
        )
    db.execute("PRAGMA foreign_keys = ON")
    _use_wal(db)
    if schema_version(db) < SCHEMA_VERSION:
        with store.transaction():
            # re-read under the write lock: another run may have migrated the file meanwhile
            _refuse_newer(store.path, schema_version(db))
            migrate(db)
    if create:
        _probe_write(db)


def _probe_write(db: sqlite3.Connection) -> None:
    """Write the schema version over itself and roll it back: a store the run could not write
    at its end (a read-only file or mount) stops the run before it starts, not after its
    report was printed. Taking the write lock alone succeeds on a read-only file."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"PRAGMA user_version = {schema_version(db)}")
    finally:
        db.execute("ROLLBACK")


def _snapshot(db: sqlite3.Connection) -> tuple[int, int]:
    """The schema version and the number of schema objects, read in one transaction: read one
    after the other, another run's migration could land between them, and its new file would
    look like someone else's database (version 0 with tables)."""
    db.execute("BEGIN")
    try:
        version = schema_version(db)
        objects = int(db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    finally:
        db.execute("COMMIT")
    return version, objects


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode. Switching needs the file to itself, and SQLite answers 'locked'
    at once, without its busy wait, when another run opens the new file at the same moment
    (about one time in twenty): the switch is tried again until that run has made it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _refuse_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise RevopsError(
            f"{path}: run history has schema version {version}, newer than this revops "
            f"{__version__} knows ({SCHEMA_VERSION})",
            "upgrade revops, or pass --history a new file",
        )


@contextmanager
def sqlite_errors(path: Path) -> Iterator[None]:
    """sqlite3's exceptions as RevopsErrors that name the file and the fix."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise RevopsError(
                f"{path}: the run history stayed locked by another run for "
                f"{BUSY_TIMEOUT_SECONDS:.0f} s",
                "try again when the other run has finished",
            ) from None
        raise RevopsError(
            f"{path}: cannot use the run history: {text}", "check the path and its permissions"
        ) from None
    except sqlite3.IntegrityError:
        raise  # a row revops built breaks the schema: a bug (exit 3), not a foreign file
    except sqlite3.DatabaseError as exc:
        raise RevopsError(
            f"{path}: is not a revops run history ({exc})",
            "pass --history a new file, or restore this one from a backup",
        ) from None
    except (ValueError, TypeError) as exc:  # a stored date or JSON that does not parse
        raise RevopsError(
            f"{path}: the run history holds a value revops cannot read ({exc})",
            "pass --history a new file, or restore this one from a backup",
        ) from None


__all__ = ["HistoryStore", "RunRecord", "open_store", "timestamp"]
