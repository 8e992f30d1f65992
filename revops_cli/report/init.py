"""`revops init`: the starter config (YAML with comments) and the table of recognised files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text

from revops_cli.errors import flat
from revops_cli.load.discover import Discovered

HEADER = """\
# revops config written by `revops init` from the header rows of the files in {folder}.
# Each recognised export names a preset (its column and value maps); add `columns:` or `values:`
# under a source to override a preset key by key. Every key is documented in config.example.yaml.
version: 1
currency:
  base: USD            # the reporting currency
  rates: {{}}            # 1 unit of X = rate x base, e.g. {{EUR: 1.08, GBP: 1.27}}
fiscal_year_start_month: 1
"""


def _quote(text: str) -> str:
    """`text` as a YAML double-quoted string; a control character or a line separator (which
    YAML would read as a line end) as its escape."""
    return '"' + flat(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _relative(path: Path, config_dir: Path) -> str:
    return Path(os.path.relpath(path.resolve(), config_dir.resolve())).as_posix()


def render_config(found: Sequence[Discovered], folder: Path, config_dir: Path) -> str:
    """The starter config: one source per recognised file, templates for the others."""
    # every name from the disk is written through `flat` or `_quote`: a line break in a file
    # name or header (U+2028 too) would end a comment and inject a key
    lines = [HEADER.format(folder=flat(str(folder))).rstrip("\n")]
    used = [d for d in found if d.table is not None]
    lines.append("sources:" if used else "sources: {}   # no export was recognised: see below")
    for item in used:
        path = f"    path: {_quote(_relative(item.path, config_dir))}"
        if item.chosen is None:
            lines += [f"  {item.table}:   # canonical column names", path]
            continue
        preset = item.chosen.preset
        lines += [
            f"  {preset.table}:   # {preset.vendor} {preset.name.split('-', 1)[1]}, "
            f"{item.chosen.confidence:.0%} of the preset's known headers present",
            path,
            f"    preset: {preset.name}",
        ]
    others = [d for d in found if d.table is None]
    if others:
        lines += [
            "",
            "# Files not used. To add one, copy its block under `sources:`, choose the canonical",
            "# table (README.md lists them), and map each canonical column to one of its headers.",
        ]
        for item in others:
            lines += ["#", flat(f"# {item.path.name}: {item.note}")]
            if item.headers:
                lines.append(flat("#   headers: " + ", ".join(item.headers)))
            candidates = [m.preset for m in item.matches]
            table = candidates[0].table if candidates else "<table>"
            lines += [f"#   {table}:", f"#     path: {_quote(_relative(item.path, config_dir))}"]
            if candidates:
                lines.append(f"#     preset: {candidates[0].name}")
            else:
                lines.append('#     columns: {<canonical column>: "<header>", ...}')
    return "\n".join(lines) + "\n"


def render_init_table(found: Sequence[Discovered]) -> Table:
    table = Table(title="exports found")
    for column in ("file", "table", "preset", "confidence", "note"):
        table.add_column(column)
    for item in found:
        match = item.chosen
        table.add_row(
            Text(item.path.name),
            item.table or "",
            match.preset.name if match else ("canonical" if item.canonical else ""),
            f"{match.confidence:.0%}"
            if match
            else (f"{item.canonical_share:.0%}" if item.canonical else ""),
            Text(item.note),
        )
    return table
