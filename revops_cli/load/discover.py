"""`revops init`: find the CSV exports in a folder and recognise them from their header rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from revops_cli.config import SourceConfig
from revops_cli.errors import InputError, RevopsError
from revops_cli.load.columns import map_headers
from revops_cli.load.reader import read_headers
from revops_cli.presets import Match, detect, normalise_header
from revops_cli.schema import TABLES

ENDINGS = (".csv", ".csv.gz")  # in any case: "Deals.CSV", "export.Csv.GZ"
# Two presets whose shares of known headers are this close both fit: the file is ambiguous.
AMBIGUITY_MARGIN = 0.10
MIN_CANONICAL_SHARE = 0.2  # of a file's headers that must be its table's columns (no preset)


@dataclass(frozen=True)
class Discovered:
    """One file of the folder and what its header row says about it."""

    path: Path
    headers: tuple[str, ...]
    matches: tuple[Match, ...]  # presets whose required headers all occur, best first
    chosen: Match | None  # the preset used in the config, if one
    note: str  # why a file was not used, or ""
    canonical: str | None = None  # the table whose canonical column names are the headers
    canonical_share: float = 0.0  # the share of the headers that are that table's columns

    @property
    def table(self) -> str | None:
        """The canonical table this file feeds, when it is used."""
        return self.chosen.preset.table if self.chosen is not None else self.canonical


def discover(folder: Path) -> list[Discovered]:
    """Every CSV file of `folder` with its recognised preset; reads only the header rows."""
    if not folder.is_dir():
        raise RevopsError(f"{folder}: is not a folder", "pass the folder that holds your exports")
    paths = sorted(p for p in folder.iterdir() if p.name.lower().endswith(ENDINGS) and p.is_file())
    found = [_recognise(path) for path in paths]
    return _one_per_table(found)


def _recognise(path: Path) -> Discovered:
    try:
        headers = read_headers(path, None, "utf-8")
    except InputError as exc:
        return Discovered(path, (), (), None, exc.one_line())
    if not headers:
        return Discovered(path, (), (), None, "no header row (empty file)")
    matches = tuple(detect(headers))
    if not matches:
        canonical = canonical_match(headers)
        if canonical is not None:
            table, share = canonical
            return Discovered(path, headers, (), None, "", table, share)
        return Discovered(path, headers, (), None, "not a known export")
    best = matches[0]
    close = [m for m in matches if best.confidence - m.confidence < AMBIGUITY_MARGIN]
    if len(close) > 1:
        names = ", ".join(f"{m.preset.name} ({m.confidence:.0%})" for m in close)
        return Discovered(path, headers, matches, None, f"ambiguous: {names}")
    # a required column the preset maps but the file lacks (a report without its id column) is
    # S001 in a run, and the table would not load
    table = best.preset.table
    columns = map_headers(table, SourceConfig(path=path, preset=best.preset.name), headers).columns
    missing = [c for c in TABLES[table].required if c not in columns]
    if missing:
        note = f"looks like {best.preset.name} but has no {', '.join(missing)} column"
        return Discovered(path, headers, matches, None, note)
    return Discovered(path, headers, matches, best, "")


def canonical_match(headers: Sequence[str]) -> tuple[str, float] | None:
    """The table whose required columns are all headers, the most specific first (the most
    required columns: a stage history holds a deal's columns too), then with the most of its
    columns among them (then the largest share of its own columns), with the share of the file's
    headers that are its columns; None when no table fits.

    By count before share: nearly every CRM file holds `owner_id`, owners' only required column,
    and owners' five columns made a third of them the larger share of a deals file. A table is
    no fit for a file whose headers are less than MIN_CANONICAL_SHARE its columns, nor for one
    that holds more columns of a table that does not fit (a required column missing)."""
    present = {normalise_header(h) for h in headers}
    counts = {name: sum(c in present for c in spec.columns) for name, spec in TABLES.items()}
    fits = {name for name, spec in TABLES.items() if all(c in present for c in spec.required)}
    scored = [(counts[name], name) for name in fits]
    if not scored:
        return None

    def rank(item: tuple[int, str]) -> tuple[int, int, float, str]:
        count, name = item
        spec = TABLES[name]
        return len(spec.required), count, count / len(spec.columns), name

    count, name = max(scored, key=rank)
    share = count / len(present)
    # a table's id among many other columns is a reference, not the file's own: subscriptions
    # without their customer_id (subscription_id, account_id, start_date, end_date) are no
    # accounts file, for more of their headers are a table's that does not fit; nor is
    # Fivetran's Stripe `subscription` (customer_id of 21 headers) a customers file
    rival = max((n for other, n in counts.items() if other not in fits), default=0)
    return (name, share) if share >= MIN_CANONICAL_SHARE and rival <= count else None


def _confidence(item: Discovered) -> float:
    return item.chosen.confidence if item.chosen is not None else item.canonical_share


def _one_per_table(found: list[Discovered]) -> list[Discovered]:
    """Keep the most confident file per canonical table; the others are reported, not used."""
    best: dict[str, Discovered] = {}
    for item in found:
        table = item.table
        if table is not None and (
            table not in best or _confidence(item) > _confidence(best[table])
        ):
            best[table] = item
    kept = {id(item) for item in best.values()}
    result = []
    for item in found:
        table = item.table
        if table is not None and id(item) not in kept:
            note = f"another file is the {table} export ({best[table].path.name})"
            item = Discovered(item.path, item.headers, item.matches, None, note)
        result.append(item)
    return result
