"""What the run history answers: the runs, the previous audit, the deals' close dates over the runs,
and the series of a rule or a metric. Plain records out; no rendering here."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Concatenate, ParamSpec, TypeVar

import polars as pl

from revops_cli.checks.registry import without_basis
from revops_cli.history.store import HistoryStore
from revops_cli.results import Fingerprint, MetricData, Severity, coverage


@dataclass(frozen=True)
class StoredRun:
    """One line of `revops history`; the audit and metrics fields are None when the run had none."""

    run_id: int
    recorded_at: str
    command: str
    as_of: date
    tool_version: str
    config_hash: str
    exit_code: int
    findings: int | None
    records_affected: int | None
    revenue_at_risk: float | None
    period: str | None


@dataclass(frozen=True)
class PreviousAudit:
    """The latest audit in the store (by `audit` or `report`) and the records it flagged."""

    run_id: int
    as_of: date
    fingerprints: frozenset[Fingerprint]
    coverage: dict[str, frozenset[str]]  # the rules it ran, with their skipped tables


@dataclass(frozen=True)
class FindingsPoint:
    """Flagged records of one stored audit by severity (the report's findings trend)."""

    run_id: int
    as_of: date
    by_severity: dict[str, int]


@dataclass(frozen=True)
class MetricPoint:
    """A metric's value for one period, as the latest run that computed that period stored it."""

    period: str
    start: date
    end: date
    value: MetricData
    unit: str
    status: str
    reason: str | None
    partial: bool
    as_of: date
    run_id: int


@dataclass(frozen=True)
class RulePoint:
    """One rule in one stored audit; `count` and money are None when the rule did not run."""

    run_id: int
    as_of: date
    recorded_at: str
    status: str
    count: int | None
    revenue_at_risk: float | None


P = ParamSpec("P")
R = TypeVar("R")


def _read(
    query: Callable[Concatenate[HistoryStore, P], R],
) -> Callable[Concatenate[HistoryStore, P], R]:
    """`query` with the store's errors named as such, the reading of stored values included: a
    run history edited by hand can hold a date or JSON that does not parse (exit 2, not 3)."""

    @functools.wraps(query)
    def read(store: HistoryStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with store.errors():
            return query(store, *args, **kwargs)

    return read


@_read
def list_runs(store: HistoryStore, limit: int | None = None) -> list[StoredRun]:
    """The latest `limit` runs (all without a limit), newest first; the money of each audit run
    is its summary's (each record once, at its largest basis amount: `without_basis`)."""
    no_basis = sorted(without_basis())
    with store.errors():
        rows = store.connection.execute(
            f"""
            SELECT r.run_id, r.recorded_at, r.command, r.as_of, r.tool_version, r.config_hash,
                   r.exit_code,
                   (SELECT SUM(count) FROM rule_results WHERE run_id = r.run_id),
                   (SELECT COUNT(*) FROM (SELECT DISTINCT table_name, record_id
                       FROM flagged_records WHERE run_id = r.run_id)),
                   (SELECT SUM(money) FROM (SELECT COALESCE(MAX(CASE WHEN code IN
                       ({", ".join("?" * len(no_basis))}) THEN NULL ELSE revenue_at_risk END), 0)
                       AS money FROM flagged_records WHERE run_id = r.run_id
                       GROUP BY table_name, record_id)),
                   (SELECT MIN(period_label) FROM metric_values WHERE run_id = r.run_id),
                   EXISTS (SELECT 1 FROM rule_results WHERE run_id = r.run_id)
            FROM runs AS r ORDER BY r.run_id DESC LIMIT ?
            """,
            (*no_basis, -1 if limit is None else limit),
        ).fetchall()
    return [_stored_run(*row) for row in rows]


def _stored_run(
    run_id: int,
    recorded_at: str,
    command: str,
    as_of: str,
    version: str,
    config_hash: str,
    exit_code: int,
    findings: int | None,
    records: int,
    money: float | None,
    period: str | None,
    audited: int,
) -> StoredRun:
    return StoredRun(
        run_id,
        recorded_at,
        command,
        date.fromisoformat(as_of),
        version,
        config_hash,
        exit_code,
        int(findings or 0) if audited else None,
        int(records) if audited else None,
        float(money or 0.0) if audited else None,
        period,
    )


@_read
def previous_audit(store: HistoryStore, as_of: date) -> PreviousAudit | None:
    """The audit before a run of `as_of`: the latest stored with an as-of day up to it (by
    as_of, then run id, as D011 and `trend` order runs), whatever its config; None when there
    is none. A back-filled run is so compared with the day before it, not with a later one."""
    with store.errors():
        db = store.connection
        latest = db.execute(
            "SELECT run_id, as_of FROM runs WHERE run_id IN (SELECT run_id FROM rule_results) "
            "AND as_of <= ? ORDER BY as_of DESC, run_id DESC LIMIT 1",
            (as_of.isoformat(),),
        ).fetchone()
        if latest is None:
            return None
        rows = db.execute(
            "SELECT DISTINCT code, table_name, record_id FROM flagged_records WHERE run_id = ?",
            (latest[0],),
        ).fetchall()
        outcomes = db.execute(
            "SELECT code, status, reason FROM rule_results WHERE run_id = ?", (latest[0],)
        ).fetchall()
    return PreviousAudit(
        latest[0], date.fromisoformat(latest[1]), frozenset(map(tuple, rows)), coverage(outcomes)
    )


@_read
def deal_history(store: HistoryStore, as_of: date) -> pl.DataFrame:
    """The open deals' close dates stored by the runs up to `as_of`, for rule D011: columns
    point, deal_id and close_date. `point` places each run that stored its deals up to `as_of`
    in (as_of, run id) order, counting back from the run being made (0): -1 is the latest, -2
    the one before it. A deal is in two consecutive runs only when their points differ by one:
    a run in which it was closed (every deal closed included) breaks its chain. A run without
    a deals table (another config) takes no place."""
    with store.errors():
        rows = store.connection.execute(
            """
            WITH ranked AS (
                SELECT run_id, -ROW_NUMBER() OVER (ORDER BY as_of DESC, run_id DESC) AS point
                FROM runs WHERE as_of <= ? AND deals_stored = 1
            )
            SELECT r.point, d.deal_id, d.close_date
            FROM open_deals AS d JOIN ranked AS r USING (run_id) ORDER BY 1
            """,
            (as_of.isoformat(),),
        ).fetchall()
    frame = pl.DataFrame(
        rows,
        schema={"point": pl.Int64, "deal_id": pl.String, "close_date": pl.String},
        orient="row",
    )
    return frame.with_columns(pl.col("close_date").str.to_date(strict=False))


@_read
def findings_series(store: HistoryStore, limit: int, as_of: date) -> list[FindingsPoint]:
    """Flagged records by severity in each of the latest `limit` audits up to `as_of`, in
    (as_of, run id) order as `trend` has them: a back-filled run takes its day's place, and a
    report for an earlier day shows no later audit."""
    with store.errors():
        runs = store.connection.execute(
            "SELECT run_id, as_of FROM runs WHERE run_id IN (SELECT run_id FROM rule_results) "
            "AND as_of <= ? ORDER BY as_of DESC, run_id DESC LIMIT ?",
            (as_of.isoformat(), limit),
        ).fetchall()
        counts = store.connection.execute(
            "SELECT run_id, severity, COUNT(*) FROM flagged_records WHERE run_id >= ? "
            "GROUP BY run_id, severity",
            (min((r[0] for r in runs), default=0),),
        ).fetchall()
    by_run: dict[int, dict[str, int]] = {}
    for run_id, severity, count in counts:
        by_run.setdefault(run_id, {})[severity] = count
    return [
        FindingsPoint(
            run_id,
            date.fromisoformat(as_of),
            {s.value: by_run.get(run_id, {}).get(s.value, 0) for s in Severity},
        )
        for run_id, as_of in reversed(runs)
    ]


@_read
def rule_series(store: HistoryStore, code: str) -> list[RulePoint]:
    """The rule in every stored audit that selected it, in (as_of, run id) order."""
    with store.errors():
        rows = store.connection.execute(
            """
            SELECT r.run_id, r.as_of, r.recorded_at, x.status, x.count, x.revenue_at_risk
            FROM rule_results AS x JOIN runs AS r USING (run_id)
            WHERE x.code = ? ORDER BY r.as_of, r.run_id
            """,
            (code,),
        ).fetchall()
    return [
        RulePoint(
            run_id,
            date.fromisoformat(as_of),
            recorded_at,
            status,
            count if status in ("pass", "fail") else None,
            money if status in ("pass", "fail") else None,
        )
        for run_id, as_of, recorded_at, status, count, money in rows
    ]


@_read
def metric_series(store: HistoryStore, key: str, kind: str) -> list[MetricPoint]:
    """One point per stored period of `kind` (month, quarter, other), oldest period first: the
    value of the latest run (by as_of, then run id) that computed it."""
    with store.errors():
        rows = store.connection.execute(
            """
            SELECT m.period_label, m.period_start, m.period_end, m.value, m.value_json, m.unit,
                   m.status, m.reason, m.partial, r.as_of, r.run_id
            FROM metric_values AS m JOIN runs AS r USING (run_id)
            WHERE m.key = ? AND m.period_kind = ?
            ORDER BY m.period_start, m.period_end, r.as_of, r.run_id
            """,
            (key, kind),
        ).fetchall()
    latest: dict[tuple[str, str], MetricPoint] = {}
    for label, start, end, number, encoded, unit, status, reason, partial, as_of, run_id in rows:
        value: Any = json.loads(encoded) if encoded is not None else number
        latest[(start, end)] = MetricPoint(
            label,
            date.fromisoformat(start),
            date.fromisoformat(end),
            value,
            unit,
            status,
            reason,
            bool(partial),
            date.fromisoformat(as_of),
            run_id,
        )
    return list(latest.values())
