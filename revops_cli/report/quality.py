"""The data-quality part of the report, read from one audit: a grade per table, the records to fix
first with what to do, and the findings by rule family and severity and the money at risk by rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from revops_cli.checks import RULES
from revops_cli.checks.registry import basis_amount
from revops_cli.load.dataset import Dataset
from revops_cli.report.chart_data import ChartData
from revops_cli.report.metrics import display
from revops_cli.report.rules import doc_sections
from revops_cli.results import AuditReport, Finding, Severity, Unit
from revops_cli.schema import TABLES

# Share of a table's records flagged -> grade (issue 8): A < 5 %, B < 15 %, C < 30 %, D < 50 %.
GRADES = ((0.05, "A"), (0.15, "B"), (0.30, "C"), (0.50, "D"))
WORST_RULES = 3
TOP_RECORDS = 15
FAMILIES = {
    "S": "structure and parsing",
    "V": "validity",
    "T": "dates",
    "I": "links between tables",
    "O": "owners",
    "L": "leads",
    "A": "accounts",
    "D": "deals",
    "U": "duplicates",
    "B": "billing",
    "R": "CRM vs billing",
    "F": "forecasts",
}
RANK = {s.value: s.rank for s in Severity}


@dataclass(frozen=True)
class TableGrade:
    table: str
    rows: int
    flagged: int
    share: str
    grade: str
    worst: tuple[str, ...]  # "R001 won-deal-not-billed: 2": worst severity, then most records


@dataclass(frozen=True)
class Issue:
    code: str
    name: str
    detail: str
    fix: str


@dataclass(frozen=True)
class RecordToFix:
    table: str
    record_id: str
    name: str
    severity: str
    at_risk: str
    issues: tuple[Issue, ...]


def grade(share: float) -> str:
    """The letter for the share of a table's records flagged."""
    return next((letter for limit, letter in GRADES if share < limit), "F")


def _record_level(records: pl.DataFrame) -> pl.DataFrame:
    """Flagged records of the table itself: not the `table.column` and `table` ids that the
    structure rules (S001-S003, S006) use for a whole column or file (D28)."""
    whole = pl.col("code").str.starts_with("S") & (
        (pl.col("record_id") == pl.col("table"))
        | pl.col("record_id").str.starts_with(pl.col("table") + ".")
    )
    return records.filter(~whole)


def table_grades(audit: AuditReport, dataset: Dataset) -> tuple[TableGrade, ...]:
    """A grade per configured table by the share of its records that at least one rule
    flagged; a table that did not load (an empty file, S006, or its key header missing, S001)
    has no records to share out, so its finding makes it an F."""
    flagged = dict(
        _record_level(audit.records)
        .group_by("table")
        .agg(pl.col("record_id").n_unique())
        .iter_rows()
    )
    grades = []
    for table, load in dataset.loads.items():
        findings = [f for f in audit.findings if f.table == table]
        count = int(flagged.get(table, 0))
        if load.loaded and load.rows:
            share, shown = count / load.rows, shown_share(count, load.rows)
        else:  # no record to share out: the grade follows the finding, the share is none
            share, shown = float(bool(findings)), "-"
        grades.append(TableGrade(table, load.rows, count, shown, grade(share), _worst(findings)))
    return tuple(grades)


