"""Turn one file's text columns into a canonical table: header mapping, types and vocabularies.

Everything here builds polars expressions; `canonical_frame` evaluates them in one pass and counts
the cells that did not parse (S002) and the vocabulary values that are not in the map (S005).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import pairwise

import polars as pl

from revops_cli.config import Config, SourceConfig
from revops_cli.frames import per_value
from revops_cli.load import fastpath, parse
from revops_cli.load.fastpath import DATE_KINDS
from revops_cli.load.reader import raw_name
from revops_cli.presets import OWN_PREFIXES, presets, split_header
from revops_cli.schema import DEAL_STATUS, ROW, TABLES, TYPED, ColumnType, Vocabulary

SAMPLES = 5  # raw values kept as examples per column, each cut to 80 characters
UNMAPPED = "_unmapped_"  # prefix of the column holding a vocabulary's unknown raw values (S005)
RAW = "_raw_"  # prefix of the temporary copy of a typed column's text


@dataclass(frozen=True)
class ValueIssues:
    """How many cells of a column had a problem, with a few distinct raw values as examples."""

    count: int
    samples: tuple[str, ...]


@dataclass(frozen=True)
class ColumnMap:
    """Which header feeds each canonical column, and what could not be matched."""

    columns: dict[str, str]  # canonical -> header present in the file
    missing: tuple[str, ...]  # mapped in the config, header absent from the file (S001)
    unmapped_headers: tuple[str, ...]
    # canonical -> the preset's fallback headers present in the file, read where the cell is empty
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def headers(self) -> list[str]:
        """Every header the mapping reads: the columns' own and their fallbacks."""
        extra = (h for found in self.fallbacks.values() for h in found)
        return list(dict.fromkeys([*self.columns.values(), *extra]))

    def raw_names(self) -> ColumnMap:
        """The mapping with each header as its column is named in the raw frame (`raw_name`)."""
        return replace(
            self,
            columns={c: raw_name(h) for c, h in self.columns.items()},
            fallbacks={c: tuple(map(raw_name, found)) for c, found in self.fallbacks.items()},
        )


def map_headers(table: str, source: SourceConfig, headers: Sequence[str]) -> ColumnMap:
    """Match the config's `columns`, the preset's headers and same-named headers to the file.

    A header matches exactly, else after normalisation (case, spaces, a `Deal - ` prefix of the
    table's own object). Only a header mapped explicitly under `columns:` and missing from the
    file counts as missing (S001): a preset names many optional headers that a given export may
    not have.
    """
    find = partial(
        _match,
        headers=headers,
        by_folded=_folded(headers),
        own=OWN_PREFIXES.get(table),
    )
    preset = presets().get(source.preset) if source.preset else None
    found: dict[str, str] = {}
    missing: list[str] = []
    for column in TABLES[table].columns:
        wanted = source.columns.get(column)
        if wanted is not None:
            match = find(wanted)
            if match is None:
                missing.append(column)
        else:
            listed = tuple(preset.columns.get(column, ())) if preset else ()
            # a preset that derives the deal status from the stage (D26) takes no header that
            # merely shares the name: a custom "Status" property would replace won and lost
            derived = preset is not None and not listed and (table, column) == ("deals", "status")
            alternatives = listed if derived else (*listed, column)
            match = next((m for a in alternatives if (m := find(a))), None)
            if match is None and listed and column in TABLES[table].required:
                missing.append(column)  # the preset maps the key, but none of its headers is here
        if match is not None:
            found[column] = match
    _read_pairs(preset.pairs if preset else (), source, find, found)
    fallbacks: dict[str, tuple[str, ...]] = {}
    for column, alternatives in (preset.fallbacks if preset else {}).items():
        if column in source.columns:
            continue  # not for a column the config maps
        present = (find(a) for a in alternatives)
        extra = tuple(dict.fromkeys(h for h in present if h and h != found.get(column)))
        if column not in found and extra:  # the export lacks the column's own headers
            found[column], extra = extra[0], extra[1:]
            missing = [m for m in missing if m != column]
        if extra:
            fallbacks[column] = extra
    used = set(found.values()) | {h for extra in fallbacks.values() for h in extra}
    unmapped = tuple(h for h in headers if h not in used)
    return ColumnMap(found, tuple(missing), unmapped, fallbacks)


