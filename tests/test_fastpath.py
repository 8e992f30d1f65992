"""The fast paths give, cell by cell, exactly what the general parsers give, or leave the cell."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.load import parse
from revops_cli.load.fastpath import (
    FAST_FORMATS,
    fast_date,
    fast_integer,
    fast_number,
    guess_format,
)
from revops_cli.schema import ColumnType

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
FORMATS = [fmt for _, fmt, _ in FAST_FORMATS]
KINDS = st.sampled_from([ColumnType.DATE, ColumnType.DATETIME])


@pytest.mark.parametrize(
    ("sample", "guess"),
    [
        ("2024-07-01T10:00:00", ("%Y-%m-%dT%H:%M:%S", False)),
        ("2024-07-01 10:00:00", ("%Y-%m-%d %H:%M:%S", False)),
        ("2024-07-01 10:00", ("%Y-%m-%d %H:%M", False)),
        ("2024-07-01", ("%Y-%m-%d", False)),
        ("2024-07-01T10:00:00Z", ("%Y-%m-%dT%H:%M:%SZ", True)),
        ("2024-07-01T10:00:00.000+0000", ("%Y-%m-%dT%H:%M:%S%.3f+0000", True)),
        ("2024-07-01T10:00:00+02:00", None),  # other offsets take the general path
        ("01/07/2024", None),
        (None, None),
    ],
)
def test_guess_format(sample: str | None, guess: tuple[str, bool] | None) -> None:
    assert guess_format(sample) == guess


def _same_where_taken(raw: list[str | None], fast: pl.Expr, general: pl.Expr) -> pl.Series:
    frame = pl.DataFrame({"raw": raw}, schema={"raw": pl.String})
    both = frame.select(fast.alias("fast"), general.alias("general"))
    taken = both.filter(pl.col("fast").is_not_null())
    # repr tells -0.0 from 0.0
    assert [repr(v) for v in taken["fast"]] == [repr(v) for v in taken["general"]]
    assert both["fast"].dtype == both["general"].dtype
    return both["fast"]


def _general(kind: ColumnType, zone: str) -> pl.Expr:
    parser = parse.parse_date if kind is ColumnType.DATE else parse.parse_datetime
    return parser(pl.col("raw"), (), zone)


@settings(max_examples=80, deadline=None)
@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 12, 31)),
        min_size=1,
        max_size=20,
    ),
    fmt=st.sampled_from(FORMATS),
    zone=st.sampled_from(ZONES),
    kind=KINDS,
)
def test_fast_dates_take_every_cell_of_their_format(
    moments: list[datetime], fmt: str, zone: str, kind: ColumnType
) -> None:
    # daylight-saving gaps and repeats included: the zones above have them
    raw = [m.strftime(fmt.replace("%.3f", ".000")) for m in moments]
    fast = fast_date(kind, pl.col("raw"), raw[0], zone)
    assert fast is not None
    values = _same_where_taken([*raw, " ", None], fast, _general(kind, zone))
    # every cell of the format is taken, except the local times a spring-forward gap skips
    # (the general parser reads those on the cells the fast path leaves)
    gaps = 0
    if kind is ColumnType.DATETIME and not fmt.endswith(("Z", "+0000")):
        naive = pl.Series(moments).dt.replace_time_zone(zone, non_existent="null")
        gaps = naive.null_count()
    assert values.head(len(raw)).null_count() == gaps


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(st.text(alphabet="0123456789-:T Z.+", min_size=8, max_size=28), max_size=12),
    fmt=st.sampled_from(FORMATS),
    zone=st.sampled_from(ZONES),
    kind=KINDS,
)
def test_fast_dates_never_read_a_cell_differently(
    cells: list[str], fmt: str, zone: str, kind: ColumnType
) -> None:
    # '2024-7-1T1:2:3' and '+2024-07-01T10:00:00Z' are read by strptime but not by the general
    # parser: the fast path must leave such cells alone
    sample = datetime(2024, 7, 1, 10, 0).strftime(fmt.replace("%.3f", ".000"))
    fast = fast_date(kind, pl.col("raw"), sample, zone)
    assert fast is not None
    _same_where_taken(
        ["2024-7-1T1:2:3", "+2024-07-01T10:00:00Z", *cells], fast, _general(kind, zone)
    )


@settings(max_examples=400, deadline=None)
@given(cells=st.lists(st.text(alphabet="0123456789.,-+eE_xafinNI $()% \u00a0", max_size=12)))
def test_fast_numbers_never_read_a_cell_differently(cells: list[str]) -> None:
    _same_where_taken(cells, fast_number(pl.col("raw")), parse.parse_money(pl.col("raw")))


@settings(max_examples=400, deadline=None)
@given(cells=st.lists(st.text(alphabet="0123456789.,-+eE_x $ ", max_size=22)))
def test_fast_integers_never_read_a_cell_differently(cells: list[str]) -> None:
    big = ["9223372036854775807", "9223372036854775808", "9007199254740993", "-9007199254740993"]
    raw = [*cells, *big, "9007199254740992", "-0", "007", "3.0"]
    _same_where_taken(raw, fast_integer(pl.col("raw")), parse.parse_integer(pl.col("raw")))


def test_fast_numbers_leave_what_the_grammar_rejects_or_reads_otherwise() -> None:
    raw = ["1234.5", "-0", " 7 ", "1e5", "inf", "NaN", "1,234.50", "(5)", "9" * 400, None]
    frame = pl.DataFrame({"raw": raw}).select(fast_number(pl.col("raw")))
    # " 7 " too: the general parser trims it
    assert frame.to_series().to_list() == [1234.5, 0.0, *[None] * 8]
    assert str(frame.item(1, 0)) == "0.0"  # +0.0, not -0.0 (D27)


def test_a_column_with_a_few_odd_cells_is_read_whole(tmp_path: Path) -> None:
    from revops_cli.config import load_config
    from revops_cli.load.dataset import load_dataset

    (tmp_path / "deals.csv").write_text(
        "deal_id,amount,created_at\n"
        "d1,100.50,2024-07-01T10:00:00Z\n"
        'd2,"$1,200.00",2024-07-02T09:00:00+02:00\n'
        "d3,TBD,01/07/2024\n"
        "d4,-0,2024-07-03T10:00:00Z\n"
    )
    (tmp_path / "c.yaml").write_text(
        "version: 1\nsources:\n  deals:\n    path: deals.csv\n    date_format: ['%d/%m/%Y']\n"
    )
    config = load_config(tmp_path / "c.yaml")
    data = load_dataset(config, datetime(2024, 8, 1).date())
    deals = data.tables["deals"]
    assert deals["amount"].to_list() == [100.5, 1200.0, None, 0.0]
    assert [str(t) for t in deals["created_at"].to_list()] == [
        "2024-07-01 10:00:00+00:00",
        "2024-07-02 07:00:00+00:00",
        "2024-07-01 00:00:00+00:00",
        "2024-07-03 10:00:00+00:00",
    ]
    failures = data.loads["deals"].parse_failures
    assert set(failures) == {"amount"}
    assert failures["amount"].count == 1
    assert failures["amount"].samples == ("TBD",)


def test_a_cell_fails_when_it_has_text_but_no_value(tmp_path: Path) -> None:
    # the S002 count: blank, whitespace-only (non-breaking space too) and empty cells are missing
    # values, not failures; the fast path and the general parser agree on the rest
    (tmp_path / "deals.csv").write_text(
        "deal_id,amount,close_date,created_at\n"
        "d1,abc,2024-02-30,2024-07-01T10:00:00\n"
        'd2,"$1,2,3",2024-07-01,maybe\n'
        "d3,12,2024-07-02,2024-07-01T10:00:00\n"
        'd4,,,""\n'
        "d5,  \u00a0 , ,2024-07-01T10:00:00\n",
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text("version: 1\nsources:\n  deals:\n    path: deals.csv\n")
    from revops_cli.config import load_config
    from revops_cli.load.dataset import load_dataset

    data = load_dataset(load_config(tmp_path / "c.yaml"), datetime(2024, 8, 1).date())
    failures = data.loads["deals"].parse_failures
    assert {c: (v.count, v.samples) for c, v in failures.items()} == {
        "amount": (2, ("abc", "$1,2,3")),
        "close_date": (1, ("2024-02-30",)),
        "created_at": (1, ("maybe",)),
    }
    assert data.tables["deals"]["amount"].to_list() == [None, None, 12.0, None, None]
