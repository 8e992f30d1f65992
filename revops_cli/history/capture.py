"""From one run's results to what the history stores, and from the previous audit to what is new."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import polars as pl

from revops_cli.checks import Rule, select_and_run
from revops_cli.checks.registry import per_table
from revops_cli.config import Config
from revops_cli.history.queries import PreviousAudit, deal_history, previous_audit
from revops_cli.history.store import OPEN_DEAL_COLUMNS, HistoryStore, RunRecord
from revops_cli.load.dataset import Dataset
from revops_cli.results import AuditReport, Fingerprint, MetricsReport, SincePrevious, comparable
from revops_cli.schema import ROW


def open_deals(dataset: Dataset) -> pl.DataFrame | None:
    """deal_id, close_date, stage and amount of every open deal; None without a deals table.
    A deal without an id is stored under its audit record id, `deals:row N` (CHECKS.md), the
    id D011 matches it by."""
    deals = dataset.table("deals")
    if deals is None or "status" not in deals.columns:  # no status: the stage lacks (S001)
        return None
    columns = {c: pl.col(c) if c in deals.columns else pl.lit(None) for c in OPEN_DEAL_COLUMNS}
    columns["deal_id"] = pl.coalesce(pl.col("deal_id"), pl.format("deals:row {}", pl.col(ROW)))
    return deals.filter(pl.col("status") == "open").select(
        expr.alias(column) for column, expr in columns.items()
    )


def run_record(
    command: str,
    config: Config,
    dataset: Dataset,
    exit_code: int,
    tool_version: str,
    recorded_at: datetime,
    audit: AuditReport | None = None,
    metrics: MetricsReport | None = None,
) -> RunRecord:
    """What the history keeps of one run of `command`."""
    return RunRecord(
        recorded_at=recorded_at,
        command=command,
        as_of=dataset.as_of,
        tool_version=tool_version,
        config_path=str(config.path),
        config_hash=config.digest,  # as the run read it: a pipe cannot be read again
        exit_code=exit_code,
        audit=audit,
        metrics=metrics,
        open_deals=open_deals(dataset),
    )


def fingerprints(report: AuditReport) -> frozenset[Fingerprint]:
    rows = report.records.select("code", "table", "record_id").unique().iter_rows()
    return frozenset((str(c), str(t), str(r)) for c, t, r in rows)


def compare_with_previous(report: AuditReport, previous: PreviousAudit | None) -> AuditReport:
    """The report with `since_previous`: a record is new when the previous audit did not flag
    it and recurring when it did; a record of the previous audit is resolved when this one does
    not flag it. New and resolved count only for the rules that checked the same in both runs
    (`comparable`): a rule left out (--select), skipped or crashed in either, or run with other
    parts skipped, tells neither."""
    now = fingerprints(report)
    if previous is None:
        return replace(report, since_previous=SincePrevious(None, now, ()))
    cover = report.coverage()

    def alike(fingerprint: Fingerprint) -> bool:
        code, table = fingerprint[0], fingerprint[1]
        return comparable(previous.coverage, cover, code, table, per_table(code))

    # S001, S002 and S006 report on each configured table: one dropped from the config is not
    # a skipped part of theirs, and its records were not fixed
    resolved = sorted(
        f for f in previous.fingerprints - now if alike(f) and f[1] in report.configured
    )
    new = frozenset(f for f in now - previous.fingerprints if alike(f))
    since = SincePrevious(previous.as_of, new, tuple(resolved), now & previous.fingerprints)
    return replace(report, since_previous=since)


def run_audit(
    dataset: Dataset,
    store: HistoryStore | None,
    select: Sequence[str] | None,
    ignore: Sequence[str],
    samples: int,
    on_rule: Callable[[Rule], None] | None = None,
) -> AuditReport:
    """The selected rules over `dataset`; with a store, D011 reads the stored close dates and the
    report says what is new and what was resolved since the previous audit."""
    if store is None:
        return select_and_run(dataset, select, ignore, samples, on_rule)
    slips = deal_history(store, dataset.as_of)
    report = select_and_run(dataset, select, ignore, samples, on_rule, slips)
    return compare_with_previous(report, previous_audit(store, dataset.as_of))
