"""`revops metrics` output: the JSON document of CLI.md and D5, CSV, Markdown and the rich table."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.load.dataset import Dataset
from revops_cli.report.output import envelope, md_table, to_csv, to_json
from revops_cli.results import (
    MetricData,
    MetricResult,
    MetricsReport,
    MetricValue,
    PeriodSpan,
    Unit,
    change,
)

CSV_HEADER = ("key", "value", "previous", "delta", "delta_kind", "unit", "status", "reason")
PLACES = {  # DECISIONS D19: display precision per unit
    Unit.CURRENCY: 2,
    Unit.CURRENCY_PER_DAY: 2,
    Unit.FRACTION: 2,  # of the percentage: 0.19672 is 19.67 (%)
    Unit.RATIO: 2,
    Unit.COUNT: 0,
    Unit.DAYS: 1,
    Unit.MONTHS: 1,
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
WATERFALL = (
    ("start", "mrr_start", 1),
    ("new", "new_mrr", 1),
    ("expansion", "expansion_mrr", 1),
    ("reactivation", "reactivation_mrr", 1),
    ("contraction", "contraction_mrr", -1),
    ("churn", "churned_mrr", -1),
    ("end", "mrr", 1),
)


# Enough digits for any float to the places shown (the default 28 fail from 1e26 on)
EXACT = Context(prec=400)


def fixed(value: float, places: int, percent: bool = False) -> Decimal:
    """`value` rounded half away from zero through its shortest repr (D19), as a decimal with
    exactly `places` places: displays and the CSV print it as it is ('3161577.70', never
    '3161577.7' or '1.2e+16'), and 0 without a sign. `percent` rounds 100 x `value`, scaled in
    decimal (the float product 0.00115 * 100 is 0.11499999999999999, which would round down).
    `value` must be finite."""
    exponent = Decimal(1).scaleb(-places)
    decimal = Decimal(repr(float(value))).scaleb(2 if percent else 0)
    rounded = decimal.quantize(exponent, rounding=ROUND_HALF_UP, context=EXACT)
    return rounded if rounded else exponent * 0  # Decimal('-0.00') -> Decimal('0.00')


def _span(span: PeriodSpan | None) -> dict[str, str] | None:
    if span is None:
        return None
    return {"label": span.label, "start": span.start.isoformat(), "end": span.end.isoformat()}


def metric_entry(metric: MetricValue) -> dict[str, Any]:
    """The entry of DECISIONS D5: value, previous, unit, status, reason, delta and the rest."""
    current = metric.current
    return {
        "value": current.value,
        "previous": metric.previous_value,
        "unit": metric.unit.value,
        "status": current.status,
        "reason": current.reason,
        "delta": metric.delta,
        "delta_kind": metric.delta_kind,
        "partial": metric.partial,
        "warnings": list(current.warnings),
        "inputs": current.inputs,
    }


def metrics_document(
    report: MetricsReport, dataset: Dataset, config_path: Path | str
) -> dict[str, Any]:
    """The JSON document of CLI.md "metrics adds" with the entry shape of D5."""
    document = envelope("metrics", config_path, report.as_of, dataset)
    document["period"] = _span(report.period)
    document["effective_end"] = report.effective_end.isoformat()
    document["partial"] = report.partial
    document["previous"] = _span(report.previous)
    document["compare"] = report.compare
    document["currency"] = report.currency
    document["metrics"] = {m.key: metric_entry(m) for m in report.metrics}
    if report.breakdown_by is not None:
        document["breakdown"] = {
            "by": report.breakdown_by,
            "rows": [
                {"key": row.key, "metrics": {m.key: metric_entry(m) for m in row.metrics}}
                for row in report.breakdown
            ],
        }
    return document


def render_metrics_json(report: MetricsReport, dataset: Dataset, config_path: Path | str) -> str:
    return to_json(metrics_document(report, dataset, config_path))


# --- rows for CSV, Markdown and the table ----------------------------------------------------


def _elements(metric: MetricValue) -> Iterator[tuple[str, MetricData, MetricData]]:
    """(label, value, previous) per printed row: one per element of list or map metrics (D7),
    of the current period or of the previous one; a list or map metric with no element at all
    (null, or an empty map) is one row under its key, so that every metric appears."""
    value, previous = metric.current.value, metric.previous_value
    if isinstance(value, list) or isinstance(previous, list):
        rates: dict[tuple[str, str], list[MetricData]] = {}
        for index, rows in enumerate((value, previous)):
            for row in rows if isinstance(rows, list) else []:
                pair = rates.setdefault((row["from_stage"], row["to_stage"]), [None, None])
                pair[index] = row["rate"]
        for (first, second), (now, before) in rates.items():
            yield f"{metric.key}[{first}>{second}]", now, before
    elif isinstance(value, dict) or isinstance(previous, dict):
        now_map = value if isinstance(value, dict) else {}
        before_map = previous if isinstance(previous, dict) else {}
        for name in dict.fromkeys([*now_map, *before_map]):
            yield f"{metric.key}[{name}]", now_map.get(name), before_map.get(name)
    else:
        yield metric.key, value, previous
        return
    if not (isinstance(value, list | dict) and value) and not (
        isinstance(previous, list | dict) and previous
    ):
        yield metric.key, None, None


def csv_number(value: MetricData, unit: Unit) -> object:
    """A value as the CSV writes it: rounded for display (METRICS §1.1, D19) with its unit's
    places, without symbol or thousands separator: `730.00`, a fraction as a percentage `19.67`
    (0.19672), `70.3`, and a count as an integer, `4`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return value
    return fixed(value, PLACES[unit], percent=unit is Unit.FRACTION)


