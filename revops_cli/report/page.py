"""What `revops report` shows, as plain displayed data that the HTML and Markdown renderers share.

Every number comes from the audit and metrics results (and the month-end MRR series); nothing here
computes a metric. Values are formatted once, with the metrics renderer's rounding (D19).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from revops_cli.history import (
    HistoryStore,
    findings_series,
    metric_series,
    period_kind,
    whole_months,
)
from revops_cli.load.dataset import Dataset
from revops_cli.metrics.series import MrrSeries
from revops_cli.report.audit import counted, summary, summary_line
from revops_cli.report.chart_data import ChartData
from revops_cli.report.metrics import (
    SYMBOLS,
    WATERFALL,
    display,
    display_change,
    family_rows,
    header_line,
)
from revops_cli.report.quality import (
    RecordToFix,
    TableGrade,
    findings_by_family,
    risk_by_rule,
    table_grades,
    top_records,
)
from revops_cli.results import (
    AuditReport,
    MetricsReport,
    MetricValue,
    RuleState,
    Severity,
    Unit,
)

KPIS = (
    ("arr", "ARR"),
    ("net_new_mrr", "Net new MRR"),
    ("nrr", "NRR"),
    ("grr", "GRR"),
    ("customer_churn_rate", "Customer churn"),
    ("win_rate", "Win rate"),
    ("sales_cycle_days", "Sales cycle"),
    ("pipeline_velocity", "Pipeline velocity"),
    ("cac", "CAC"),
    ("ltv_to_cac", "LTV:CAC"),
    ("forecast_accuracy", "Forecast accuracy"),
)
LOWER_IS_BETTER = {"customer_churn_rate", "sales_cycle_days", "cac"}


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    previous: str
    change: str
    tone: str  # good | bad | flat | "" (nothing to compare)
    note: str = ""


@dataclass(frozen=True)
class Source:
    table: str
    path: str
    rows: int
    loaded: bool = True  # False: an empty file (S006) or a key header missing (S001)


@dataclass(frozen=True)
class MetricRow:
    label: str
    value: str
    previous: str
    change: str


@dataclass(frozen=True)
class Family:
    name: str
    rows: tuple[MetricRow, ...]


@dataclass(frozen=True)
class Page:
    """Everything the report shows, already formatted."""

    title: str
    config: str
    period: str  # "2026-Q3 → 2026-07-01..2026-09-30, as of ...; compared with ..."
    as_of: str
    currency: str
    sources: tuple[Source, ...]
    kpis: tuple[Kpi, ...]
    audit_line: str
    crashed: tuple[str, ...]
    charts: tuple[ChartData, ...]
    grades: tuple[TableGrade, ...]
    records: tuple[RecordToFix, ...]
    families: tuple[Family, ...]
    not_computed: tuple[tuple[str, str, str], ...]  # key, status, reason


def build_page(
    config_path: Path,
    dataset: Dataset,
    audit: AuditReport,
    metrics: MetricsReport,
    series: MrrSeries,
) -> Page:
    """The report's content from the results of one audit and one metrics run."""
    currency = metrics.currency
    found = {m.key: m for m in metrics.metrics}
    sources = tuple(
        Source(name, str(load.path), load.rows, load.loaded) for name, load in dataset.loads.items()
    )
    crashed = tuple(
        f"{r.code} {r.name}: {r.reason}" for r in audit.rules if r.status is RuleState.ERROR
    )
    return Page(
        title=f"RevOps report {metrics.period.label}",
        config=config_path.name,
        period=header_line(metrics),
        as_of=metrics.as_of.isoformat(),
        currency=currency,
        sources=sources,
        kpis=(*(_kpi(found[key], label, currency) for key, label in KPIS), *_audit_kpis(audit)),
        audit_line=summary_line(audit, False),
        crashed=crashed,
        charts=(
            _waterfall(found, currency),
            _trend(series, currency),
            _funnel(found["stage_conversion"]),
            _owners(metrics, dataset, currency),
            findings_by_family(audit),
            risk_by_rule(audit, currency),
        ),
        grades=table_grades(audit, dataset),
        records=top_records(audit, dataset),
        families=_families(metrics),
        not_computed=tuple(
            (m.key, m.current.status, m.current.reason or "")
            for m in metrics.metrics
            if m.current.status != "ok"
        ),
    )


# --- run history ---------------------------------------------------------------------------------