def shown_share(count: int, rows: int) -> str:
    """`count / rows` as a percentage rounded down, so that the 4.998 % of an A never reads as
    the 5.00 % of a B; in integers (0.57 x 10,000 is 5,699.999... in floats)."""
    return display(count * 10_000 // rows / 10_000, Unit.FRACTION, "")


def _worst(findings: list[Finding]) -> tuple[str, ...]:
    per_rule: dict[str, tuple[int, int, str]] = {}
    for f in findings:
        count, rank, name = per_rule.get(f.code, (0, 0, f.name))
        per_rule[f.code] = (count + f.count, max(rank, f.severity.rank), name)
    ranked = sorted(per_rule.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
    return tuple(f"{code} {name}: {n:,}" for code, (n, _, name) in ranked[:WORST_RULES])


def top_records(
    audit: AuditReport, dataset: Dataset, limit: int = TOP_RECORDS
) -> tuple[RecordToFix, ...]:
    """The flagged records with the most revenue at risk, then the worst severity, each with
    every rule that flagged it and that rule's fix. Amounts are compared in cents, as shown:
    32,400.000000000004 (a converted amount) does not outrank an error at 32,400."""
    records = audit.records.with_columns(
        pl.col("severity").replace_strict(RANK, return_dtype=pl.Int64).alias("_rank")
    )
    ranked = (
        records.group_by("table", "record_id")
        .agg(basis_amount().max().fill_null(0.0), pl.col("_rank").max())
        .sort(
            [pl.col("revenue_at_risk").round(2), "_rank", "table", "record_id"],
            descending=[True, True, False, False],
        )
        .head(limit)
    )
    names = _names(dataset, ranked)
    by_record = {
        key: rows.sort(["_rank", "revenue_at_risk", "code"], descending=[True, True, False])
        for key, rows in records.join(
            ranked.select("table", "record_id"), on=["table", "record_id"]
        )
        .partition_by(["table", "record_id"], as_dict=True)
        .items()
    }
    chosen = []
    for table, record_id, at_risk, rank in ranked.iter_rows():
        rows = by_record[(table, record_id)]
        issues = tuple(
            Issue(code, RULES[code].name, detail or "", _fix(code))
            for code, detail in rows.select("code", "detail").unique(maintain_order=True).rows()
        )
        severity = next(s.value for s in Severity if s.rank == rank)
        money = display(at_risk, Unit.CURRENCY, audit.currency)
        chosen.append(
            RecordToFix(
                table, record_id, names.get((table, record_id), ""), severity, money, issues
            )
        )
    return tuple(chosen)


def _fix(code: str) -> str:
    sections = doc_sections(RULES[code])
    return sections.get("fix") or sections["title"]


def _names(dataset: Dataset, ranked: pl.DataFrame) -> dict[tuple[str, str], str]:
    """A readable name for each chosen record whose table has one (deals, accounts, leads...)."""
    names: dict[tuple[str, str], str] = {}
    for table in ranked["table"].unique().to_list():
        frame = dataset.table(table)
        key = TABLES[table].record_id if table in TABLES else None
        if frame is None or key is None or key not in frame.columns:
            continue
        parts = [c for c in ("name", "first_name", "last_name") if c in frame.columns]
        if not parts:
            continue
        wanted = ranked.filter(pl.col("table") == table)["record_id"]
        label = pl.concat_str([pl.col(c) for c in parts], separator=" ", ignore_nulls=True)
        found = frame.filter(pl.col(key).cast(pl.String).is_in(wanted.implode())).select(
            pl.col(key).cast(pl.String), label
        )
        names.update({(table, rid): text for rid, text in found.iter_rows() if text})
    return names


def findings_by_family(audit: AuditReport) -> ChartData:
    """Findings (records flagged by a rule) per rule family, split by severity."""
    title = "Findings by rule family and severity"
    counts: dict[str, dict[str, int]] = {}
    for f in audit.findings:
        row = counts.setdefault(f.code[0], {s.value: 0 for s in Severity})
        row[f.severity.value] += f.count
    if not counts:
        return ChartData("families", title, note="no finding")
    order = [letter for letter in FAMILIES if letter in counts]
    order += sorted(letter for letter in counts if letter not in FAMILIES)
    series = {s.value: tuple(counts[letter][s.value] for letter in order) for s in Severity}
    return ChartData(
        "families",
        title,
        tuple(f"{letter} {FAMILIES.get(letter, '')}".strip() for letter in order),
        {name: tuple(float(n) for n in values) for name, values in series.items()},
        {name: tuple(f"{n:,}" for n in values) for name, values in series.items()},
    )


def risk_by_rule(audit: AuditReport, currency: str) -> ChartData:
    """Revenue at risk of each rule that puts money at risk, largest first."""
    title = "Revenue at risk by rule"
    amounts: dict[str, float] = {}
    for f in audit.findings:
        if f.revenue_at_risk > 0:
            label = f"{f.code} {f.name}"
            amounts[label] = amounts.get(label, 0.0) + f.revenue_at_risk
    if not amounts:
        return ChartData("risk", title, note="no revenue at risk")
    ranked = sorted(amounts.items(), key=lambda item: (-item[1], item[0]))
    return ChartData(
        "risk",
        title,
        tuple(label for label, _ in ranked),
        {"revenue at risk": tuple(v for _, v in ranked)},
        {"revenue at risk": tuple(display(v, Unit.CURRENCY, currency) for _, v in ranked)},
    )