def _csv_rows(report: MetricsReport) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for metric in report.metrics:
        for label, value, previous in _elements(metric):
            delta, kind = change(value, previous, metric.unit)
            rows.append(
                (
                    label,
                    csv_number(value, metric.unit),
                    csv_number(previous, metric.unit),
                    # as the table's change: percentage points or a relative change in %
                    None if delta is None else csv_number(delta, Unit.FRACTION),
                    kind,
                    metric.unit.value,
                    metric.current.status,
                    metric.current.reason,
                )
            )
    return rows


def render_metrics_csv(report: MetricsReport) -> str:
    return to_csv(CSV_HEADER, _csv_rows(report))


def display(value: MetricData, unit: Unit, currency: str) -> str:
    """A value as people read it: $12,345.67, 12.30 %, 2.42x, 70.3 d (D19). The rounded decimal
    is printed as it is: printed as a float again, 1234567890123456.8 would show ...456.75."""
    if value is None:
        return "-"
    if not isinstance(value, int | float) or not math.isfinite(value):
        return str(value)
    if unit is Unit.FRACTION:
        return f"{fixed(value, 2, percent=True):.2f} %"
    rounded = fixed(value, PLACES[unit])
    symbol = SYMBOLS.get(currency, currency + " ")
    sign = "-" if rounded < 0 else ""
    if unit is Unit.CURRENCY:
        return f"{sign}{symbol}{abs(rounded):,.2f}"
    if unit is Unit.CURRENCY_PER_DAY:
        return f"{sign}{symbol}{abs(rounded):,.2f}/day"
    if unit is Unit.RATIO:
        return f"{rounded:.2f}\u00d7"  # the multiplication sign of METRICS §1.1
    if unit is Unit.COUNT:
        return f"{rounded:,.0f}"
    return f"{rounded:.1f} {'d' if unit is Unit.DAYS else 'mo'}"


def display_change(value: MetricData, previous: MetricData, unit: Unit) -> str:
    delta, kind = change(value, previous, unit)
    if delta is None or not math.isfinite(delta):
        return ""
    return f"{fixed(delta, 2, percent=True):+.2f} {'pp' if kind == 'pp' else '%'}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def header_line(report: MetricsReport) -> str:
    """The period as resolved (METRICS §2.2: `2024-Q3 → 2024-07-01..2024-09-30, fiscal year
    starts Jan`), the reference day and the comparison."""
    period = report.period
    line = f"{period.label} → {period.start}..{period.end}"
    if report.partial:
        line += f" (partial: to {report.effective_end})"
    line += f", fiscal year starts {MONTHS[report.fiscal_year_start_month - 1]}"
    line += f", as of {report.as_of}"
    if report.previous is not None:
        prev = report.previous
        line += f"; compared with {prev.label} ({prev.start}..{prev.end}, {report.compare})"
    return line


def _unavailable(report: MetricsReport) -> list[MetricValue]:
    return [m for m in report.metrics if m.current.status != "ok"]


def family_rows(report: MetricsReport) -> dict[str, list[tuple[str, str, str, str]]]:
    """(metric, value, previous, change) as displayed, per family, for every computed metric."""
    families: dict[str, list[tuple[str, str, str, str]]] = {}
    for m in report.metrics:
        if m.current.status != "ok":
            continue
        families.setdefault(m.family, []).extend(_displayed(m, report.currency))
    return {family: rows for family, rows in families.items() if rows}