TREND_POINTS = 24  # the latest runs or periods a trend chart shows, the current one included
TREND_METRIC = ("arr", "ARR")


def history_charts(
    page: Page, store: HistoryStore, audit: AuditReport, metrics: MetricsReport
) -> Page:
    """The page with two charts from the run history, the current run as the last point: the
    findings of each audit by severity (records flagged by a rule), and ARR of each stored
    period of this period's kind (month, quarter; other periods of the same length) as the
    latest run that computed it stored it."""
    return replace(
        page,
        charts=(
            *page.charts,
            _findings_trend(store, audit),
            _metric_trend(store, metrics, page.currency),
        ),
    )


def _findings_trend(store: HistoryStore, audit: AuditReport) -> ChartData:
    points = findings_series(store, TREND_POINTS - 1, audit.as_of)
    current = summary(audit, False)["by_severity"]
    labels = (*(p.as_of.isoformat() for p in points), audit.as_of.isoformat())
    counts = {
        s.value: (*(float(p.by_severity[s.value]) for p in points), float(current[s.value]))
        for s in Severity
    }
    return ChartData(
        "findings_trend",
        f"Findings over the last {len(labels)} audits"
        if len(labels) > 1
        else "Findings in this audit",
        labels,
        dict(counts),
        {
            name: tuple(display(v, Unit.COUNT, "") for v in values)
            for name, values in counts.items()
        },
    )


def _span(start: date, end: date) -> tuple[str, int]:
    """How long a period is: in calendar months when it is whole months (a half is 6, whatever
    its days), else in days."""
    months = whole_months(start, end)
    return ("months", months) if months is not None else ("days", (end - start).days)


def _metric_trend(store: HistoryStore, metrics: MetricsReport, currency: str) -> ChartData:
    key, label = TREND_METRIC
    period = metrics.period
    kind = period_kind(period.start, period.end)
    title = f"{label} by {'period' if kind == 'other' else kind}, from the run history"
    stored = metric_series(store, key, kind)
    if kind == "other":  # ranges, halves and years: only those as long as this one compare
        length = _span(period.start, period.end)
        stored = [p for p in stored if _span(p.start, p.end) == length]
    # the periods up to this one: a report for an earlier period shows no later one
    by_start = {p.start: (p.period, _number(p.value)) for p in stored if p.start <= period.start}
    current = next(m for m in metrics.metrics if m.key == key).current
    by_start[period.start] = (period.label, _number(current.value))
    shown = [by_start[start] for start in sorted(by_start)][-TREND_POINTS:]
    if all(value is None for _, value in shown):
        return ChartData("metric_trend", title, note=f"{key}: no value stored or computed")
    values = tuple(value for _, value in shown)
    return ChartData(
        "metric_trend",
        title,
        tuple(name for name, _ in shown),
        {label: values},
        {label: tuple(display(v, Unit.CURRENCY, currency) for v in values)},
    )


# --- headline figures ----------------------------------------------------------------------------


def _kpi(metric: MetricValue, label: str, currency: str) -> Kpi:
    value, previous = metric.current.value, metric.previous_value
    change = display_change(value, previous, metric.unit)
    delta = metric.delta
    tone = ""
    if change:
        flat = change.lstrip("+-").startswith("0.00 ")
        better = (delta or 0.0) > 0 if metric.key not in LOWER_IS_BETTER else (delta or 0.0) < 0
        tone = "flat" if flat else "good" if better else "bad"
    note = "" if metric.current.status == "ok" else metric.current.reason or metric.current.status
    return Kpi(
        label,
        display(value, metric.unit, currency),
        display(previous, metric.unit, currency),
        change,
        tone,
        note,
    )


def _audit_kpis(audit: AuditReport) -> tuple[Kpi, Kpi]:
    """The audit checks the data as of A: there is no previous period to compare with."""
    totals = summary(audit, False)
    severities = ", ".join(f"{n:,} {name}" for name, n in totals["by_severity"].items())
    at_risk = display(totals["revenue_at_risk"], Unit.CURRENCY, audit.currency)
    note = f"data as of {audit.as_of}"
    return (
        Kpi("Data-quality findings", f"{totals['findings']:,}", "", "", "", severities),
        Kpi(
            "Revenue at risk",
            at_risk,
            "",
            "",
            "",
            f"{counted(totals['records_affected'], 'record')}; {note}",
        ),
    )


