"""The one-format fast path for date columns gives exactly what the general parsers give."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.load import parse
from revops_cli.load.fastdates import FAST_FORMATS, choose, fast_parse, guess_format
from revops_cli.schema import ColumnType

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
FORMATS = [fmt for _, fmt in FAST_FORMATS]


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [
        ("2024-07-01T10:00:00", "%Y-%m-%dT%H:%M:%S"),
        ("2024-07-01 10:00:00", "%Y-%m-%d %H:%M:%S"),
        ("2024-07-01 10:00", "%Y-%m-%d %H:%M"),
        ("2024-07-01", "%Y-%m-%d"),
        ("2024-07-01T10:00:00Z", None),  # offsets take the general path
        ("01/07/2024", None),
        (None, None),
    ],
)
def test_guess_format(sample: str | None, fmt: str | None) -> None:
    assert guess_format(sample) == fmt


@settings(max_examples=60, deadline=None)
@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 12, 31)),
        min_size=1,
        max_size=20,
    ),
    fmt=st.sampled_from(FORMATS),
    zone=st.sampled_from(ZONES),
    kind=st.sampled_from([ColumnType.DATE, ColumnType.DATETIME]),
)
def test_fast_path_equals_the_general_parser(
    moments: list[datetime], fmt: str, zone: str, kind: ColumnType
) -> None:
    # daylight-saving gaps and repeats included: the zones above have them
    frame = pl.DataFrame({"raw": [m.strftime(fmt) for m in moments] + [" ", None]})
    general = parse.parse_date if kind is ColumnType.DATE else parse.parse_datetime
    expected = frame.select(general(pl.col("raw"), (), zone)).to_series()
    fast = frame.select(fast_parse(kind, pl.col("raw"), fmt, zone)).to_series()
    assert fast.to_list() == expected.to_list()
    assert fast.dtype == expected.dtype


def test_choose_falls_back_when_one_cell_needs_another_format() -> None:
    raw = pl.DataFrame(
        {
            "plain": ["2024-07-01", "2024-07-02", None],
            "mixed": ["2024-07-01", "01/07/2024", "2024-07-03"],
            "offset": ["2024-07-01T10:00:00Z", None, None],
        }
    )
    candidates = {c: (ColumnType.DATE, pl.col(c)) for c in raw.columns}
    assert set(choose(raw, candidates, "UTC")) == {"plain"}