def _displayed(m: MetricValue, currency: str) -> Iterator[tuple[str, str, str, str]]:
    """(metric, value, previous, change) as displayed, per printed row of `m`."""
    for label, value, prev in _elements(m):
        shown = (display(value, m.unit, currency), display(prev, m.unit, currency))
        yield label, *shown, display_change(value, prev, m.unit)


def breakdown_rows(report: MetricsReport) -> list[tuple[str, str, str, str, str]]:
    """(dimension value, metric, value, previous, change) as displayed, for every metric of each
    `--by` row, a metric not computed with its status and reason in place of the value (as
    JSON has them); a record without a value for the dimension is the row `(none)`."""
    rows: list[tuple[str, str, str, str, str]] = []
    for row in report.breakdown:
        key = "(none)" if row.key is None else row.key
        for m in row.metrics:
            if m.current.status == "ok":
                rows.extend((key, *shown) for shown in _displayed(m, report.currency))
            else:
                before = display(m.previous_value, m.unit, report.currency)
                if isinstance(m.previous_value, list | dict):
                    before = "-"
                rows.append((key, m.key, f"{m.current.status}: {m.current.reason}", before, ""))
    return rows


def render_metrics_md(report: MetricsReport) -> str:
    parts = [f"# revops metrics\n\n{header_line(report)}\n"]
    for family, rows in family_rows(report).items():
        parts.append(f"## {family}\n\n" + md_table(("metric", "value", "previous", "change"), rows))
    by = report.breakdown_by
    if by is not None:
        columns = (by, "metric", "value", "previous", "change")
        parts.append(f"## by {by}\n\n" + md_table(columns, breakdown_rows(report)))
    missing = _unavailable(report)
    if missing:
        rows_missing = [(m.key, m.current.status, m.current.reason or "") for m in missing]
        parts.append("## not computed\n\n" + md_table(("metric", "status", "reason"), rows_missing))
    return "\n".join(parts)


def _result(report: MetricsReport, key: str) -> MetricResult | None:
    return next((m.current for m in report.metrics if m.key == key), None)


def waterfall(report: MetricsReport, width: int = 40) -> RenderableType | None:
    """The MRR movements of the period as horizontal bars (start, movements, end)."""
    values: list[tuple[str, float, int]] = []
    for label, key, sign in WATERFALL:
        result = _result(report, key)
        if result is None or not isinstance(result.value, int | float):
            return None
        values.append((label, float(result.value), sign))
    largest = max(abs(v) for _, v, _ in values) or 1.0
    table = Table(title="MRR movements", show_header=False, box=None, padding=(0, 1))
    for label, value, sign in values:
        bar = "█" * max(1 if value else 0, round(abs(value) / largest * width))
        style = "cyan" if label in ("start", "end") else "green" if sign > 0 else "red"
        amount = display(
            value * sign if label not in ("start", "end") else value, Unit.CURRENCY, report.currency
        )
        table.add_row(label, Text(amount, justify="right"), Text(bar, style=style))
    return table


def render_metrics_table(report: MetricsReport) -> RenderableType:
    """One table per family, the waterfall, then the metrics that could not be computed."""
    blocks: list[RenderableType] = [Text(header_line(report), style="bold")]
    for family, rows in family_rows(report).items():
        table = Table(title=family, title_justify="left", title_style="bold")
        for column, justify in (
            ("metric", "left"),
            ("value", "right"),
            ("previous", "right"),
            ("change", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for label, *shown in rows:
            # not markup: labels such as key[channel] hold brackets
            table.add_row(Text(label), *shown)
        blocks.append(table)
    chart = waterfall(report)
    if chart is not None:
        blocks.append(chart)
    if report.breakdown_by is not None:
        table = Table(title=f"by {report.breakdown_by}", title_justify="left", title_style="bold")
        for column, justify in (
            (report.breakdown_by, "left"),
            ("metric", "left"),
            ("value", "right"),
            ("previous", "right"),
            ("change", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for key, label, *shown in breakdown_rows(report):
            table.add_row(Text(key), Text(label), *shown)
        blocks.append(table)
    missing = _unavailable(report)
    if missing:
        blocks.append(Text("not computed:", style="bold"))
        blocks.extend(Text(f"  {m.key}: {m.current.status} ({m.current.reason})") for m in missing)
    return Group(*blocks)
