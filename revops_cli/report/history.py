"""`revops history` and `revops trend` output: table (with a sparkline), JSON, CSV and Markdown."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.history import StoredRun
from revops_cli.history.trends import Trend
from revops_cli.report.metrics import PLACES, csv_number, display, fixed
from revops_cli.report.output import OutputFormat, md_table, to_csv, to_json
from revops_cli.results import Unit

BARS = "▁▂▃▄▅▆▇█"
RUN_COLUMNS = (
    "run_id",
    "recorded_at",
    "command",
    "as_of",
    "version",
    "config_hash",
    "exit_code",
    "findings",
    "records_affected",
    "revenue_at_risk",
    "period",
)
MONEY_COLUMNS = {"revenue_at_risk"}


def sparkline(values: Sequence[float | None]) -> str:
    """One block character per value, scaled from the lowest to the highest; a gap for None."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    span = high - low
    return "".join(
        " " if v is None else BARS[round((v - low) / span * (len(BARS) - 1)) if span else 0]
        for v in values
    )


def _document(head: dict[str, Any], history: Path, **fields: Any) -> str:
    """The common fields of CLI.md (`head`), the history file, then the command's own."""
    return to_json({**head, "history": str(history), **fields})


def _run_row(run: StoredRun, short: bool) -> tuple[Any, ...]:
    return (
        run.run_id,
        run.recorded_at,
        run.command,
        run.as_of.isoformat(),
        run.tool_version,
        run.config_hash[:12] if short else run.config_hash,
        run.exit_code,
        run.findings,
        run.records_affected,
        run.revenue_at_risk,
        run.period,
    )


def render_runs(
    runs: Sequence[StoredRun], fmt: OutputFormat, history: Path, head: dict[str, Any]
) -> RenderableType | str:
    """The stored runs, newest first; the tables for people show 12 characters of the config's
    sha256, JSON and CSV the whole of it (a program compares it with `sha256sum`)."""
    short = fmt in (OutputFormat.TABLE, OutputFormat.MD)
    rows = [_run_row(run, short) for run in runs]
    if fmt is OutputFormat.JSON:
        return _document(head, history, runs=[dict(zip(RUN_COLUMNS, r, strict=True)) for r in rows])
    return _rows(RUN_COLUMNS, rows, fmt, "", f"{len(runs)} runs in {history}")


def render_trend(
    trend: Trend, fmt: OutputFormat, history: Path, head: dict[str, Any]
) -> RenderableType | str:
    """The series of one rule or metric, oldest first, with a sparkline of its numbers."""
    line = sparkline(trend.values)
    if fmt is OutputFormat.JSON:
        return _document(
            head,
            history,
            **{trend.subject: trend.key},
            period_kind=trend.period_kind,
            unit=trend.unit or None,
            sparkline=line,
            points=[dict(zip(trend.columns, row, strict=True)) for row in trend.rows],
        )
    what = f"value per {trend.period_kind}"
    if trend.subject == "rule":
        each = f"the latest run of each {trend.period_kind}" if trend.period_kind else "each run"
        what = f"flagged records in {each}"
    title = f"{trend.subject} {trend.key}: {what}"
    count = len(trend.rows)
    footer = f"{line}  {count} point{'s' if count > 1 else ''}" if count else "no stored point"
    return _rows(trend.columns, list(trend.rows), fmt, trend.unit, f"{title}\n{footer}")


def _rows(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: OutputFormat,
    unit: str,
    caption: str,
) -> RenderableType | str:
    if fmt is OutputFormat.CSV:
        return to_csv(
            header, [[_raw(n, v, unit) for n, v in zip(header, row, strict=True)] for row in rows]
        )
    shown = [[_shown(name, v, unit) for name, v in zip(header, row, strict=True)] for row in rows]
    if fmt is OutputFormat.MD:
        return md_table(header, shown) + f"\n{caption}\n"
    table = Table()
    for name in header:
        numeric = name in ("run_id", "exit_code", "findings", "records_affected", "count", "value")
        table.add_column(name, justify="right" if numeric or name in MONEY_COLUMNS else "left")
    for cells in shown:
        table.add_row(*(Text(c) for c in cells))
    return Group(table, Text(caption))


def _raw(column: str, value: Any, unit: str) -> Any:
    """A CSV cell: list and map values as JSON text, booleans as true/false (as in JSON), and
    money and metric values rounded as the audit and metrics CSV round them (D19)."""
    if isinstance(value, list | dict | bool):
        return json.dumps(value)
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if column in MONEY_COLUMNS:
        return fixed(value, PLACES[Unit.CURRENCY])
    if column == "value" and unit in {u.value for u in Unit}:
        return csv_number(value, Unit(unit))
    return value


def _shown(column: str, value: Any, unit: str) -> str:
    """A table cell: money with 2 decimals, metric values in their unit, empty for None."""
    if value is None:
        return "-"
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if column in MONEY_COLUMNS or (column == "value" and unit.startswith("currency")):
        return f"{fixed(value, 2):,.2f}" if math.isfinite(value) else str(value)
    if column == "value" and unit in {u.value for u in Unit}:
        return display(value, Unit(unit), "")
    return f"{value:,}" if isinstance(value, int) else str(value)
