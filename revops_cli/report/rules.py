"""`revops rules` and `revops explain CODE`: the rule catalogue in every output format."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.checks.registry import Rule
from revops_cli.report.output import OutputFormat, fields_csv, md_table, to_csv, to_json
from revops_cli.schema import TABLE_NAMES, TABLES

HEADER = ("code", "name", "severity", "tables", "params")


def checked_tables(rule: Rule) -> tuple[str, ...]:
    """The tables `rule` checks. The structure rules that check every table they apply to
    register none: S004 checks the tables with a key (D14: not the subscriptions), S005 those
    with a vocabulary, the others every table."""
    if rule.tables:
        return rule.tables
    if rule.code == "S004":
        return tuple(t for t in TABLE_NAMES if TABLES[t].key is not None)
    if rule.code == "S005":
        return tuple(t for t in TABLE_NAMES if TABLES[t].vocabularies)
    return TABLE_NAMES


def rule_entry(rule: Rule) -> dict[str, Any]:
    """{code, name, severity, tables, params} (DECISIONS D34)."""
    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.value,
        "tables": list(checked_tables(rule)),
        "params": rule.params,
    }


def severity_text(rule: Rule) -> str:
    """The default severity, with where it differs: `warning (error for deals.stage)`."""
    note = f" ({rule.severity_note})" if rule.severity_note else ""
    return rule.severity.value + note


def _row(rule: Rule, severity: str) -> tuple[str, str, str, str, str]:
    params = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in rule.params.items())
    return rule.code, rule.name, severity, ", ".join(checked_tables(rule)), params


def render_rules(rules: Sequence[Rule], fmt: OutputFormat) -> RenderableType | str:
    if fmt is OutputFormat.JSON:  # a plain list, without the envelope (DECISIONS D34)
        entries = [rule_entry(r) for r in rules]
        return json.dumps(entries, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt is OutputFormat.CSV:  # the severity a program reads, as in JSON
        return to_csv(HEADER, [_row(r, r.severity.value) for r in rules])
    rows = [_row(r, severity_text(r)) for r in rules]
    if fmt is OutputFormat.MD:
        return md_table(HEADER, rows)
    table = Table()
    for title in HEADER:
        table.add_column(title, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


SECTIONS = ("why", "example", "fix")


def doc_sections(rule: Rule) -> dict[str, str]:
    """The docstring as {title, why, example, fix}: paragraphs joined into single lines."""
    paragraphs = [
        " ".join(line.strip() for line in block.splitlines())
        for block in inspect.cleandoc(rule.doc).split("\n\n")
        if block.strip()
    ]
    sections = {"title": paragraphs[0] if paragraphs else rule.name}
    for paragraph in paragraphs[1:]:
        head, _, rest = paragraph.partition(": ")
        key = head.lower() if head.lower() in SECTIONS else "why"
        text = rest if key == head.lower() else paragraph
        sections[key] = f"{sections[key]} {text}" if key in sections else text
    return sections


def render_explain(
    rule: Rule, fmt: OutputFormat, envelope: dict[str, Any] | None = None
) -> RenderableType | str:
    """A rule in full; the JSON document has the common fields of CLI.md (`envelope`), whose
    `tables` map of loaded sources is empty (`explain` loads none): the tables the rule checks
    are `rule_tables`."""
    sections = doc_sections(rule)
    title = sections["title"]
    body = "\n\n".join(
        f"{key.capitalize()}: {sections[key]}" for key in SECTIONS if key in sections
    )
    entry = {**rule_entry(rule), "basis": rule.basis, **{k: sections.get(k) for k in SECTIONS}}
    entry["title"] = title
    if fmt is OutputFormat.JSON:
        entry["rule_tables"] = entry.pop("tables")
        return to_json({**entry, **(envelope or {})})
    if fmt is OutputFormat.CSV:
        return fields_csv(entry)
    params = [(name, json.dumps(value, default=str)) for name, value in rule.params.items()]
    tables = f"Tables: {', '.join(checked_tables(rule))}."
    about = (
        f"{tables} Default severity: {severity_text(rule)}. Revenue at risk basis: {rule.basis}."
    )
    if fmt is OutputFormat.MD:
        lines = [
            f"# {rule.code} {rule.name}",
            "",
            title,
            "",
            body,
            "",
            about,
            "",
        ]
        if params:
            lines.append(md_table(("parameter", "default"), params))
        lines.append(f"Change a parameter under `rules: settings: {rule.code}:` in the config.")
        return "\n".join(lines) + "\n"
    blocks: list[RenderableType] = [
        Text(f"{rule.code} {rule.name}: {title}", style="bold"),
        Text(body),
        Text(about),
    ]
    if params:
        grid = Table("parameter", "default")
        for name, value in params:
            grid.add_row(name, Text(value))
        blocks.append(grid)
        blocks.append(Text(f"Change them under `rules: settings: {rule.code}:` in the config."))
    return Group(*blocks)
