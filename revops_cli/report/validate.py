"""`revops validate`: the mapping, row counts and parse problems of every source, in each format."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.config import Config
from revops_cli.load.dataset import Dataset, TableLoad
from revops_cli.report.audit import counted
from revops_cli.report.output import envelope, md_table, md_text, to_csv, to_json

CSV_HEADER = ("table", "column", "header", "status", "parse_failures", "samples")
SAMPLE_ROWS = 10  # ragged row numbers shown


def validate_document(dataset: Dataset, config_path: Path | str, as_of: date) -> dict[str, Any]:
    """The JSON document of CLI.md, with the richer `tables` entry of `validate`."""
    document = envelope("validate", config_path, as_of, dataset)
    document["tables"] = {name: _table_entry(load) for name, load in dataset.loads.items()}
    return document


def _table_entry(load: TableLoad) -> dict[str, Any]:
    return {
        "path": str(load.path),
        "rows": load.rows,
        "preset": load.preset,
        "loaded": load.loaded,
        "delimiter": load.delimiter,
        "columns": load.columns,
        "missing_headers": list(load.missing_headers),
        "unmapped_headers": list(load.unmapped_headers),
        "duplicate_headers": list(load.duplicate_headers),
        "parse_failures": {
            column: {"count": issues.count, "samples": list(issues.samples)}
            for column, issues in load.parse_failures.items()
        },
        "unmapped_values": {
            column: {"count": issues.count, "samples": list(issues.samples)}
            for column, issues in load.unmapped_values.items()
        },
        "ragged_rows": list(load.ragged_rows),
    }


def render_validate_json(dataset: Dataset, config_path: Path | str, as_of: date) -> str:
    return to_json(validate_document(dataset, config_path, as_of))


def _column_rows(load: TableLoad, config: Config) -> list[tuple[str, str, str, str, int, str]]:
    """table, column, header, status, failures, examples per mapped column; a missing one shows
    the header the config names for it."""
    named = config.sources[load.table].columns if load.table in config.sources else {}
    rows = []
    for column, header in load.columns.items():
        issues = load.parse_failures.get(column)
        status = "parse failures" if issues else "ok"
        samples = ", ".join(issues.samples) if issues else ""
        rows.append((load.table, column, header, status, issues.count if issues else 0, samples))
    for column in load.missing_headers:
        header = named.get(column, "")
        rows.append((load.table, column, header, "header missing from file", 0, ""))
    return rows


def render_validate_csv(dataset: Dataset) -> str:
    """A line per mapped column, with its table's row count last (CLI.md: validate prints the
    mapping and the row counts); a table without a mapped column has one line of its own."""
    rows: list[tuple[object, ...]] = []
    for load in dataset.loads.values():
        columns = _column_rows(load, dataset.config)
        if load.rows == 0:  # an empty file, or a header alone whose columns follow
            columns = [(load.table, "", "", "no data rows", 0, ""), *columns]
        elif not columns:
            columns = [(load.table, "", "", "no mapped column", 0, "")]
        rows.extend((*row, load.rows) for row in [*columns, *_note_rows(load)])
    return to_csv((*CSV_HEADER, "rows"), rows)


def _note_rows(load: TableLoad) -> list[tuple[str, str, str, str, int, str]]:
    """What the other formats list under a table's columns, as CSV lines: headers not mapped
    and given twice, rows with a wrong number of fields, values not in the `values:` map."""
    table = load.table
    rows = [(table, "", header, "not mapped", 0, "") for header in load.unmapped_headers]
    rows += [
        (table, "", h, "duplicate header (the first is used)", 0, "")
        for h in load.duplicate_headers
    ]
    if load.ragged_rows:
        shown = ", ".join(str(r) for r in load.ragged_rows[:SAMPLE_ROWS])
        status = "rows with a wrong number of fields"
        rows.append((table, "", "", status, len(load.ragged_rows), shown))
    for column, issues in load.unmapped_values.items():
        status = "values not in the `values:` map"
        rows.append((table, column, "", status, issues.count, ", ".join(issues.samples)))
    return rows


def render_validate_md(dataset: Dataset) -> str:
    parts = []
    for load in dataset.loads.values():
        parts.append(f"## {load.table}\n\n{md_text(_summary(load))}\n")
        parts.append(
            md_table(CSV_HEADER[1:], [row[1:] for row in _column_rows(load, dataset.config)])
        )
        parts.extend(f"- {md_text(note)}\n" for note in _notes(load))  # headers, raw values
    return "\n".join(parts)


def render_validate_table(dataset: Dataset) -> RenderableType:
    """One block per source: a summary line, the column mapping, then what needs attention."""
    blocks: list[RenderableType] = []
    for load in dataset.loads.values():
        blocks.append(Text(f"{load.table}: {_summary(load)}", style="bold"))
        if load.columns or load.missing_headers:
            grid = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 2))
            for title in ("column", "header", "status", "failures", "examples"):
                grid.add_column(title, overflow="fold")
            for _, column, header, status, count, samples in _column_rows(load, dataset.config):
                style = "green" if status == "ok" else "yellow"
                # export headers and raw values are data, not rich markup
                grid.add_row(
                    column, Text(header), Text(status, style=style), str(count or ""), Text(samples)
                )
            blocks.append(grid)
        blocks.extend(Text(f"  ! {note}", style="yellow") for note in _notes(load))
        blocks.append(Text(""))
    return Group(*blocks)


def _summary(load: TableLoad) -> str:
    if load.rows == 0:
        return f"{load.path}: no data rows (empty table, rule S006)"
    state = "" if load.loaded else ", NOT LOADED: its key column is missing (rule S001)"
    preset = f", preset {load.preset}" if load.preset else ""
    return f"{load.path}: {counted(load.rows, 'row')}, delimiter {load.delimiter!r}{preset}{state}"


def _notes(load: TableLoad) -> list[str]:
    notes = []
    if load.unmapped_headers:
        notes.append("headers not mapped: " + ", ".join(load.unmapped_headers))
    if load.duplicate_headers:
        notes.append("duplicate headers (the first is used): " + ", ".join(load.duplicate_headers))
    if load.ragged_rows:
        shown = ", ".join(str(r) for r in load.ragged_rows[:SAMPLE_ROWS])
        extra = len(load.ragged_rows) - SAMPLE_ROWS
        more = f" and {extra} more" if extra > 0 else ""
        rows = counted(len(load.ragged_rows), "row")
        label = "row" if len(load.ragged_rows) == 1 else "rows"
        notes.append(f"{rows} with a wrong number of fields: {label} {shown}{more}")
    for column, issues in load.unmapped_values.items():
        notes.append(
            f"{column}: {counted(issues.count, 'value')} not in the `values:` map: "
            + ", ".join(issues.samples)
        )
    return notes