def _read_pairs(
    pairs: Sequence[Mapping[str, str]],
    source: SourceConfig,
    find: Callable[[str], str | None],
    found: dict[str, str],
) -> None:
    """Read the headers of a preset's pair together (HubSpot's amount and its currency).

    The first pair whose headers are all present wins over the columns' own alternatives. When
    the config maps a column of a pair itself, its partner is the one of a pair that holds the
    config's header, the first such pair whose partner is present; with none present the partner
    is not read (a company-currency amount is not in the deal's currency)."""
    fitting = []
    for pair in pairs:
        matched = {column: find(header) for column, header in pair.items()}
        named = [column for column in pair if column in source.columns]
        if not named and all(matched.values()):
            found.update({column: header for column, header in matched.items() if header})
            return
        if named and all(matched[c] is not None and matched[c] == found.get(c) for c in named):
            fitting.append(matched)
    if not fitting:
        return
    partners = next((m for m in fitting if all(m.values())), fitting[0])
    for column, header in partners.items():
        if column in source.columns:
            continue
        if header is None:
            found.pop(column, None)
        else:
            found[column] = header


def required_unmapped(table: str, source: SourceConfig, headers: Sequence[str]) -> list[str]:
    """Required columns that neither the config, the preset nor a same-named header provides."""
    mapping = map_headers(table, source, headers)
    return [
        column
        for column in TABLES[table].required
        if column not in mapping.columns and column not in mapping.missing
    ]


Folded = Mapping[str, Sequence[tuple[str | None, str]]]  # normalised -> (object prefix, header)


def _folded(headers: Sequence[str]) -> Folded:
    by_folded: dict[str, list[tuple[str | None, str]]] = {}
    for header in headers:
        prefix, rest = split_header(header)
        by_folded.setdefault(rest, []).append((prefix, header))
    return by_folded


def _match(
    name: str, headers: Sequence[str], by_folded: Folded, own: frozenset[str] | None
) -> str | None:
    """`name` itself, else the first header equal to it after normalisation with the same object
    prefix, else one whose prefix and the name's are each the table's own or none (`own` None:
    any). A deals export's "Organization - ID" is never the deal's "Deal - ID" or "ID"."""
    if name in headers:
        return name
    prefix, rest = split_header(name)
    candidates = by_folded.get(rest, ())
    same = next((header for p, header in candidates if p == prefix), None)
    if same is not None:
        return same

    def owned(p: str | None) -> bool:
        return own is None or p is None or p in own

    return next((h for p, h in candidates if owned(p) and owned(prefix)), None)


Repeated = Callable[[pl.DataFrame], pl.Series | None]  # rows to drop (a later row has the key)


def canonical_frame(
    table: str,
    raw: pl.DataFrame,
    mapping: ColumnMap,
    source: SourceConfig,
    config: Config,
    repeated: Repeated | None = None,
) -> tuple[pl.DataFrame, dict[str, ValueIssues], dict[str, ValueIssues], pl.DataFrame | None]:
    """The typed canonical table, parse failures per column, unmapped vocabulary values, and the
    rows `repeated` marks (None when none), which the table leaves out.

    SCHEMA.md drops the rows of repeated keys before any rule reads the table, so their cells
    count neither as failures nor as values. The mask is applied to the counts, and the frame is
    filtered only once the raw text is dropped (filtering it with the text would copy it).
    """
    spec = TABLES[table]
    tz = config.metrics.timezone
    if mapping.fallbacks:  # each such column reads its fallback headers where its cell is empty
        raw = raw.with_columns(
            pl.coalesce(_filled(mapping.columns[c]), *map(_filled, found)).alias(mapping.columns[c])
            for c, found in mapping.fallbacks.items()
        )
    typed: list[pl.Expr] = [pl.col(ROW)]
    texts: dict[str, pl.Expr] = {}  # raw text of each typed column
    quick: set[str] = set()  # columns read by a fast path, the general parser left for its misses
    samples = fastpath.first_values(
        raw, {c: pl.col(h) for c, h in mapping.columns.items() if spec.columns[c] in DATE_KINDS}
    )
    for column, header in mapping.columns.items():
        kind = spec.columns[column]
        if kind is ColumnType.VOCAB:
            continue  # typed by _vocabularies
        text = pl.col(header)
        if kind is ColumnType.ID and source.multi_value == "first":
            # the first id that is there: ';A1' and ' ; A1' are A1 (ids are trimmed below)
            pieces = text.str.split(";").list.eval(pl.element().str.strip_chars())
            text = pieces.list.eval(pl.element().filter(pl.element() != "")).list.first()
        fast = fastpath.fast_expression(kind, text, samples.get(column), source.decimal, tz)
        if kind is ColumnType.CURRENCY:  # a few distinct codes
            value = per_value(raw.get_column(header), partial(_typed, kind, source=source, tz=tz))
        elif fast is not None:
            quick.add(column)
            value = _scaled(kind, fast, source)
        else:
            value = _typed(kind, text, source, tz)
        if kind is ColumnType.BOOL and source.empty_bool is not None:
            value = (
                pl.when(parse.clean_text(text).is_null()).then(source.empty_bool).otherwise(value)
            )
        typed.append(value.alias(column))
        if kind in TYPED:
            texts[column] = text
    typed.extend(_vocabularies(table, raw, mapping, source, config))
    raws = (t.alias(RAW + c) for c, t in texts.items())
    frame = raw.lazy().select(*typed, *raws).collect()  # lazy: shares common subexpressions
    parse_failures = _parse_failures(frame, texts)
    retry = [c for c in parse_failures if c in quick]
    for column in retry:  # the cells a fast path did not take go through the general parser
        frame = _fill_misses(
            frame, column, partial(_typed, spec.columns[column], source=source, tz=tz)
        )
    dropped = repeated(frame) if repeated is not None else None
    kept = pl.lit(~dropped) if dropped is not None else pl.lit(True)
    if dropped is not None:
        parse_failures = _parse_failures(frame, parse_failures, kept)  # of the rows kept
    elif retry:
        parse_failures = {c: v for c, v in parse_failures.items() if c not in retry}
        parse_failures |= _parse_failures(frame, retry)
    unmapped = _issues(
        frame,
        {
            c.removeprefix(UNMAPPED): pl.col(c).filter(kept).drop_nulls()
            for c in frame.columns
            if c.startswith(UNMAPPED)
        },
    )
    table_frame = frame.lazy().drop([RAW + c for c in texts]).collect()
    del frame  # let go before the copy
    if dropped is None:
        return _contiguous(table_frame), parse_failures, unmapped, None
    kept_rows, dropped_rows = _split(table_frame, dropped)
    return kept_rows, parse_failures, unmapped, dropped_rows


