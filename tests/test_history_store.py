"""The run history store: schema versions and migration, one transaction per run, two writers at
once, a killed run, and pruning. Runs are built by hand here; test_history_cli.py runs the CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import revops_cli.history.store as store_module
from revops_cli.errors import RevopsError
from revops_cli.history import (
    SCHEMA_VERSION,
    RunRecord,
    deal_history,
    list_runs,
    metric_series,
    open_store,
)
from revops_cli.history.schema import migrate, period_kind, schema_version
from revops_cli.history.store import _use_wal
from revops_cli.results import (
    AuditReport,
    Finding,
    MetricResult,
    MetricsReport,
    MetricValue,
    PeriodSpan,
    RuleOutcome,
    RuleState,
    Severity,
    Unit,
)

NOW = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
DEALS = pl.DataFrame(
    {
        "deal_id": ["D1", "D2"],
        "close_date": [date(2026, 10, 31), None],
        "stage": ["Contract Sent", "Qualified"],
        "amount": [1000.0, None],
    }
)


def audit_report(as_of: date, record_ids: list[str]) -> AuditReport:
    """An audit in which D002 flagged `record_ids` (100 at risk each) and D001 passed."""
    records = pl.DataFrame(
        {
            "code": ["D002"] * len(record_ids),
            "severity": ["warning"] * len(record_ids),
            "table": ["deals"] * len(record_ids),
            "record_id": record_ids,
            "detail": ["1 days overdue"] * len(record_ids),
            "revenue_at_risk": [100.0] * len(record_ids),
        },
        schema={c: pl.Float64 if c == "revenue_at_risk" else pl.String for c in FIELDS},
    )
    findings = ()
    if record_ids:
        findings = (
            Finding(
                "D002",
                "past-due-open-deal",
                Severity.WARNING,
                "deals",
                len(record_ids),
                10,
                100.0 * len(record_ids),
                "m",
                (),
            ),
        )
    state = RuleState.FAIL if record_ids else RuleState.PASS
    rules = (
        RuleOutcome("D001", "orphan-deal", Severity.ERROR, RuleState.PASS),
        RuleOutcome("D002", "past-due-open-deal", Severity.WARNING, state),
    )
    return AuditReport(as_of, "USD", rules, findings, records)


FIELDS = ("code", "severity", "table", "record_id", "detail", "revenue_at_risk")


def metrics_report(as_of: date, start: date, end: date, label: str, arr: float) -> MetricsReport:
    arr_value = MetricValue("arr", Unit.CURRENCY, "recurring", MetricResult(arr), None, False)
    stages = MetricValue(
        "stage_conversion",
        Unit.FRACTION,
        "sales",
        MetricResult([{"from_stage": "a", "to_stage": "won", "rate": 0.5}]),
        None,
        False,
    )
    return MetricsReport(
        as_of,
        "USD",
        PeriodSpan(label, start, end),
        end,
        False,
        None,
        "none",
        (arr_value, stages),
    )


def run(
    as_of: date = date(2026, 10, 1),
    recorded_at: datetime = NOW,
    audit: AuditReport | None = None,
    metrics: MetricsReport | None = None,
    deals: pl.DataFrame | None = DEALS,
) -> RunRecord:
    return RunRecord(
        recorded_at, "audit", as_of, "0.1.0", "revops.yaml", "abc", 0, audit, metrics, deals
    )


def run_ids(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT run_id FROM runs ORDER BY run_id")]


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_run_lists_the_money_of_its_audit_summary(tmp_path: Path) -> None:
    # deal d1 (-500) flagged by D001 and by D006, which has no basis amount: the run's money is
    # the summary's -500 (each record once, at its largest basis amount), not D006's 0; d2,
    # flagged by D006 alone, counts 0 but is a record affected
    report = audit_report(date(2026, 10, 1), [])
    records = pl.DataFrame(
        [
            ("D001", "error", "deals", "d1", "no account", -500.0),
            ("D006", "warning", "deals", "d1", "negative", 0.0),
            ("D006", "warning", "deals", "d2", "zero", 0.0),
        ],
        schema={c: pl.Float64 if c == "revenue_at_risk" else pl.String for c in FIELDS},
        orient="row",
    )
    with open_store(tmp_path / "history.sqlite") as store:
        store.record(run(audit=replace(report, records=records)))
        (listed,) = list_runs(store)
    assert (listed.records_affected, listed.revenue_at_risk) == (2, -500.0)


def test_a_new_store_has_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with open_store(path) as store:
        store.record(run(audit=audit_report(date(2026, 10, 1), ["D9"])))
        assert schema_version(store.connection) == SCHEMA_VERSION == 3
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute(
            "SELECT code, status, count, revenue_at_risk FROM rule_results"
        ).fetchall() == [
            ("D001", "pass", 0, 0.0),
            ("D002", "fail", 1, 100.0),
        ]
        assert db.execute(
            "SELECT code, table_name, record_id, detail FROM flagged_records"
        ).fetchall() == [("D002", "deals", "D9", "1 days overdue")]
        assert db.execute(
            "SELECT deal_id, close_date, stage, amount FROM open_deals"
        ).fetchall() == [
            ("D1", "2026-10-31", "Contract Sent", 1000.0),
            ("D2", None, "Qualified", None),
        ]


def test_metric_values_store_numbers_and_json(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    q3 = metrics_report(date(2026, 10, 1), date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", 12.5)
    with open_store(path) as store:
        store.record(run(metrics=q3))
        (arr,) = metric_series(store, "arr", "quarter")
        (stages,) = metric_series(store, "stage_conversion", "quarter")
    assert (arr.period, arr.value, arr.unit, arr.status) == ("2026-Q3", 12.5, "currency", "ok")
    assert stages.value == [{"from_stage": "a", "to_stage": "won", "rate": 0.5}]


def test_migrates_a_version_1_store_forward(tmp_path: Path) -> None:
    """A store written by the previous schema version: its data survives, the new column is
    filled in from the stored dates, and the new indexes exist."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, target=1)
    db.execute(
        "INSERT INTO runs VALUES (1, '2026-07-01T06:00:00+00:00', 'metrics', '2026-07-01', "
        "'0.0.9', 'revops.yaml', 'abc', 0)"
    )
    db.execute(
        "INSERT INTO runs VALUES (2, '2026-07-02T06:00:00+00:00', 'audit', '2026-07-02', "
        "'0.0.9', 'revops.yaml', 'abc', 0)"
    )
    db.execute("INSERT INTO open_deals VALUES (2, 'D1', '2026-08-01', 'Demo', 10.0)")
    for label, start, end, value in (
        ("2026-Q2", "2026-04-01", "2026-06-30", 10.0),
        ("2026-06", "2026-06-01", "2026-06-30", 20.0),
        ("2026-06-10..2026-06-20", "2026-06-10", "2026-06-20", 30.0),
    ):
        db.execute(
            "INSERT INTO metric_values VALUES (1, ?, ?, ?, ?, 0, 'currency', 'ok', NULL, ?, NULL)",
            (f"arr_{label}", label, start, end, value),
        )
    db.close()
    assert schema_version(sqlite3.connect(path)) == 1

    with open_store(path) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION
        kinds = dict(
            store.connection.execute("SELECT period_label, period_kind FROM metric_values")
        )
        indexes = {
            row[0]
            for row in store.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        }
        assert [r.run_id for r in list_runs(store)] == [2, 1]
        # version 3: a run stored its deals when it holds a row of them
        stored = dict(store.connection.execute("SELECT run_id, deals_stored FROM runs"))
        assert stored == {1: 0, 2: 1}
        assert [p.value for p in metric_series(store, "arr_2026-Q2", "quarter")] == [10.0]
    assert kinds == {"2026-Q2": "quarter", "2026-06": "month", "2026-06-10..2026-06-20": "other"}
    assert {"metric_values_key", "open_deals_run", "flagged_records_run"} <= indexes