def _families(metrics: MetricsReport) -> tuple[Family, ...]:
    """Every computed metric (one row per element of list and map metrics), by family."""
    return tuple(
        Family(name, tuple(MetricRow(*row) for row in rows))
        for name, rows in family_rows(metrics).items()
    )


# --- chart data ----------------------------------------------------------------------------------


def _waterfall(found: dict[str, MetricValue], currency: str) -> ChartData:
    """Opening MRR, the movements of the period (decreases negative), closing MRR."""
    title = "MRR movements of the period"
    labels, amounts = [], []
    for label, key, sign in WATERFALL:
        value = found[key].current.value
        if not isinstance(value, int | float):
            return ChartData("waterfall", title, note=f"{key}: {found[key].current.reason}")
        labels.append(label)
        amounts.append(float(value) * sign)
    shown = tuple(display(v, Unit.CURRENCY, currency) for v in amounts)
    return ChartData("waterfall", title, tuple(labels), {"MRR": tuple(amounts)}, {"MRR": shown})


def _trend(series: MrrSeries, currency: str) -> ChartData:
    points = series.points
    title = f"MRR and customers, last {len(points) or 12} months"
    if not points:
        return ChartData("trend", title, note=series.reason or "no months")
    return ChartData(
        "trend",
        title,
        tuple(p.day.isoformat() for p in points),
        {
            "MRR": tuple(p.mrr for p in points),
            "customers": tuple(float(p.customers) for p in points),
        },
        {
            "MRR": tuple(display(p.mrr, Unit.CURRENCY, currency) for p in points),
            "customers": tuple(display(p.customers, Unit.COUNT, currency) for p in points),
        },
    )


def _funnel(metric: MetricValue) -> ChartData:
    """Deals that reached each stage of `sales.stages`, then won; the rate from the stage before."""
    title = "Stage-to-stage funnel"
    rows = metric.current.value
    if not isinstance(rows, list) or not rows:
        return ChartData(
            "funnel", title, note=f"stage_conversion: {metric.current.reason or 'no stage'}"
        )
    stages = (rows[0]["from_stage"], *(r["to_stage"] for r in rows))
    reached = (float(rows[0]["reached_from"]), *(float(r["reached_to"]) for r in rows))
    rates: tuple[float | None, ...] = (None, *(r["rate"] for r in rows))
    return ChartData(
        "funnel",
        title,
        tuple(str(s) for s in stages),
        {"deals": reached, "conversion": rates},
        {
            "deals": tuple(display(n, Unit.COUNT, "") for n in reached),
            "conversion": tuple("" if r is None else display(r, Unit.FRACTION, "") for r in rates),
        },
    )


def _owners(metrics: MetricsReport, dataset: Dataset, currency: str) -> ChartData:
    """Bookings and win rate of each owner (the `--by owner` breakdown), largest bookings first."""
    title = "Bookings and win rate by owner"
    if metrics.breakdown_by != "owner" or not metrics.breakdown:
        return ChartData("owners", title, note="no owner_id on deals or leads")
    names = owner_names(dataset)
    rows = []
    for row in metrics.breakdown:
        values = {m.key: m.current.value for m in row.metrics}
        bookings, win_rate = values.get("bookings"), values.get("win_rate")
        if not bookings and win_rate is None:
            continue
        label = "(no owner)" if row.key is None else names.get(row.key) or row.key
        rows.append((label, _number(bookings), _number(win_rate)))
    if not rows:
        return ChartData("owners", title, note="no deal closed in the period")
    rows.sort(key=lambda r: (-(r[1] or 0.0), r[0]))
    return ChartData(
        "owners",
        title,
        tuple(r[0] for r in rows),
        {"bookings": tuple(r[1] for r in rows), "win rate": tuple(r[2] for r in rows)},
        {
            "bookings": tuple(display(r[1], Unit.CURRENCY, currency) for r in rows),
            "win rate": tuple(display(r[2], Unit.FRACTION, currency) for r in rows),
        },
    )


def owner_names(dataset: Dataset) -> dict[str, str]:
    """owner_id -> "name (id)" when the owners table has names."""
    owners = dataset.table("owners")
    if owners is None or "name" not in owners.columns or "owner_id" not in owners.columns:
        return {}
    return {
        key: f"{name} ({key})"
        for key, name in owners.select("owner_id", "name").iter_rows()
        if key is not None and name
    }


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def currency_symbol(currency: str) -> str:
    return SYMBOLS.get(currency, currency + " ")
