"""`revops audit` output: CLI.md's JSON document, CSV, Markdown, the rich table, `--findings`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.checks.registry import basis_amount
from revops_cli.load.dataset import Dataset
from revops_cli.report.metrics import PLACES, display, fixed
from revops_cli.report.output import envelope, md_table, safe_cell, to_csv, to_json
from revops_cli.results import (
    AuditReport,
    BaselineResult,
    Finding,
    RuleState,
    Sample,
    Severity,
    SincePrevious,
    Unit,
)

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
RATIO_PLACES = 4  # the audit CSV's ratio stays a fraction, as in JSON: 3 of 1,200 is 0.0025
FINDINGS_HEADER = ("code", "severity", "table", "record_id", "detail", "revenue_at_risk")
SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def summary(report: AuditReport, failed: bool) -> dict[str, Any]:
    """The `summary` object: counts by severity, records affected, money counted once per record."""
    by_severity = {s.value: 0 for s in Severity}
    for finding in report.findings:
        by_severity[finding.severity.value] += finding.count
    at_risk = _record_revenue(report.records)
    baseline = report.baseline
    return {
        "rules_run": sum(r.status in (RuleState.PASS, RuleState.FAIL) for r in report.rules),
        "findings": sum(f.count for f in report.findings),
        "by_severity": by_severity,
        "records_affected": len(at_risk),
        # fsum is exact, so the total does not depend on the group-by's order (sorting the
        # records by id for a stable float sum cost 0.6 s per million records)
        "revenue_at_risk": math.fsum(at_risk),
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


def _record_revenue(records: pl.DataFrame) -> list[float]:
    """The largest basis amount of each distinct (table, record_id) among `records`; 0 for a
    record that only rules without a basis flagged (`without_basis`)."""
    # lazy: an eager group-by of one-chunk string keys runs on one core (three times as long)
    per_record = (
        records.lazy()
        .group_by("table", "record_id")
        .agg(basis_amount().max().fill_null(0.0).alias("revenue_at_risk"))
        .collect()
    )
    return per_record["revenue_at_risk"].to_list()


def _finding_entry(
    finding: Finding, since: SincePrevious | None, baseline: BaselineResult | None
) -> dict[str, Any]:
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
        "samples": [_sample(finding, s, since, baseline) for s in finding.samples],
    }


def _sample(
    finding: Finding,
    sample: Sample,
    since: SincePrevious | None,
    baseline: BaselineResult | None,
) -> dict[str, Any]:
    entry = {"record_id": sample.record_id, "detail": sample.detail}
    if since is not None:  # run history: each record marked new or recurring
        entry["since_previous"] = mark(finding, sample.record_id, since)
    if baseline is not None:  # --baseline: each record marked known (listed there) or new
        entry["baseline"] = known(finding.code, finding.table, sample.record_id, baseline)
    return entry


def known(code: str, table: str, record_id: str, baseline: BaselineResult) -> str:
    """`known` when the baseline lists the record for this rule, else `new`."""
    return "known" if (code, table, record_id) in baseline.known else "new"


def mark(finding: Finding, record_id: str, since: SincePrevious) -> str | None:
    """`new` when the previous audit did not flag the record for this rule, `recurring` when it
    did, None when it did not run the rule alike (left out, skipped or crashed)."""
    return since.mark((finding.code, finding.table, record_id))


def since_previous_entry(since: SincePrevious) -> dict[str, Any] | None:
    """{new, resolved, previous_as_of, resolved_records}; None when there is no previous audit."""
    if since.previous_as_of is None:
        return None
    return {
        "new": len(since.new),
        "resolved": len(since.resolved),
        "previous_as_of": since.previous_as_of.isoformat(),
        "resolved_records": [":".join(f) for f in since.resolved],
    }


def audit_document(
    report: AuditReport, dataset: Dataset, config_path: Path | str, as_of: date, failed: bool
) -> dict[str, Any]:
    """The JSON document of CLI.md with the additions of DECISIONS D4."""
    document = envelope("audit", config_path, as_of, dataset)
    document["summary"] = summary(report, failed)
    document["findings"] = [
        _finding_entry(f, report.since_previous, report.baseline) for f in report.findings
    ]
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
    if report.since_previous is not None:
        document["since_previous"] = since_previous_entry(report.since_previous)
    return document


def render_audit_json(
    report: AuditReport, dataset: Dataset, config_path: Path | str, as_of: date, failed: bool
) -> str:
    return to_json(audit_document(report, dataset, config_path, as_of, failed))


def _csv_row(finding: Finding) -> tuple[object, ...]:
    """A finding as a CSV line, its ratio (a fraction, as CLI.md's JSON writes it) to 4 places
    and its money to 2 (D19)."""
    return (
        finding.code,
        finding.name,
        finding.severity.value,
        finding.table,
        finding.count,
        finding.checked,
        fixed(finding.ratio, RATIO_PLACES),
        fixed(finding.revenue_at_risk, PLACES[Unit.CURRENCY]),
        finding.message,
    )


def render_audit_csv(report: AuditReport) -> str:
    return to_csv(CSV_HEADER, [_csv_row(f) for f in report.findings])


def render_findings_csv(report: AuditReport) -> str:
    """Every flagged record, one per line, spreadsheet-safe (`--findings`); with run history a
    column says whether the previous audit flagged it too (`new` or `recurring`; empty when that
    audit did not run the rule alike), and with a baseline one whether the baseline lists it
    (`known` or `new`)."""
    records = report.records.sort(["code", "table", "record_id"])
    places = PLACES[Unit.CURRENCY]
    rows: Iterable[tuple[object, ...]] = (
        (*row[:-1], fixed(row[-1], places)) for row in records.select(FINDINGS_HEADER).iter_rows()
    )
    header: tuple[str, ...] = FINDINGS_HEADER
    since, baseline = report.since_previous, report.baseline
    if since is not None:
        rows = ((*r, since.mark((str(r[0]), str(r[2]), str(r[3]))) or "") for r in rows)
        header = (*header, "since_previous")
    if baseline is not None:
        rows = ((*r, "known" if (r[0], r[2], r[3]) in baseline.known else "new") for r in rows)
        header = (*header, "baseline")
    return to_csv(header, rows)


def counted(n: int, noun: str) -> str:
    """`1 record`, `1,204 records`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def summary_line(report: AuditReport, failed: bool) -> str:
    """One line: rules run, findings by severity, records affected, revenue at risk."""
    s = summary(report, failed)
    severities = ", ".join(f"{n:,} {name}" for name, n in s["by_severity"].items())
    skipped = sum(r.status is RuleState.SKIPPED for r in report.rules)
    errors = sum(r.status is RuleState.ERROR for r in report.rules)
    extra = f", {skipped} skipped" if skipped else ""
    extra += f", {errors} crashed" if errors else ""
    line = (
        f"{counted(s['rules_run'], 'rule')} run{extra}: {counted(s['findings'], 'finding')} "
        f"({severities}) "
        f"on {counted(s['records_affected'], 'record')}; revenue at risk "
        f"{_money(s['revenue_at_risk'])} {s['currency']}"
    )
    if report.baseline is not None:
        b = report.baseline
        line += f"; baseline: {b.suppressed} known, {b.new} new, {len(b.resolved)} resolved"
    since = report.since_previous
    if since is not None and since.previous_as_of is None:
        line += f"; first run in the history: +{len(since.new)} new"
    elif since is not None:
        line += (
            f"; since the previous run (as of {since.previous_as_of}): "
            f"+{len(since.new)} new, -{len(since.resolved)} resolved"
        )
    return line


def render_audit_md(report: AuditReport, failed: bool) -> str:
    rows = [
        (
            f.severity.value,
            f.code,
            f.name,
            f.table,
            f.count,
            _percent(f.ratio),
            _money(f.revenue_at_risk),
            f.message,
        )
        for f in report.findings
    ]
    header = ("severity", "code", "name", "table", "count", "% checked", "at risk", "message")
    return f"# revops audit\n\n{md_table(header, rows)}\n{summary_line(report, failed)}\n"


def render_audit_table(
    report: AuditReport, failed: bool, samples: int, failing: Sequence[Finding] | None = None
) -> RenderableType:
    """The findings table, then the samples of each rule, then the summary line; with `failing`
    (`--quiet`, D23), only those findings, no samples, and the whole run's summary line."""
    quiet = failing is not None
    shown = report.findings if failing is None else failing
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
    for f in shown:
        # Text cells: a plain string would be parsed for markup and emoji codes
        ratio, money = _percent(f.ratio), _money(f.revenue_at_risk)
        cells = (f.code, f.name, f.table, str(f.count), ratio, money)
        table.add_row(
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity]), *(Text(c) for c in cells)
        )
    blocks: list[RenderableType] = [table] if shown else []
    if not quiet and samples > 0:
        # one Text for all samples: rendering a Text per line cost a tenth of a second
        lines = Text()
        for f in report.findings:
            lines.append(f"{f.code} {f.name} ({f.table}): {f.message}\n", style="bold")
            for sample in f.samples[:samples]:
                detail = f"  {sample.detail}" if sample.detail else ""
                since, baseline = report.since_previous, report.baseline
                new = since is not None and mark(f, sample.record_id, since) == "new"
                listed = (
                    baseline is not None and (f.code, f.table, sample.record_id) in baseline.known
                )
                marks = ("  [new]" if new else "") + ("  [known]" if listed else "")
                lines.append(f"  {sample.record_id}{detail}{marks}\n")
            if f.count > min(samples, len(f.samples)):
                lines.append(f"  ... and {f.count - min(samples, len(f.samples))} more\n")
        if lines:
            lines.rstrip()
            blocks.append(lines)
    for outcome in report.rules:
        if outcome.status is RuleState.ERROR:
            blocks.append(Text(f"{outcome.code} crashed: {outcome.reason}", style="bold red"))
    blocks.append(Text(summary_line(report, failed), style="bold"))
    return Group(*blocks)


def _money(value: float) -> str:
    """1,234.57: two places, half away from zero (D19)."""
    return f"{fixed(value, PLACES[Unit.CURRENCY]):,.2f}" if math.isfinite(value) else str(value)


def _percent(ratio: float) -> str:
    """12.30 %: a fraction as a percentage with two places (D19)."""
    return display(ratio, Unit.FRACTION, "")


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
