"""Read one export file into text columns: encoding, compression, delimiter, header, ragged rows.

Every file is read from disk once. What cannot be a CSV at all (a folder, an Excel workbook, binary
bytes, undecodable text) raises InputError; everything else loads, and problems in the rows become
data for the audit (ragged rows, an empty file).
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import csv
import gzip
import io
import mmap
import re
import zlib
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from revops_cli.errors import InputError
from revops_cli.load.shapes import Traits, row_shapes
from revops_cli.schema import ROW

HEAD_BYTES = 64 * 1024
BINARY_PROBE = 8 * 1024
ROW_COUNT_BYTES = 64 * 1024 * 1024  # text before a bad byte that is read for its row number
DELIMITERS = (",", ";", "\t", "|")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")  # tested first: LE starts as UTF-16's
WIDE_BOMS = (*UTF32_BOMS, *UTF16_BOMS)
UTF8_BOM = b"\xef\xbb\xbf"
NOT_SPACE = re.compile(rb"\S")
# Excel's first line naming the delimiter (a European Excel saves `sep=;`); not the header
EXCEL_SEP = re.compile(rb"(?i)sep=([^\r\n])\r?\n")
BARE_CR = re.compile(rb"\r(?!\n)")
EXPORT_HINT = "export the data as CSV (File > Save as > CSV UTF-8)"
Text = bytes | mmap.mmap  # a file's UTF-8 text: converted bytes, or the plain file mapped


def raw_name(header: str) -> str:
    """The name of `header`'s column in a RawTable's frame: the header itself, unless polars
    would read it as a pattern (`*`, `^...$`) or it is the row number's name. Those get a NUL
    in front, as does a header that starts with one, so that no two headers share a name."""
    pattern = header == "*" or (header.startswith("^") and header.endswith("$"))
    if pattern or header == ROW or header.startswith("\0"):
        return "\0" + header
    return header


@dataclass(frozen=True)
class RawTable:
    """The text of one file: `frame` has a String column per header (in order; named by
    `raw_name`) plus `_row`, and a row per data row that has the header's number of fields."""

    headers: tuple[str, ...]
    duplicate_headers: tuple[str, ...]
    frame: pl.DataFrame
    delimiter: str
    ragged_rows: tuple[int, ...]
    rows: int  # data rows in the file, ragged ones included


def read_raw(
    path: Path,
    delimiter: str | None,
    encoding: str,
    select: Callable[[tuple[str, ...]], Collection[str]] | None = None,
) -> RawTable | None:
    """Read `path` as CSV; None when it has not even a header row (an empty file, rule S006).

    `select` picks, from the header row, the headers a run needs; the other columns are not
    parsed (they still count for ragged rows and the header lists). Ragged rows are listed and
    left out of `frame` (SCHEMA.md: they are reported, and the rest of the file loads).
    """
    # polars reads a plain file itself (mapped, not copied); other files from their UTF-8 bytes
    mapped = _mapped(path, encoding)
    if mapped is None:
        data = _skip_blank_lines(_utf8_bytes(path, _read_bytes(path), encoding))
        _forget_stream(path)
        data, excel = _excel_sep(data)
        return _read_text(path, data, data, delimiter or excel, select)
    with mapped:
        return _read_text(path, mapped, path, delimiter, select)