def test_period_kinds() -> None:
    assert period_kind(date(2026, 10, 1), date(2026, 12, 31)) == "quarter"
    assert period_kind(date(2026, 2, 1), date(2026, 4, 30)) == "quarter"  # a fiscal quarter
    assert period_kind(date(2024, 2, 1), date(2024, 2, 29)) == "month"
    assert period_kind(date(2026, 1, 1), date(2026, 12, 31)) == "other"
    assert period_kind(date(2026, 10, 2), date(2026, 12, 31)) == "other"


def test_a_store_of_a_newer_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.execute("CREATE TABLE runs (x)")
    before = path.read_bytes()
    with pytest.raises(RevopsError) as caught:
        open_store(path)
    assert caught.value.one_line() == (
        f"{path}: run history has schema version 4, newer than this revops 0.1.0 knows (3) "
        "(upgrade revops, or pass --history a new file)"
    )
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just text " * 100)
    with pytest.raises(RevopsError, match="is not a revops run history"):
        open_store(path)
    with pytest.raises(RevopsError, match=r"the folder .* does not exist"):
        open_store(tmp_path / "missing" / "history.sqlite")
    with pytest.raises(RevopsError, match="no run history here"):
        open_store(tmp_path / "absent.sqlite", create=False)


def test_an_exception_between_inserts_leaves_the_store_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite"
    with open_store(path) as store:
        store.record(run(audit=audit_report(date(2026, 9, 30), ["D1"])))

    def fail(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_module, "insert_open_deals", fail)
    with open_store(path) as store, pytest.raises(RuntimeError):
        store.record(run(audit=audit_report(date(2026, 10, 1), ["D1", "D2"])))
    assert run_ids(path) == [1]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM flagged_records").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM open_deals").fetchone() == (2,)


