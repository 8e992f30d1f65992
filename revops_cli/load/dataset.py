"""Load every configured source into canonical frames: the `Dataset` for rules and metrics."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl

from revops_cli.config import Config, closest, config_error, with_preset
from revops_cli.load.columns import (
    SAMPLES,
    ColumnMap,
    ValueIssues,
    canonical_frame,
    map_headers,
    required_unmapped,
)
from revops_cli.load.derive import convert_money, derive_columns
from revops_cli.load.reader import DELIMITERS, read_headers, read_raw
from revops_cli.periods import resolve_forecast_period
from revops_cli.schema import TABLES

SMALL_BYTES = 64 * 1024 * 1024  # total CSV size up to which tables load two at a time


@dataclass(frozen=True)
class TableLoad:
    """What loading one source found: the mapping used and every problem met on the way."""

    table: str
    path: Path
    preset: str | None
    rows: int  # data rows in the file, duplicates included
    loaded: bool  # False for an empty file (S006) or a key column missing from the header (S001)
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    missing_headers: tuple[str, ...] = ()
    unmapped_headers: tuple[str, ...] = ()
    duplicate_headers: tuple[str, ...] = ()
    parse_failures: dict[str, ValueIssues] = field(default_factory=dict)
    unmapped_values: dict[str, ValueIssues] = field(default_factory=dict)
    ragged_rows: tuple[int, ...] = ()
    duplicate_rows: pl.DataFrame | None = None  # rows dropped because a later row has their key


# Columns the loader derives when they are not mapped themselves: missing either of these (S001)
# leaves them out too
DERIVED_FROM = {
    ("deals", "status"): ("stage",),
}


@dataclass(frozen=True)
class Dataset:
    """A canonical frame per loaded table, the reference day, the config and load statistics."""

    tables: dict[str, pl.DataFrame]
    loads: dict[str, TableLoad]
    as_of: date
    config: Config

    def table(self, name: str) -> pl.DataFrame | None:
        """The canonical frame of `name`, or None when it is not configured or not loaded."""
        return self.tables.get(name)

    def lacking(self, table: str, *columns: str) -> str | None:
        """`missing_column:<table>.<column>` for the first of `columns` that the config maps and
        the file has no header for (S001): not merely unmapped, so no default stands in for it;
        None when each is in the file or unmapped, and for a table not loaded (its rules say
        `missing_table`)."""
        load = self.loads.get(table)
        if load is None or not load.loaded:
            return None
        missing = [c for c in columns if c in load.missing_headers]
        return f"missing_column:{table}.{missing[0]}" if missing else None

    def absent_column(self, exc: BaseException, tables: Collection[str] = ()) -> str | None:
        """`missing_column:<table>.<column>` when `exc` is polars' "column not found" for a
        column that the config maps and the file lacks (S001: the rules and metrics that read it
        are skipped, CHECKS.md), or for one derived from such a column (deals.status from the
        stage); None for any other error. `tables` limits the search to a rule's tables (all
        when empty). When several tables lack that name, the one whose columns the failing
        frame holds (polars lists them) is meant."""
        if not isinstance(exc, pl.exceptions.ColumnNotFoundError):
            return None
        text = str(exc)
        quoted = re.search(r'"([^"]*)"', text)  # polars names the column first, quoted
        if quoted is None:
            return None
        name = quoted.group(1)
        listed = re.search(r"valid columns: \[(.*?)\]", text)
        frame_columns = set(re.findall(r'"([^"]*)"', listed.group(1))) if listed else set()
        found: list[tuple[int, int, int, str]] = []  # best: most columns shared, exact, first
        for order, (table, load) in enumerate(self.loads.items()):
            if (tables and table not in tables) or name in load.columns:
                continue
            for rank, column in enumerate((name, *DERIVED_FROM.get((table, name), ()))):
                if column in load.missing_headers:
                    frame = self.tables.get(table)
                    shared = len(frame_columns & set(frame.columns)) if frame is not None else 0
                    found.append((-shared, rank, order, f"missing_column:{table}.{column}"))
                    break
        return min(found)[3] if found else None


def check_required_columns(config: Config) -> None:
    """Raise ConfigError for a required column neither mapped nor in the header."""
    problems: list[str] = []
    for table, source in config.sources.items():
        headers = read_headers(config.source_path(table), source.delimiter, source.encoding)
        if not headers:
            continue  # an empty file is rule S006, not a config error
        for column in required_unmapped(table, source, headers):
            problems.append(
                f"sources.{table}.columns.{column}: required column is not mapped and the file "
                f"has no '{column}' header (add `{column}: <header>` under sources.{table}.columns"
                f"{_header_hint(column, headers)})"
            )
    if problems:
        raise config_error(config.path, problems)


def _header_hint(column: str, headers: tuple[str, ...]) -> str:
    """What the header row suggests: a header close to the column's name, else, when it was
    read as one column, another delimiter or encoding."""
    close = closest(column, headers)
    one = headers[0] if len(headers) == 1 else None
    split = one is not None and (any(d in one for d in DELIMITERS) or column in one.split())
    if one is not None and (close is None or split):
        shown = one if len(one) <= 60 else one[:57] + "..."
        return (
            f"; the header row was read as one column, {shown!r}: set `delimiter:` or "
            "`encoding:` for this source if it has more"
        )
    return f"; did you mean '{close}'?" if close is not None else ""


def load_dataset(
    config: Config,
    as_of: date,
    unread: Mapping[str, Collection[str]] | None = None,
) -> Dataset:
    """Read every configured source once and return the canonical Dataset.

    `unread` names, per table, mapped columns that the run never reads (the metrics do not read
    e-mails and names): they are neither parsed nor typed, and are absent from the frames.
    """
    check_required_columns(config)
    tables: dict[str, pl.DataFrame] = {}
    loads: dict[str, TableLoad] = {}

    def load(table: str) -> tuple[pl.DataFrame | None, TableLoad]:
        unread_columns = frozenset((unread or {}).get(table, ()))
        return _load_table(config, table, unread_columns, as_of)

    # Small files load two at a time: their time is polars' per-call overhead, which a second
    # thread overlaps. Big files load one by one: each parse already uses both cores, and two
    # at once would hold two files' text in memory.
    small = sum(_size(config.source_path(t)) for t in config.sources) <= SMALL_BYTES
    with ThreadPoolExecutor(max_workers=2 if small else 1) as pool:
        results = [pool.submit(load, table) for table in config.sources]
        for table, result in zip(config.sources, results, strict=True):
            frame, loads[table] = result.result()  # in config order; the first error is raised
            if frame is not None:
                tables[table] = frame
    return Dataset(tables, loads, as_of, config)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it reports the problem


def _load_table(
    config: Config, table: str, unread: frozenset[str], as_of: date
) -> tuple[pl.DataFrame | None, TableLoad]:
    source = with_preset(config.sources[table])
    path = config.source_path(table)
    key = TABLES[table].key

    def read(mapping: ColumnMap) -> ColumnMap:
        """`mapping` without the columns this run does not read (never the key)."""
        kept = {c: h for c, h in mapping.columns.items() if c not in unread or c == key}
        fallbacks = {c: h for c, h in mapping.fallbacks.items() if c in kept}
        return replace(mapping, columns=kept, fallbacks=fallbacks)

    def needed(headers: tuple[str, ...]) -> list[str]:
        return read(map_headers(table, source, headers)).headers()

    raw = read_raw(path, source.delimiter, source.encoding, needed)
    if raw is None:
        return None, TableLoad(table, path, source.preset, rows=0, loaded=False)
    mapping = map_headers(table, source, raw.headers)
    base = TableLoad(
        table,
        path,
        source.preset,
        rows=raw.rows,
        loaded=True,
        delimiter=raw.delimiter,
        columns=mapping.columns,
        missing_headers=mapping.missing,
        unmapped_headers=mapping.unmapped_headers,
        duplicate_headers=raw.duplicate_headers,
        ragged_rows=raw.ragged_rows,
    )
    if raw.rows == 0:  # a header alone: S006, not loaded; its missing headers are still S001
        return None, replace(base, loaded=False)
    if key is not None and key not in mapping.columns:
        # the key is mapped, but its header is not in the file: S001, and without its key the
        # table counts as not loaded (SCHEMA.md), so no rule reads it. A table without a key
        # (the stage history; subscriptions, whose record id is no key, D14) still loads. Its
        # rows were read: `validate` lists their unparseable cells and values outside the
        # vocabulary. Another mapped column without its header is S001 too, and the rules and
        # metrics that need it are skipped (CHECKS.md S001), the rest of the table loads.
        _, failures, unmapped, _ = canonical_frame(
            table, raw.frame, read(mapping).raw_names(), source, config, None
        )
        return None, replace(base, loaded=False, parse_failures=failures, unmapped_values=unmapped)
    repeated = partial(_repeated, key=key) if key is not None else None
    frame, failures, unmapped, duplicates = canonical_frame(
        table, raw.frame, read(mapping).raw_names(), source, config, repeated
    )
    frame = derive_columns(table, convert_money(table, frame, source, config), config)
    if table == "forecasts" and "period" in frame.columns:
        failures = {**failures, **_period_failures(frame, config, as_of)}
    if duplicates is not None:
        duplicates = derive_columns(table, convert_money(table, duplicates, source, config), config)
    load = replace(
        base, parse_failures=failures, unmapped_values=unmapped, duplicate_rows=duplicates
    )
    return frame, load


def _period_failures(frame: pl.DataFrame, config: Config, as_of: date) -> dict[str, ValueIssues]:
    """`forecasts.period` cells that are not periods of the `--period` grammar, a range with
    impossible or reversed dates included (CHECKS.md: S002 covers `forecasts.period`)."""
    calendar = config.fiscal_calendar()
    tokens = frame["period"].drop_nulls().unique(maintain_order=True).to_list()  # a handful
    unparsed = [t for t in tokens if resolve_forecast_period(t, as_of, calendar) is None]
    bad = frame["period"].filter(frame["period"].is_in(unparsed))
    if bad.is_empty():
        return {}
    samples = bad.unique(maintain_order=True).head(SAMPLES).str.slice(0, 80).to_list()
    return {"period": ValueIssues(bad.len(), tuple(samples))}


def _repeated(frame: pl.DataFrame, key: str) -> pl.Series | None:
    """True for each row whose non-null key a later row has; None when there is none.

    Candidates share a 64-bit hash of the key, found by sorting the hashes (integers sort in a
    fraction of the time a group-by of the text takes). The exact test then runs on the
    candidates alone, so a hash collision changes nothing.
    """
    ids = frame.get_column(key)
    hashes = ids.hash()
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    if repeated.is_empty():
        return None
    candidates = (hashes.is_in(repeated.implode()) & ids.is_not_null()).arg_true()
    not_last = ~ids.gather(candidates).is_last_distinct()
    if not not_last.any():
        return None
    return pl.repeat(False, frame.height, eager=True).scatter(candidates.filter(not_last), True)
