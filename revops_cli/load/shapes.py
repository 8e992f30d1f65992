"""Find the records of a CSV text whose field count differs from the header's, and blank lines.

Each physical line is read as one text cell; a record spans lines while its quotes are unbalanced.
A delimiter counts only outside quotes, so quoted text is removed first, and only in the records
that have quotes: a plain export (most big ones have no quote at all) is streamed in one light pass.
The reader runs it only for a file whose records two row counts do not show to be whole
(`reader._regular`): most exports never need it.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import polars as pl

# one cell per line: the "separator" is a control character the file does not hold
LINE_CELL_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02", "\x03")
LINE = pl.col("line")


@dataclass(frozen=True)
class Traits:
    """What the ragged-row pass must know of a file's text before reading it by lines."""

    line_separator: str | None  # a control character the text does not hold (None: all do)
    quoted: bool  # the text holds a quote

    @classmethod
    def of(cls, data: bytes | mmap.mmap) -> Traits:
        unused = next((c for c in LINE_CELL_SEPARATORS if data.find(c.encode()) < 0), None)
        return cls(unused, data.find(b'"') >= 0)


class Shapes(NamedTuple):
    """Data records (1-based, the header being record 0) with a field count other than the
    header's, the blank ones, and whether one of the ragged has more fields than the header."""

    ragged: tuple[int, ...]
    blank: list[int]
    longer: bool


def row_shapes(text: bytes | Path, sep: str, width: int, traits: Traits) -> Shapes:
    """The Shapes of the records of `text`, the CSV text or the file that holds it; `traits` are
    the text's (the reader has them before the parse)."""
    if traits.line_separator is None:
        return Shapes((), [], False)
    lines = pl.scan_csv(
        text,  # bytes are read without a copy, a file is mapped
        glob=False,
        has_header=False,
        separator=traits.line_separator,
        quote_char=None,
        schema={"line": pl.String},
        truncate_ragged_lines=True,
        raise_if_empty=False,
        encoding="utf8-lossy",
    ).with_row_index("record")
    # A plain file is streamed: each line is counted and dropped, never held all at once
    # (half the time of reading every line into a column first). Quotes can join lines into
    # one record, which needs the lines side by side.
    records = _unquoted(lines.collect(), sep).lazy() if traits.quoted else lines
    fields = LINE.str.count_matches(sep, literal=True).fill_null(0) + 1
    # only a one-field record can be blank; in a one-column file every record is a candidate
    odd = (
        records.with_columns(fields.alias("fields"))
        .filter((pl.col("record") > 0) & ((pl.col("fields") != width) | (pl.col("fields") == 1)))
        .collect(engine="streaming")
    )
    is_blank = LINE.is_null() | (LINE.str.strip_chars() == "")
    ragged = odd.filter(~is_blank & (pl.col("fields") != width))
    blank = odd.filter(is_blank)["record"].sort()
    longer = bool((ragged["fields"] > width).any())
    return Shapes(tuple(int(r) for r in ragged["record"].sort()), [int(r) for r in blank], longer)


def _unquoted(lines: pl.DataFrame, sep: str) -> pl.DataFrame:
    """Lines joined into records where quotes span line ends, and quoted fields removed from the
    records that have quotes (a `when` would run the regex on every line). A quote opens a
    field only where the field starts, as polars and Python's csv read it: `27" monitors` is
    text, and its delimiter after counts."""
    quotes = LINE.str.count_matches('"', literal=True).fill_null(0).alias("quotes")
    frame = lines.with_columns(quotes)
    if frame.select((pl.col("quotes") % 2 == 1).any()).item():
        starts = (pl.col("quotes").cum_sum() - pl.col("quotes")) % 2 == 0
        frame = (
            frame.with_columns((starts.cast(pl.UInt32).cum_sum() - 1).alias("record"))
            .group_by("record", maintain_order=True)
            .agg(LINE.str.join("\n"), pl.col("quotes").sum())
        )
    plain = frame.filter(pl.col("quotes") == 0)
    # quoted text becomes one letter: its delimiters go, and a quoted empty field is not blank
    field = rf'(^|[{_in_class(sep)}])"(?:[^"]|"")*"'
    quoted = frame.filter(pl.col("quotes") > 0).with_columns(LINE.str.replace_all(field, "${1}q"))
    return pl.concat([plain, quoted]).select("record", "line")


def _in_class(char: str) -> str:
    """`char` as a member of a regular expression's character class."""
    return "\\" + char if char in "\\]^-[" else char