# A child process that appends runs; each run's transaction waits `hold` seconds after inserting
# the open deals (and touches `marker` then, when given), so that runs overlap or can be killed.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    import revops_cli.history.store as store_module
    from revops_cli.history import open_store
    from test_history_store import audit_report, run
    from datetime import date

    path, count, hold = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    marker = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    insert = store_module.insert_open_deals

    def slow(db, run_id, deals):
        insert(db, run_id, deals)
        if marker is not None:
            marker.touch()
        time.sleep(hold)

    store_module.insert_open_deals = slow
    with open_store(path) as store:
        for i in range(count):
            store.record(run(audit=audit_report(date(2026, 10, 1), [f"R{{i}}"])))
    """
).format(tests=str(Path(__file__).parent))


def writer(*args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *(str(a) for a in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_killed_run_leaves_the_store_as_before(tmp_path: Path) -> None:
    path, marker = tmp_path / "history.sqlite", tmp_path / "inside"
    with open_store(path) as store:
        store.record(run(audit=audit_report(date(2026, 9, 30), ["D1"])))
    child = writer(path, 1, 60, marker)
    deadline = time.monotonic() + 30
    while not marker.exists():  # the child is inside its transaction, rows written
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert run_ids(path) == [1]
    assert integrity(path) == "ok"
    with open_store(path) as store:  # the lock died with the process: the next run goes on
        store.record(run())
        assert [r.run_id for r in list_runs(store)] == [2, 1]


def test_two_processes_writing_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"  # created by the two writers at once
    children = [writer(path, 3, 0.2), writer(path, 3, 0.2)]
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
    assert len(run_ids(path)) == 6
    assert integrity(path) == "ok"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM open_deals").fetchone() == (12,)
        assert db.execute("SELECT COUNT(*) FROM flagged_records").fetchone() == (6,)


def test_runs_opening_a_new_store_at_once_never_take_it_for_a_foreign_one(tmp_path: Path) -> None:
    # four connections open each new file at the same moment: one creates the schema while the
    # others check that the file is revops's (version 0 and no table); read apart, those two
    # could straddle the migration (about 1 open in 25 failed with 'is not a revops run history')
    failures: list[str] = []
    for i in range(150):
        path = tmp_path / f"h{i}.sqlite"
        barrier = threading.Barrier(4)

        def open_it(path: Path = path, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                with open_store(path):
                    pass
            except RevopsError as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_keep_prunes_old_runs_in_the_same_transaction(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with open_store(path) as store:
        for days in (40, 31, 29, 1):
            store.record(
                run(recorded_at=NOW - timedelta(days=days), audit=audit_report(NOW.date(), ["D1"]))
            )
        store.record(run(audit=audit_report(NOW.date(), [])), keep_days=30)
        assert [r.run_id for r in list_runs(store)] == [5, 4, 3]
        assert store.connection.execute("SELECT COUNT(*) FROM flagged_records").fetchone() == (2,)
        assert store.connection.execute("SELECT COUNT(*) FROM open_deals").fetchone() == (6,)


def test_deal_history_orders_runs_by_as_of_and_stops_at_the_as_of(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"

    def deals(day: date) -> pl.DataFrame:
        return DEALS.with_columns(pl.lit(day).alias("close_date"))

    with open_store(path) as store:
        store.record(run(as_of=date(2026, 9, 8), deals=deals(date(2026, 10, 8))))
        store.record(run(as_of=date(2026, 9, 1), deals=deals(date(2026, 10, 1))))  # a backfill
        store.record(run(as_of=date(2026, 10, 8), deals=deals(date(2026, 11, 8))))  # too late
        store.record(run(as_of=date(2026, 9, 15), deals=None))  # no deals stored: no place
        store.record(run(as_of=date(2026, 9, 20), deals=DEALS.filter(pl.col("deal_id") != "D1")))
        frame = deal_history(store, date(2026, 10, 1))
    # points count back from the run being made (0): the latest run that stored deals is -1; D1,
    # closed on 09-20 while another deal was open, has a gap there
    assert frame.filter(pl.col("deal_id") == "D1").to_dicts() == [
        {"point": -3, "deal_id": "D1", "close_date": date(2026, 10, 1)},
        {"point": -2, "deal_id": "D1", "close_date": date(2026, 10, 8)},
    ]
    assert frame.height == 5  # D1 and D2 twice, D2 on 09-20


def test_a_run_with_every_deal_closed_breaks_the_chain(tmp_path: Path) -> None:
    # D011: on 09-03 every deal was closed, so the store holds no row of that run; it still
    # takes its place, and D1's runs of 09-02 and 09-04 are not consecutive
    path = tmp_path / "history.sqlite"
    one = DEALS.filter(pl.col("deal_id") == "D1")
    with open_store(path) as store:
        for day in (1, 2, 4):
            store.record(run(as_of=date(2026, 9, day), deals=one))
        store.record(run(as_of=date(2026, 9, 3), deals=one.clear()))  # deals, none open
        store.record(run(as_of=date(2026, 9, 5), deals=None))  # no deals table: no place
        frame = deal_history(store, date(2026, 10, 1))
    assert frame["point"].to_list() == [-4, -3, -1]


class _RacingConnection:
    """A connection whose switch to WAL fails `refusals` times with `error`: 'locked' is what
    SQLite answers at once (no busy wait) when another run opens the same new file."""

    def __init__(self, refusals: int, error: str = "database is locked") -> None:
        self.refusals, self.error = refusals, error
        self.mode = "delete"

    def execute(self, sql: str) -> sqlite3.Cursor:
        if sql == "PRAGMA journal_mode = WAL":
            if self.refusals:
                self.refusals -= 1
                raise sqlite3.OperationalError(self.error)
            self.mode = "wal"
        return sqlite3.connect(":memory:").execute("SELECT ?", (self.mode,))


def test_the_switch_to_wal_is_tried_again_when_another_run_holds_the_new_file() -> None:
    db = _RacingConnection(refusals=3)
    _use_wal(db)  # type: ignore[arg-type]
    assert (db.mode, db.refusals) == ("wal", 0)


def test_another_error_of_the_switch_to_wal_is_not_tried_again() -> None:
    db = _RacingConnection(refusals=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _use_wal(db)  # type: ignore[arg-type]
    assert db.mode == "delete"