def _mapped(path: Path, encoding: str) -> mmap.mmap | None:
    """`path` mapped in memory when it is plain UTF-8 that polars can read as it is: no
    compression, BOM or blank line before the header, LF line ends; else None."""
    if codecs.lookup(encoding).name != "utf-8" or not path.is_file():
        return None  # a pipe is read once, the ordinary way
    head = _read_bytes(path, HEAD_BYTES)
    if (
        head.startswith((b"\x1f\x8b", UTF8_BOM, *WIDE_BOMS))
        or head[:1].isspace()
        or EXCEL_SEP.match(head)
        or b"\n" not in head  # also an empty file
        or _cr_lines(head)  # an old Mac one (CR line ends)
    ):
        return None
    _refuse_non_text(path, head[:BINARY_PROBE], encoding)
    try:
        with path.open("rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None  # read the ordinary way, which reports what is wrong


def _read_text(
    path: Path,
    data: Text,
    source: Path | bytes,
    delimiter: str | None,
    select: Callable[[tuple[str, ...]], Collection[str]] | None,
) -> RawTable | None:
    header_line = _first_line(path, data)
    traits = Traits.of(data)
    if isinstance(data, mmap.mmap) and hasattr(data, "madvise"):  # not on Windows
        # polars maps the file again to parse it: the pages of this mapping, read for the
        # traits, are let go so that the file is not counted twice in the process's memory
        data.madvise(mmap.MADV_DONTNEED)
    if not header_line.strip():
        return None
    head = data[:HEAD_BYTES].decode("utf-8", errors="ignore")
    sep, record = _header_of(head, header_line, delimiter)
    headers = _parse_header(path, record, sep)
    width = len(headers)
    first: dict[str, int] = {}
    duplicates: list[str] = []
    for index, header in enumerate(headers):
        if header in first:
            duplicates.append(header)  # D33: the first occurrence is used
        else:
            first[header] = index
    unique = tuple(first)
    wanted = set(select(unique)) if select is not None else set(unique)
    keep = [(header, index) for header, index in first.items() if header in wanted]
    columns = [f"c{i}" for i in range(width)]
    try:
        frame, ragged, blank = _records(path, data, source, sep, columns, keep, traits)
    except _Malformed:
        frame, ragged, blank = _parse_leniently(path, data[:], sep, width, keep)
    if blank:  # a blank line is not a record; polars reads it as a row of nulls
        frame = frame.with_row_index("_record", offset=1).filter(~pl.col("_record").is_in(blank))
        frame = frame.drop("_record")
        ragged = _data_rows(ragged, blank)
    # `_row` is the data row of the file (CHECKS.md `table:row N`), blank lines not counted
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    rows = frame.height  # 0 for a header alone: S006, though its header is still mapped
    if ragged:  # its fields are out of line with the header: reported (S002), not loaded
        frame = frame.filter(~pl.col(ROW).is_in(list(ragged)))
    frame = frame.select(
        ROW, *(pl.col(f"c{index}").alias(raw_name(header)) for header, index in keep)
    )
    return RawTable(unique, tuple(duplicates), frame, sep, ragged, rows)


def _data_rows(records: tuple[int, ...], blank: list[int]) -> tuple[int, ...]:
    """Record numbers (blank lines counted) as data rows (blank lines not counted)."""
    return tuple(r - bisect.bisect_left(blank, r) for r in records)


def _records(
    path: Path,
    data: Text,
    source: Path | bytes,
    sep: str,
    columns: list[str],
    keep: list[tuple[str, int]],
    traits: Traits,
) -> tuple[pl.DataFrame, tuple[int, ...], list[int]]:
    """The kept columns of the data rows (as `_parse` reads them), the ragged records and the
    blank ones (as `row_shapes` finds them)."""
    strict = traits.line_separator is not None and len(columns) >= 2  # see `_regular`
    regular = _regular(data, source, sep, columns, keep, traits)
    if regular is None:
        # the ragged-row pass and the parse read the same bytes: one runs beside the other
        with ThreadPoolExecutor(max_workers=1) as pool:
            shapes = pool.submit(row_shapes, source, sep, len(columns), traits)
            frame = _parse(path, data, source, sep, columns, keep)
            ragged, blank, longer = shapes.result()
        if traits.line_separator is None or (strict and (not longer or traits.quoted)):
            # polars refused a record as longer than the header, and the pass found none: a
            # quote inside a field (`x "y,z"`, ` "a,b"`) is text to polars, and its delimiters
            # count; the truncated parse would shift that record's values silently, also when
            # another record is longer indeed (so any refused text with quotes goes there). A
            # text that holds every line-cell separator cannot be passed over at all.
            raise _Malformed("a quote inside a field")
        return frame, ragged, blank
    frame, whole = regular
    if whole:
        return frame, (), []
    ragged, blank, _ = row_shapes(source, sep, len(columns), traits)  # short or blank records
    return frame, ragged, blank


def _regular(
    data: Text,
    source: Path | bytes,
    sep: str,
    columns: list[str],
    keep: list[tuple[str, int]],
    traits: Traits,
) -> tuple[pl.DataFrame, bool] | None:
    """The kept columns of the data rows, and whether every record provably has the header's
    field count; None when polars refuses the strict parse (a record has more fields, or the
    text is malformed), and the rows are then checked one by one.

    The proof costs two row counts instead of reading every line (the ragged-row pass takes
    most of a parse). The strict parse fails on a record with more fields than the header's,
    so no record has more; then the delimiters outside quotes number (fields - 1) x records
    only if no record has fewer, and the records are the parsed rows only if no line is blank
    or skipped (a blank line has no delimiter).
    """
    if traits.line_separator is None or len(columns) < 2:
        return None  # no count can be made; one field per record is always the header's count
    try:
        # every column: polars checks the field count only when it reads them all (a column
        # that is not kept costs less than reading every line again, or than ignore_errors)
        frame = pl.read_csv(
            source,
            glob=False,
            has_header=False,
            skip_rows=1,
            separator=sep,
            schema=dict.fromkeys(columns, pl.String),
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    frame = frame.select(columns[index] for index in sorted({i for _, i in keep} or {0}))
    records = _count(source, "\n", traits)  # records, the header's included
    delimiters = _count(source, sep, traits) - (data[-1:] != sep.encode())
    regular = frame.height == records - 1 and delimiters == (len(columns) - 1) * records
    return frame, regular


def _count(source: Path | bytes, end: str, traits: Traits) -> int:
    """The pieces of the text ended by `end` outside quotes (a last piece without it counts):
    polars counts them without reading any field."""
    pieces = pl.scan_csv(
        source,
        glob=False,
        has_header=False,
        separator=traits.line_separator or "\x1f",
        quote_char='"' if traits.quoted else None,
        eol_char=end,
        schema={"piece": pl.String},
        raise_if_empty=False,
    )
    return int(pieces.select(pl.len()).collect().item())


def _parse(
    path: Path,
    data: Text,
    source: Path | bytes,
    sep: str,
    columns: list[str],
    keep: list[tuple[str, int]],
) -> pl.DataFrame:
    """The kept columns of the data rows as text (the header row skipped)."""
    try:
        return pl.read_csv(
            source,  # a path or bytes, not BytesIO: polars reads them without a copy
            glob=False,
            has_header=False,
            skip_rows=1,
            separator=sep,
            schema=dict.fromkeys(columns, pl.String),
            columns=[index for _, index in keep] or [0],
            truncate_ragged_lines=True,
            missing_columns="insert",
            extra_columns="ignore",
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
            _decode(path, data[:], "utf-8")  # raises, naming the line of the first bad byte
        raise _Malformed(_first(str(exc))) from None


class _Malformed(Exception):
    """polars refused the text: a quote where its CSV grammar allows none."""


def _parse_leniently(
    path: Path, data: bytes, sep: str, width: int, keep: list[tuple[str, int]]
) -> tuple[pl.DataFrame, tuple[int, ...], list[int]]:
    """What `_parse` gives, with the ragged and blank records, read by Python's csv module.

    It reads what polars refuses: a quote inside an unquoted field is text (`5" screen`), and
    an unclosed quote runs to the end of the file (one long field; the record is ragged when
    that leaves it short). Row by row in Python, so only for files polars cannot read.
    """
    text = data.decode("utf-8")  # polars found no bad UTF-8
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))[1:]
    except csv.Error as exc:
        raise InputError(f"{path}: cannot be read as CSV: {exc}", EXPORT_HINT) from None
    # a line of white space is blank, a quoted empty field (`""`, read as ['']) is a record, as
    # `row_shapes` counts them
    blank = [
        n
        for n, r in enumerate(records, 1)
        if not r or (r != [""] and len(r) == 1 and not r[0].strip())
    ]
    ragged = tuple(n for n, r in enumerate(records, 1) if len(r) != width and n not in blank)
    cells = {
        f"c{i}": [r[i] if i < len(r) and r[i] != "" else None for r in records]
        for _, i in keep or [("", 0)]
    }
    return pl.DataFrame(cells, schema=dict.fromkeys(cells, pl.String)), ragged, blank


def read_headers(path: Path, delimiter: str | None, encoding: str) -> tuple[str, ...]:
    """Only the header row of `path` (for config validation and `init`); () for an empty file."""
    head = _read_bytes(path, HEAD_BYTES)
    if head.startswith(b"\x1f\x8b"):
        head = _gunzip(path, _read_bytes(path))[:HEAD_BYTES]
    line, excel, text = _decode_head(path, head, encoding)
    if not line.strip():
        return ()
    sep, record = _header_of(text, line, delimiter or excel)
    return _parse_header(path, record, sep)


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter seen most often outside quotes in the header line (ties: comma)."""
    outside = "".join(part for i, part in enumerate(header_line.split('"')) if i % 2 == 0)
    counts = {sep: outside.count(sep) for sep in DELIMITERS}
    best = max(DELIMITERS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _read_bytes(path: Path, limit: int = -1) -> bytes:
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a CSV file", "point the source path at a file")
    try:
        if path.exists() and not path.is_file():
            return _stream_bytes(path, limit)
        with path.open("rb") as handle:
            return handle.read(limit)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found", "check the source path in the config") from None
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the file: {exc.strerror}", "check the file's permissions"
        ) from None


# What was read of each pipe or other file that is not a regular one (`/dev/stdin`, a FIFO):
# such a file can be read only once, and the header check reads it before the load does. The
# bytes read so far, and the open file until its end is reached.
_STREAMS: dict[Path, tuple[bytes, BinaryIO | None]] = {}


def _stream_bytes(path: Path, limit: int) -> bytes:
    """The first `limit` bytes of a pipe (all with -1), read once for the whole run."""
    if path not in _STREAMS:
        _STREAMS[path] = (b"", path.open("rb"))
    data, handle = _STREAMS[path]
    if handle is not None and (limit < 0 or len(data) < limit):
        data += handle.read(limit - len(data) if limit >= 0 else -1)
        if limit < 0 or len(data) < limit:  # the end was reached
            handle.close()
            handle = None
        _STREAMS[path] = (data, handle)
    return data if limit < 0 else data[:limit]


def _forget_stream(path: Path) -> None:
    """Let go of a pipe's bytes once the load has read them."""
    _STREAMS.pop(path, None)


def _gunzip(path: Path, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        raise InputError(
            f"{path}: is not a valid .gz file", "re-export or re-compress it"
        ) from None


def _utf8_bytes(path: Path, data: bytes, encoding: str) -> bytes:
    """The file's text as UTF-8 bytes without BOM, whatever its compression and encoding.

    A BOM is always honoured (SCHEMA.md): it wins over the configured `encoding`.
    """
    if data.startswith(b"\x1f\x8b"):
        data = _gunzip(path, data)
    _refuse_non_text(path, data[:BINARY_PROBE], encoding)
    if data.startswith(WIDE_BOMS):
        data, encoding = _decode(path, data, _bom_codec(data)).encode("utf-8"), "utf-8"
    elif data.startswith(UTF8_BOM):
        data, encoding = data[len(UTF8_BOM) :], "utf-8"
    if encoding != "utf-8":
        data = _decode(path, data, encoding).encode("utf-8")
    return _old_mac(data)  # polars checks that UTF-8 is valid while parsing


def _wide(encoding: str) -> bool:
    """Whether `encoding` has NUL bytes in plain text (UTF-16 and UTF-32, D33)."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _excel_sep(data: bytes) -> tuple[bytes, str | None]:
    """`data` without Excel's `sep=X` line, and X; (data, None) when it has none."""
    found = EXCEL_SEP.match(data)
    if found is None:
        return data, None
    return _skip_blank_lines(data[found.end() :]), found[1].decode("utf-8", errors="replace")


def _skip_blank_lines(data: bytes) -> bytes:
    """`data` from its first line with text: blank lines before the header row are not rows."""
    if not data[:1].isspace():
        return data  # the usual case: the header starts at the first byte
    text = NOT_SPACE.search(data)
    if text is None:
        return b""
    return data[data.rfind(b"\n", 0, text.start()) + 1 :]  # the header line whole


def _bom_codec(data: bytes) -> str:
    """The codec of a UTF-32 or UTF-16 BOM at the start of `data` (it reads the BOM itself)."""
    return "utf-32" if data.startswith(UTF32_BOMS) else "utf-16"


def _refuse_non_text(path: Path, head: bytes, encoding: str) -> None:
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: is an Excel workbook or zip archive, not CSV", EXPORT_HINT)
    if b"\x00" in head and not head.startswith(WIDE_BOMS) and not _wide(encoding):
        order = _utf16_without_bom(head)
        if order is not None:
            raise InputError(
                f"{path}: looks like UTF-16 text without a byte order mark",
                f"set `encoding: utf-16-{order}` for this source in the config",
            )
        raise InputError(f"{path}: is a binary file, not CSV text", EXPORT_HINT)


def _utf16_without_bom(head: bytes) -> str | None:
    """'le' or 'be' when `head` reads as UTF-16 text in that byte order: its header line (ASCII
    in practice) has a NUL beside every character, and the whole decodes; else None."""
    for order, first in (("le", 1), ("be", 0)):
        end = next((i for i in range(first ^ 1, len(head) - 1, 2) if head[i] == 10), len(head))
        line = head[: end - end % 2]
        if len(line) < 4 or line[first::2].count(0) != len(line) // 2 or 0 in line[first ^ 1 :: 2]:
            continue  # UTF-32 has NULs on both sides
        try:  # the head may end inside a character: not final
            codecs.getincrementaldecoder(f"utf-16-{order}")().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return order
    return None


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: {_where(exc.object[: exc.start], encoding)} is not valid {encoding} "
            f"(byte {exc.object[exc.start]:#04x})",
            "set `encoding:` for this source in the config (for example cp1252 or latin-1)",
        ) from None


def _where(before: bytes, encoding: str) -> str:
    """The record holding the first bad byte, `before` being the text before it: 'the header'
    or 'row N', the data row as CHECKS.md numbers them (D33: quoted line breaks join lines, and
    blank lines are not rows). Beyond ROW_COUNT_BYTES, the line (the count is row by row)."""
    text = before.decode(encoding)
    if len(before) > ROW_COUNT_BYTES:
        return f"line {text.count(chr(10)) + 1}"
    lines = [line for line in text.splitlines() if line.strip()]
    excel = bool(lines) and EXCEL_SEP.match(lines[0].lstrip("\ufeff").encode() + b"\n") is not None
    first = lines[1] if excel and len(lines) > 1 else lines[0] if lines else ""
    # a letter in the bad byte's place ends the text inside the bad byte's record, whether that
    # record starts at the byte or a quoted field runs on into it
    reader = csv.reader(io.StringIO(text + "x", newline=""), delimiter=sniff_delimiter(first))
    try:
        records = sum(1 for r in reader if r and (len(r) > 1 or r[0].strip())) - excel
    except csv.Error:
        return f"line {text.count(chr(10)) + 1}"
    return "the header" if records <= 1 else f"row {records - 1}"


def _decode_head(path: Path, head: bytes, encoding: str) -> tuple[str, str | None, str]:
    """The header line of the first bytes of a file, decoded strictly (D33), the delimiter of
    an Excel `sep=` line before it, and the text from the header on; a BOM wins over `encoding`,
    and blank lines before the header are skipped."""
    _refuse_non_text(path, head[:BINARY_PROBE], encoding)
    if head.startswith(UTF8_BOM):  # before a UTF-16 `encoding`: the BOM wins, as in _utf8_bytes
        head, encoding = head[len(UTF8_BOM) :], "utf-8"
    elif head.startswith(WIDE_BOMS) or _wide(encoding):
        wide = _bom_codec(head) if head.startswith(WIDE_BOMS) else encoding
        text = head.decode(wide, errors="ignore").lstrip("\ufeff").replace("\r\n", "\n")
        head, encoding = text.encode("utf-8"), "utf-8"
    # bare CR line ends once the text is 8-bit: a UTF-16 character may hold a 0x0D byte (č)
    head, excel = _excel_sep(_skip_blank_lines(_old_mac(head)))
    end = head.find(b"\n")
    line = _decode(path, head if end < 0 else head[:end], encoding).rstrip("\r")
    return line, excel, head.decode(encoding, errors="ignore")


def _old_mac(data: bytes) -> bytes:
    """Line ends of bare CR (old Mac exports, Excel's "CSV (Macintosh)") as LF; other files
    unchanged. Such a file may still hold LF inside quoted cells (Excel writes a line break in
    a cell so): only a CR without an LF after it is a line end."""
    if _cr_lines(data):
        return BARE_CR.sub(b"\n", data)
    return data


def _cr_lines(data: bytes) -> bool:
    """Whether the first line ends with a bare CR."""
    cr, lf = data.find(b"\r"), data.find(b"\n")
    return cr >= 0 and (lf < 0 or cr < lf) and data[cr + 1 : cr + 2] != b"\n"


def _first_line(path: Path, data: Text) -> str:
    end = data.find(b"\n")
    line = data[:end] if end >= 0 else data[:]
    try:
        return line.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return _decode(path, line, "utf-8")  # raises, naming line 1


def _header_of(head: str, line: str, delimiter: str | None) -> tuple[str, str]:
    """The delimiter (`delimiter`, else sniffed on the whole header record) and the header
    record, read with that delimiter."""
    if delimiter:
        return delimiter, _header_record(head, line, delimiter)
    record = _header_record(head, line, None)
    sep = sniff_delimiter(record)
    if sep != sniff_delimiter(line):  # the record's lines were found with another delimiter
        record = _header_record(head, line, sep)
    return sep, record


def _header_record(head: str, line: str, sep: str | None) -> str:
    """The header row, `line` or more: a quoted header cell may hold a line break (a record
    that spans lines, as the parse reads it). `head` is the text from the header on, up to
    HEAD_BYTES; `sep` the delimiter when known (the lines of the record do not depend on it:
    a quote opens a cell at the start of the line or after any delimiter it is read with)."""
    if line.count('"') % 2 == 0:
        return line
    text = head.lstrip("\ufeff")
    lines = text.split("\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep or sniff_delimiter(line))
    with contextlib.suppress(csv.Error, StopIteration):
        next(reader)
        # the record ends inside the head, or the head is the whole text
        if reader.line_num < len(lines) or len(head.encode()) < HEAD_BYTES:
            return "\n".join(lines[: reader.line_num])
    return line


def _parse_header(path: Path, line: str, sep: str) -> tuple[str, ...]:
    try:
        fields = next(csv.reader([line.replace("\r", "")], delimiter=sep), [])
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read the header row: {exc}", EXPORT_HINT) from None
    return tuple(field.strip().lstrip("\ufeff").strip() for field in fields)


def _first(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"
