"""`revops audit` output: CLI.md's JSON document, CSV, Markdown, the rich table, `--findings`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.load.dataset import Dataset
from revops_cli.report.output import envelope, md_table, safe_cell, to_csv, to_json
from revops_cli.results import AuditReport, Finding, RuleState, Severity

CSV_HEADER = (
    "code",
    "name",
    "severity",
    "table",
    "count",
    "checked",
    "ratio",
    "revenue_at_risk",
    "message",
)
FINDINGS_HEADER = ("code", "severity", "table", "record_id", "detail", "revenue_at_risk")
SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def summary(report: AuditReport, failed: bool) -> dict[str, Any]:
    """The `summary` object: counts by severity, records affected, money counted once per record."""
    by_severity = {s.value: 0 for s in Severity}
    for finding in report.findings:
        by_severity[finding.severity.value] += finding.count
    # sorted, so that the float sum does not depend on the group-by's order
    per_record = (
        report.records.group_by("table", "record_id")
        .agg(pl.col("revenue_at_risk").max())
        .sort("table", "record_id")
    )
    baseline = report.baseline
    return {
        "rules_run": sum(r.status in (RuleState.PASS, RuleState.FAIL) for r in report.rules),
        "findings": sum(f.count for f in report.findings),
        "by_severity": by_severity,
        "records_affected": per_record.height,
        "revenue_at_risk": float(per_record["revenue_at_risk"].sum()),
        "currency": report.currency,
        "failed": failed,
        "baseline": None
        if baseline is None
        else {
            "suppressed": baseline.suppressed,
            "new": baseline.new,
            "resolved": [":".join(f) for f in baseline.resolved],
        },
    }


def _finding_entry(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "table": finding.table,
        "count": finding.count,
        "checked": finding.checked,
        "ratio": finding.ratio,
        "revenue_at_risk": finding.revenue_at_risk,
        "message": finding.message,
        "samples": [{"record_id": s.record_id, "detail": s.detail} for s in finding.samples],
    }


def audit_document(
    report: AuditReport, dataset: Dataset, config_path: Path, as_of: date, failed: bool
) -> dict[str, Any]:
    """The JSON document of CLI.md with the additions of DECISIONS D4."""
    document = envelope("audit", config_path, as_of, dataset)
    document["summary"] = summary(report, failed)
    document["findings"] = [_finding_entry(f) for f in report.findings]
    document["rules"] = [
        {
            "code": r.code,
            "name": r.name,
            "severity": r.severity.value,
            "status": r.status.value,
            "reason": r.reason,
        }
        for r in report.rules
    ]
    return document


def render_audit_json(
    report: AuditReport, dataset: Dataset, config_path: Path, as_of: date, failed: bool
) -> str:
    return to_json(audit_document(report, dataset, config_path, as_of, failed))


def _csv_row(finding: Finding) -> tuple[object, ...]:
    return (
        finding.code,
        finding.name,
        finding.severity.value,
        finding.table,
        finding.count,
        finding.checked,
        finding.ratio,
        finding.revenue_at_risk,
        finding.message,
    )


def render_audit_csv(report: AuditReport) -> str:
    return to_csv(CSV_HEADER, [_csv_row(f) for f in report.findings])


def render_findings_csv(report: AuditReport) -> str:
    """Every flagged record, one per line, spreadsheet-safe (`--findings`)."""
    records = report.records.sort(["code", "table", "record_id"])
    rows = records.select(FINDINGS_HEADER).iter_rows()
    return to_csv(FINDINGS_HEADER, rows)


def summary_line(report: AuditReport, failed: bool) -> str:
    """One line: rules run, findings by severity, records affected, revenue at risk."""
    s = summary(report, failed)
    severities = ", ".join(f"{n} {name}" for name, n in s["by_severity"].items())
    skipped = sum(r.status is RuleState.SKIPPED for r in report.rules)
    errors = sum(r.status is RuleState.ERROR for r in report.rules)
    extra = f", {skipped} skipped" if skipped else ""
    extra += f", {errors} crashed" if errors else ""
    line = (
        f"{s['rules_run']} rules run{extra}: {s['findings']} findings ({severities}) on "
        f"{s['records_affected']} records; revenue at risk {_money(s['revenue_at_risk'])} "
        f"{s['currency']}"
    )
    if report.baseline is not None:
        b = report.baseline
        line += f"; baseline: {b.suppressed} known, {b.new} new, {len(b.resolved)} resolved"
    return line


def render_audit_md(report: AuditReport, failed: bool) -> str:
    rows = [
        (
            f.severity.value,
            f.code,
            f.name,
            f.table,
            f.count,
            f"{f.ratio:.1%}",
            _money(f.revenue_at_risk),
            f.message,
        )
        for f in report.findings
    ]
    header = ("severity", "code", "name", "table", "count", "% checked", "at risk", "message")
    return f"# revops audit\n\n{md_table(header, rows)}\n{summary_line(report, failed)}\n"


def render_audit_table(
    report: AuditReport, failed: bool, samples: int, quiet: bool
) -> RenderableType:
    """The findings table, then the samples of each rule, then the summary line."""
    table = Table(title=None, show_lines=False)
    for title, justify in (
        ("severity", "left"),
        ("code", "left"),
        ("name", "left"),
        ("table", "left"),
        ("count", "right"),
        ("% checked", "right"),
        ("at risk", "right"),
    ):
        table.add_column(title, justify=justify)  # type: ignore[arg-type]
    for f in report.findings:
        table.add_row(
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity]),
            f.code,
            f.name,
            f.table,
            str(f.count),
            f"{f.ratio:.1%}",
            _money(f.revenue_at_risk),
        )
    blocks: list[RenderableType] = [table] if report.findings else []
    if not quiet and samples > 0:
        for f in report.findings:
            blocks.append(Text(f"{f.code} {f.name} ({f.table}): {f.message}", style="bold"))
            for sample in f.samples[:samples]:
                detail = f"  {sample.detail}" if sample.detail else ""
                blocks.append(Text(f"  {sample.record_id}{detail}"))
            if f.count > min(samples, len(f.samples)):
                blocks.append(Text(f"  ... and {f.count - min(samples, len(f.samples))} more"))
    for outcome in report.rules:
        if outcome.status is RuleState.ERROR:
            blocks.append(Text(f"{outcome.code} crashed: {outcome.reason}", style="bold red"))
    blocks.append(Text(summary_line(report, failed), style="bold"))
    return Group(*blocks)


def _money(value: float) -> str:
    return f"{value:,.2f}"


__all__ = [
    "audit_document",
    "render_audit_csv",
    "render_audit_json",
    "render_audit_md",
    "render_audit_table",
    "render_findings_csv",
    "safe_cell",
    "summary_line",
]