FEW = 4096  # repeated rows up to which the kept rows are cut out as slices


def _contiguous(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with one chunk per column.

    The columns' chunks differ (the parse's, the row index's, the scattered fixes'), and rules
    on misaligned chunks run slower; polars 2.1 even panics on some string views split that way.
    """
    return frame.rechunk()


def _split(frame: pl.DataFrame, dropped: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of `frame` not `dropped`, contiguous, and the dropped ones.

    A few repeated keys are the usual case: the kept rows are then the slices between them,
    which cost nothing until the one copy that makes them contiguous (filtering would copy
    every column once more, a second of page faults on two million leads).
    """
    indices = dropped.arg_true()
    if indices.len() > FEW:
        kept = _contiguous(frame)
        return kept.filter(~dropped), kept.filter(dropped)
    bounds = [-1, *indices.to_list(), frame.height]
    slices = [frame.slice(a + 1, b - a - 1) for a, b in pairwise(bounds) if b - a > 1]
    kept = _contiguous(pl.concat(slices or [frame.clear()], rechunk=False))
    repeated = _contiguous(pl.concat([frame.slice(i, 1) for i in indices], rechunk=False))
    return kept, repeated


def _filled(header: str) -> pl.Expr:
    """The cells of `header` with text; null for an empty one (a quoted "" reads as '')."""
    return pl.when(parse.clean_text(pl.col(header)).is_not_null()).then(pl.col(header))


def _parse_failures(
    frame: pl.DataFrame, columns: Iterable[str], kept: pl.Expr | None = None
) -> dict[str, ValueIssues]:
    """Cells of each typed column with text but no value (S002): `parse.parse_failed`, with the
    value-less cells that are not empty picked first so that only they are trimmed (a column of
    mostly empty cells, such as converted_at, has few); only the `kept` rows."""
    failed: dict[str, pl.Expr] = {}
    for column in columns:
        without = pl.col(column).is_null() & pl.col(RAW + column).is_not_null()
        without = without if kept is None else without & kept
        without_value = pl.col(RAW + column).filter(without)
        failed[column] = without_value.filter(parse.clean_text(without_value).is_not_null())
    return _issues(frame, failed)


def _fill_misses(
    frame: pl.DataFrame, column: str, general: Callable[[pl.Expr], pl.Expr]
) -> pl.DataFrame:
    """`column` with the general parser's value in each cell that has text but no value yet."""
    missed = pl.col(column).is_null() & pl.col(RAW + column).is_not_null()
    found = frame.select(
        pl.arg_where(missed).alias("index"), general(pl.col(RAW + column).filter(missed))
    )
    values = frame.get_column(column).clone().scatter(found["index"], found[RAW + column])
    return frame.with_columns(values)


def _scaled(kind: ColumnType, value: pl.Expr, source: SourceConfig) -> pl.Expr:
    return value / source.amount_divisor if kind is ColumnType.MONEY else value


