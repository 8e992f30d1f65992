"""The run history: every `audit`, `metrics` and `report` run with `--history PATH` (or `history:`
in the config) appended to one SQLite file, read back for "what changed since the previous run",
rule D011 and `revops history` / `revops trend`."""

from __future__ import annotations

from revops_cli.history.capture import (
    compare_with_previous,
    run_audit,
    run_record,
)
from revops_cli.history.queries import (
    FindingsPoint,
    MetricPoint,
    PreviousAudit,
    RulePoint,
    StoredRun,
    deal_history,
    findings_series,
    list_runs,
    metric_series,
    previous_audit,
    rule_series,
)
from revops_cli.history.schema import SCHEMA_VERSION, period_kind, whole_months
from revops_cli.history.store import HistoryStore, RunRecord, open_store

__all__ = [
    "SCHEMA_VERSION",
    "FindingsPoint",
    "HistoryStore",
    "MetricPoint",
    "PreviousAudit",
    "RulePoint",
    "RunRecord",
    "StoredRun",
    "compare_with_previous",
    "deal_history",
    "findings_series",
    "list_runs",
    "metric_series",
    "open_store",
    "period_kind",
    "previous_audit",
    "rule_series",
    "run_audit",
    "run_record",
    "whole_months",
]
