"""Ragged and blank records found over the bytes (load/shapes.py), against Python's csv module."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.load.shapes import Traits, row_shapes


def shapes(data: bytes, sep: str, width: int) -> tuple[tuple[int, ...], list[int]]:
    """`row_shapes` of in-memory text, with the traits the reader would find: (ragged, blank)."""
    ragged, blank, _ = row_shapes(data, sep, width, Traits.of(data))
    return ragged, blank


def test_short_long_and_blank_records_are_told_apart() -> None:
    data = b'id,name\n1,a\n2\n\n  \r\n3,b,c\n"4,x","y\nz"\n5,\n'
    # record 2 has one field, 5 has three; 3 is empty and 4 holds only whitespace; the quoted
    # delimiter and line end of record 6 do not count
    assert shapes(data, ",", 2) == ((2, 5), [3, 4])


def test_longer_tells_whether_a_ragged_record_has_more_fields_than_the_header() -> None:
    assert row_shapes(b"a,b\n1\n", ",", 2, Traits.of(b'"')).longer is False
    assert row_shapes(b"a,b\n1\n2,3,4\n", ",", 2, Traits.of(b"")).longer is True


def test_a_one_column_file_has_no_ragged_rows_unless_a_line_holds_the_delimiter() -> None:
    assert shapes(b"id\n1\n2\n\n3;4\n", ";", 1) == ((4,), [3])


def test_a_quoted_empty_field_is_a_field_not_a_blank_line() -> None:
    assert shapes(b'a,b\n""\n,\n', ",", 2) == ((1,), [])


def test_a_quote_inside_a_field_is_text() -> None:
    # the two inch marks were taken for one quoted span, which hid the delimiters between them
    data = b'id,name,product\n1,27" monitor,6" cable\n2,"a,b",x\n3,"say ""hi""",y|z\n4,5\n'
    assert shapes(data, ",", 3) == ((4,), [])
    assert shapes(data.replace(b",", b"|"), "|", 3) == ((3, 4), [])  # record 3's y|z counts


def test_the_last_line_without_a_line_end_is_read() -> None:
    assert shapes(b"a,b\n1,2\n3", ",", 2) == ((2,), [])
    assert shapes(b"a,b\n1,2\n", ",", 2) == ((), [])
    assert shapes(b"", ",", 2) == ((), [])


def _plain(text: str, sep: str, width: int) -> tuple[tuple[int, ...], list[int]]:
    """The definition: the csv module's records, [] being a blank line."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    ragged = tuple(i for i, r in enumerate(records) if i > 0 and r and len(r) != width)
    blank = [i for i, r in enumerate(records) if i > 0 and not r]
    return ragged, blank


field = st.text(alphabet='ab ,;"\n', max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(st.just([]), st.lists(field, min_size=1, max_size=4)),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([",", ";"]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_row_shapes_equals_the_csv_module(
    rows: list[list[str]], sep: str, end: str, last_end: bool
) -> None:
    # a lone field of spaces is blank to the loader but a record to the csv module
    rows = [r for r in rows if not (len(r) == 1 and r[0] and not r[0].strip())]
    if not rows or not rows[0]:
        return
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=end).writerows(rows)
    text = buffer.getvalue() if last_end else buffer.getvalue().removesuffix(end)
    if not last_end and not rows[-1]:
        return  # a blank last line without its line end is no line at all
    width = len(rows[0])
    assert shapes(text.encode(), sep, width) == _plain(text, sep, width)