def _typed(kind: ColumnType, text: pl.Expr, source: SourceConfig, tz: str) -> pl.Expr:
    formats = source.date_format
    if kind is ColumnType.DATETIME:
        return parse.parse_datetime(text, formats, tz)
    if kind is ColumnType.DATE:
        return parse.parse_date(text, formats, tz)
    if kind is ColumnType.MONEY:
        return _scaled(kind, parse.parse_money(text, source.decimal), source)
    if kind is ColumnType.NUMBER:
        return parse.parse_number(text, source.decimal)
    if kind is ColumnType.INTEGER:
        return parse.parse_integer(text, source.decimal)
    if kind is ColumnType.BOOL:
        return parse.parse_bool(text)
    if kind is ColumnType.CURRENCY:
        return parse.clean_text(text).str.to_uppercase()
    # ids, text, period tokens and the raw text of vocabulary columns stay strings
    return parse.clean_text(text)


def _vocabularies(
    table: str, raw: pl.DataFrame, mapping: ColumnMap, source: SourceConfig, config: Config
) -> list[pl.Expr]:
    """Canonical words from raw values; unknown values kept in `_unmapped_<column>` for S005."""
    exprs: list[pl.Expr] = []
    for column, vocabulary in TABLES[table].vocabularies.items():
        if (table, column) == ("deals", "deal_type"):
            # METRICS §1.7: a null deal type counts as the configured default
            vocabulary = Vocabulary(vocabulary.words, config.metrics.deals.default_deal_type)
        if column in mapping.columns:
            cells = raw.get_column(mapping.columns[column])
            exprs.extend(_vocabulary(column, cells, vocabulary, source.values.get(column, {})))
        elif (column in mapping.missing and (table, column) != ("deals", "deal_type")) or (
            (table, column) == ("deals", "status") and "stage" in mapping.missing
        ):
            # a status or stage mapped, but not in the header (S001): no default stands in for
            # the export's values, so the rules and metrics that read them are skipped (CHECKS.md
            # S001). A deal type is the exception: METRICS §1.7 counts a null one as the
            # configured default, so the deals keep their metrics.
            continue
        elif table == "deals" and column == "status" and "stage" in mapping.columns:
            stages = source.values.get("status", {})
            cells = raw.get_column(mapping.columns["stage"])
            status, *unknown = _vocabulary("stage", cells, DEAL_STATUS, stages)
            exprs.append(status.alias("status"))
            if "open" in stages:  # D8: an unlisted stage is reported only with open stages listed
                exprs.extend(unknown)
        elif vocabulary.default is not None:
            exprs.append(pl.lit(vocabulary.default, pl.String).alias(column))
        else:
            exprs.append(pl.lit(None, pl.String).alias(column))
    return exprs


def _vocabulary(
    column: str, cells: pl.Series, vocabulary: Vocabulary, raw_map: Mapping[str, Sequence[str]]
) -> list[pl.Expr]:
    """The canonical word of each cell, and its trimmed text where it has no word (S005); the
    latter only when some value has no word (a column of nulls takes 16 bytes a row)."""
    lookup = {word: word for word in vocabulary.words}
    for word, raws in raw_map.items():
        lookup.update({raw.strip().lower(): word for raw in raws})

    def canonical_word(text: pl.Expr) -> pl.Expr:
        lowered = parse.clean_text(text).str.to_lowercase()
        return lowered.replace_strict(lookup, default=None, return_dtype=pl.String)

    values = cells.unique().drop_nulls()
    words = pl.select(canonical_word(pl.lit(values))).to_series()
    unknown = values.filter(words.is_null())
    found = per_value(cells, canonical_word, values)
    canonical = pl.coalesce(found, pl.lit(vocabulary.default, pl.String)).alias(column)
    if unknown.is_empty():
        return [canonical]
    return [canonical, per_value(cells, parse.clean_text, unknown).alias(UNMAPPED + column)]


def _issues(frame: pl.DataFrame, flagged: Mapping[str, pl.Expr]) -> dict[str, ValueIssues]:
    """Count the flagged cells of each column and keep up to SAMPLES distinct ones, in one pass."""
    if not flagged:
        return {}
    exprs: list[pl.Expr] = []
    for column, cells in flagged.items():
        exprs.append(cells.len().alias(f"n:{column}"))
        samples = cells.unique(maintain_order=True).head(SAMPLES).str.slice(0, 80)
        exprs.append(samples.implode().alias(f"s:{column}"))
    row = frame.select(exprs).row(0, named=True)
    return {
        column: ValueIssues(int(row[f"n:{column}"]), tuple(str(s) for s in row[f"s:{column}"]))
        for column in flagged
        if row[f"n:{column}"]
    }
