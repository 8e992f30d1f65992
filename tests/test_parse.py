"""Tests of revops_cli.load.parse: raw CSV text -> canonical types (SCHEMA.md, D16, D25, D27)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revops_cli.load.parse import (
    clean_text,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_failed,
    parse_integer,
    parse_money,
    parse_number,
)

Parser = Callable[[pl.Expr], pl.Expr]


def run(parser: Parser, values: Sequence[str | None], *, lazy: bool = False) -> pl.Series:
    """Evaluate `parser` over a String column holding `values`."""
    df = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    if lazy:
        return df.lazy().select(parser(pl.col("raw"))).collect().to_series()
    return df.select(parser(pl.col("raw"))).to_series()


def one(parser: Parser, value: str | None) -> Any:
    return run(parser, [value]).item()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# --- clean_text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00123", "00123"),
        ("  00123  ", "00123"),
        ("001234567890123456", "001234567890123456"),
        ("\u00a0abc\u202f", "abc"),
        ("\ufeff\u200bx\u3000", "x"),
        ("\tAcme Corp\r\n", "Acme Corp"),
        ("a  b", "a  b"),
        ("", None),
        ("   ", None),
        ("\u00a0\t", None),
        (None, None),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert one(clean_text, raw) == expected


# --- money ---------------------------------------------------------------------------------------

MONEY_DOT = [
    ("$1,234.50", 1234.5),
    # any currency sign in use, R$ or US$ style dollars, and codes in any case
    ("₹1,234.00", 1234.0),
    ("₩1,234", 1234.0),
    ("US$ 100", 100.0),
    ("usd 100", 100.0),
    ("100 Eur", 100.0),
    ("1,234,567", 1234567.0),
    ("1,234", 1234.0),
    ("1234.5", 1234.5),
    ("1234", 1234.0),
    ("  42  ", 42.0),
    ("007", 7.0),
    ("0", 0.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("1,234.", 1234.0),
    ("1 234.50", 1234.5),
    ("1\u00a0234.50", 1234.5),
    ("1\u202f234\u202f567", 1234567.0),
    ("1'234.50", 1234.5),
    ("1\u2019234.50", 1234.5),
    ("USD 100", 100.0),
    ("USD100", 100.0),
    ("100 EUR", 100.0),
    ("100EUR", 100.0),
    ("€ 99", 99.0),
    ("£1,000", 1000.0),
    ("¥500", 500.0),
    ("1,000 USD", 1000.0),
    ("$1,234.50 USD", 1234.5),
    ("-$5.00", -5.0),
    ("$-5.00", -5.0),
    ("$ -5.00", -5.0),
    ("- 5", -5.0),
    ("-5", -5.0),
    ("+5", 5.0),
    ("+$5", 5.0),
    ("120.00-", -120.0),
    ("$120.00-", -120.0),
    ("(120.00)", -120.0),
    ("($120.00)", -120.0),
    ("( 1,234.50 )", -1234.5),
    ("(120.00 USD)", -120.0),
    ("-0", 0.0),
    ("-0.00", 0.0),
    ("(0.00)", 0.0),
    ("0.00-", 0.0),
    ("9" * 99 + ".5", float("9" * 99 + ".5")),  # just under 1e100
    # invalid
    ("$1,2,3", None),
    ("12,34", None),
    ("1,2345", None),
    ("1,234 567", None),
    ("1,234.5.6", None),
    ("1.234,56", None),
    ("1e5", None),
    ("1E5", None),
    ("1e309", None),
    ("inf", None),
    ("-inf", None),
    ("Infinity", None),
    ("NaN", None),
    ("nan", None),
    ("N/A", None),
    ("null", None),
    ("none", None),
    ("-", None),
    ("$", None),
    ("USD", None),
    ("¢50", None),  # cents: not a currency sign of the amount
    ("Rs 5", None),
    ("--5", None),
    ("+-5", None),
    ("(-5)", None),
    ("-5-", None),
    ("(5", None),
    ("5)", None),
    ("10%", None),
    ("1" + "0" * 400, None),
    # 1e100 and more "overflow" (D27): sums of two such amounts were inf, and inf broke the
    # audit's total and the JSON
    ("1" + "0" * 100, None),
    ("-" + "1" + "0" * 308, None),
    ("0x10", None),
    ("١٢٣", None),
    ("12 34", None),
    ("", None),
    ("   ", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), MONEY_DOT)
def test_parse_money_decimal_dot(raw: str | None, expected: float | None) -> None:
    assert one(parse_money, raw) == expected


MONEY_COMMA = [
    ("1.234,56", 1234.56),
    ("R$ 1.234,56", 1234.56),
    ("kr 1 234,50", 1234.5),
    ("1 234,50 kr", 1234.5),
    ("1 234,50 €", 1234.5),
    ("1\u00a0234,50\u00a0€", 1234.5),
    ("1\u202f234,5", 1234.5),
    ("1'234,56", 1234.56),
    ("1.234", 1234.0),
    ("1.234.567", 1234567.0),
    ("12,5", 12.5),
    ("1234,5", 1234.5),
    (",5", 0.5),
    ("5,", 5.0),
    ("-1.234,56 EUR", -1234.56),
    ("(1.234,56)", -1234.56),
    ("1.234,56-", -1234.56),
    ("EUR 12,00", 12.0),
    ("-0,00", 0.0),
    ("1,234.50", None),
    ("1234.5", None),
    ("1.2.3", None),
    ("12.34", None),
    ("1,2,3", None),
    ("1e5", None),
]


@pytest.mark.parametrize(("raw", "expected"), MONEY_COMMA)
def test_parse_money_decimal_comma(raw: str, expected: float | None) -> None:
    assert one(lambda e: parse_money(e, decimal=","), raw) == expected


@pytest.mark.parametrize("raw", ["-0", "-0.00", "(0.00)", "0.00-", "$-0", "-0,0"])
def test_negative_zero_is_positive_zero(raw: str) -> None:
    for decimal in (".", ","):
        value = one(partial(parse_money, decimal=decimal), raw)
        if value is not None:
            assert value == 0.0
            assert math.copysign(1.0, value) == 1.0


@pytest.mark.parametrize("decimal", ["", ";", "'", " ", ".,"])
def test_parse_money_rejects_unknown_decimal_mark(decimal: str) -> None:
    with pytest.raises(ValueError, match="decimal"):
        parse_money(pl.col("raw"), decimal)


# --- number --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [
        ("75%", ".", 75.0),
        ("75 %", ".", 75.0),
        ("75.5%", ".", 75.5),
        ("75,5%", ",", 75.5),
        ("-5%", ".", -5.0),
        ("0.75", ".", 0.75),
        ("0,75", ",", 0.75),
        ("100", ".", 100.0),
        ("1,000", ".", 1000.0),
        ("%", ".", None),
        ("75%%", ".", None),
        ("%75", ".", None),
        ("abc", ".", None),
        ("1e2", ".", None),
        ("NaN", ".", None),
        ("", ".", None),
    ],
)
def test_parse_number(raw: str, decimal: str, expected: float | None) -> None:
    assert one(lambda e: parse_number(e, decimal), raw) == expected


# --- integer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        (" 3 ", 3),
        ("3.0", 3),
        ("3.", 3),
        ("03", 3),
        ("-2", -2),
        ("-0", 0),
        ("+7", 7),
        ("1,000", 1000),
        ("1 000", 1000),
        ("9007199254740992", 9007199254740992),
        ("3.5", None),
        ("0.1", None),
        ("abc", None),
        ("1,00", None),
        ("1e3", None),
        ("99999999999999999999", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_integer(raw: str | None, expected: int | None) -> None:
    assert one(parse_integer, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.000", 1000), ("1 000", 1000), ("3,0", 3), ("1,000", 1), ("12", 12), ("3,5", None)],
)
def test_parse_integer_with_a_decimal_comma(raw: str, expected: int | None) -> None:
    # D27: the source's decimal alone decides; with ',' the dot groups thousands
    assert one(lambda e: parse_integer(e, ","), raw) == expected


# --- bool ----------------------------------------------------------------------------------------

TRUE_WORDS = ["true", "TRUE", "True", " yes ", "Yes", "1", "t", "T"]
FALSE_WORDS = ["false", "FALSE", "No", "no", "0", "f", "F"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *((word, True) for word in TRUE_WORDS),
        *((word, False) for word in FALSE_WORDS),
        ("\u00a0true\u00a0", True),
        ("2", None),
        ("y", None),  # SCHEMA.md lists true/false, yes/no, 1/0 and t/f only
        ("N", None),
        ("maybe", None),
        ("1.0", None),
        ("yes!", None),
        ("oui", None),
        ("ja", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_bool(raw: str | None, expected: bool | None) -> None:
    assert one(parse_bool, raw) is expected


# --- datetime ------------------------------------------------------------------------------------

DATETIME_UTC = [
    ("2024-07-01", utc(2024, 7, 1)),
    (" 2024-07-01 ", utc(2024, 7, 1)),
    ("2024-02-29", utc(2024, 2, 29)),
    ("2024-07-01T10:00:00", utc(2024, 7, 1, 10)),
    ("2024-07-01 10:00:00", utc(2024, 7, 1, 10)),
    ("2024-07-01T10:00", utc(2024, 7, 1, 10)),
    ("2024-07-01 10:00", utc(2024, 7, 1, 10)),
    ("2024-01-22T16:14:25.000", utc(2024, 1, 22, 16, 14, 25)),
    ("2024-01-22T16:14:25.123456", utc(2024, 1, 22, 16, 14, 25, 123456)),
    ("2024-01-22T16:14:25.5", utc(2024, 1, 22, 16, 14, 25, 500000)),
    ("2024-07-01T10:00:00Z", utc(2024, 7, 1, 10)),
    ("2024-07-01T10:00:00.000Z", utc(2024, 7, 1, 10)),
    ("2024-07-01T10:00:00+02:00", utc(2024, 7, 1, 8)),
    ("2024-07-01T10:00:00+0200", utc(2024, 7, 1, 8)),
    ("2024-07-01T10:00:00+02", utc(2024, 7, 1, 8)),
    ("2024-07-01T10:00:00+00", utc(2024, 7, 1, 10)),
    ("2024-07-01T10:00:00-05:30", utc(2024, 7, 1, 15, 30)),
    ("2024-01-22T16:14:25.000+0000", utc(2024, 1, 22, 16, 14, 25)),
    ("2024-07-01 10:00:00+02:00", utc(2024, 7, 1, 8)),
    ("2024-07-01 10:00:00 +0200", utc(2024, 7, 1, 8)),
    ("2024-07-01T10:00Z", utc(2024, 7, 1, 10)),
    ("2024-07-01T10:00+02:00", utc(2024, 7, 1, 8)),
    ("2024-07-01T23:30:00-05:00", utc(2024, 7, 2, 4, 30)),
    ("2024-12-31T23:59:59.999999", utc(2024, 12, 31, 23, 59, 59, 999999)),
    # the hour alone, and ISO 8601's basic format (Python's date/datetime.fromisoformat read them)
    ("2024-07-01T10", utc(2024, 7, 1, 10)),
    ("2024-07-01 10", utc(2024, 7, 1, 10)),
    ("20240701", utc(2024, 7, 1)),
    ("20240701T103000", utc(2024, 7, 1, 10, 30)),
    ("20240701T103000Z", utc(2024, 7, 1, 10, 30)),
    ("20240701T103000+0200", utc(2024, 7, 1, 8, 30)),
    ("20240701T103000-05:00", utc(2024, 7, 1, 15, 30)),
    # invalid
    ("2024-02-30", None),
    ("2023-02-29", None),
    ("0000-00-00", None),
    ("2024-13-01", None),
    ("2024-00-10", None),
    ("2024-07-32", None),
    ("2024-07-01T24:00:00", None),
    ("2024-07-01T10:60:00", None),
    ("2024-07-01garbage", None),
    ("2024-07-01T10:00:00garbage", None),
    ("2024-07-01T10:00:00+02:00x", None),
    ("2024-07-01T", None),
    ("2024-07-01X10:00:00", None),
    ("2024-7-1", None),
    ("20241301", None),
    ("20240701T1030", None),
    ("2024-07-01T25", None),
    ("2024/07/01", None),
    ("01/07/2024", None),
    ("1719828000", None),
    ("N/A", None),
    ("yesterday", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), DATETIME_UTC)
def test_parse_datetime_iso(raw: str | None, expected: datetime | None) -> None:
    assert one(parse_datetime, raw) == expected


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2024-07-01T10:00:00", "Europe/Berlin", utc(2024, 7, 1, 8)),  # CEST, +2
        ("2024-01-15T10:00:00", "Europe/Berlin", utc(2024, 1, 15, 9)),  # CET, +1
        ("2024-07-01", "Europe/Berlin", utc(2024, 6, 30, 22)),  # midnight local
        ("2024-03-31T01:59:59", "Europe/Berlin", utc(2024, 3, 31, 0, 59, 59)),
        # inside a spring-forward gap: the offset before it, as zoneinfo reads it
        ("2024-03-31T02:30:00", "Europe/Berlin", utc(2024, 3, 31, 1, 30)),
        ("2024-03-10T02:30:00", "America/New_York", utc(2024, 3, 10, 7, 30)),
        ("2024-09-08", "America/Santiago", utc(2024, 9, 8, 4)),  # midnight skipped
        ("2024-10-06T02:15:00", "Australia/Lord_Howe", utc(2024, 10, 5, 15, 45)),  # 30 minutes
        ("2024-03-31T03:00:00", "Europe/Berlin", utc(2024, 3, 31, 1)),
        ("2024-10-27T02:30:00", "Europe/Berlin", utc(2024, 10, 27, 0, 30)),  # repeated: earliest
        ("2024-10-27T03:30:00", "Europe/Berlin", utc(2024, 10, 27, 2, 30)),
        ("2024-11-03T01:30:00", "America/New_York", utc(2024, 11, 3, 5, 30)),  # EDT, earliest
        ("2024-07-01T10:00:00Z", "Europe/Berlin", utc(2024, 7, 1, 10)),  # offset wins
        ("2024-07-01T10:00:00+09:00", "America/New_York", utc(2024, 7, 1, 1)),
        ("2024-07-01T10:00", "Asia/Kolkata", utc(2024, 7, 1, 4, 30)),
    ],
)
def test_parse_datetime_timezone(raw: str, tz: str, expected: datetime | None) -> None:
    assert one(lambda e: parse_datetime(e, timezone=tz), raw) == expected


USER_FORMATS = ["%d/%m/%Y", "%m/%d/%Y %H:%M", "%d.%m.%Y"]


@pytest.mark.parametrize(
    ("raw", "formats", "tz", "expected"),
    [
        ("01/07/2024", USER_FORMATS, "UTC", utc(2024, 7, 1)),
        ("31/12/2024", USER_FORMATS, "UTC", utc(2024, 12, 31)),
        ("07/01/2024 10:00", USER_FORMATS, "UTC", utc(2024, 7, 1, 10)),
        ("01.07.2024", USER_FORMATS, "UTC", utc(2024, 7, 1)),
        ("2024-07-01T10:00:00Z", USER_FORMATS, "UTC", utc(2024, 7, 1, 10)),  # ISO still first
        ("13/13/2024", USER_FORMATS, "UTC", None),
        ("01/07/2024junk", USER_FORMATS, "UTC", None),
        ("31/02/2024", USER_FORMATS, "UTC", None),
        # the formats are tried in order
        ("01/07/2024", ["%m/%d/%Y", "%d/%m/%Y"], "UTC", utc(2024, 1, 7)),
        ("13/07/2024", ["%m/%d/%Y", "%d/%m/%Y"], "UTC", utc(2024, 7, 13)),
        # naive user formats are local to the timezone, offsets and epochs are not
        ("07/01/2024 10:00", USER_FORMATS, "Europe/Berlin", utc(2024, 7, 1, 8)),
        ("01/07/2024", USER_FORMATS, "Europe/Berlin", utc(2024, 6, 30, 22)),
        ("01/07/2024 10:00 +0200", ["%d/%m/%Y %H:%M %z"], "Asia/Tokyo", utc(2024, 7, 1, 8)),
        ("1719828000", ["%s"], "Europe/Berlin", utc(2024, 7, 1, 10)),
        ("July 1, 2024", ["%B %d, %Y"], "UTC", utc(2024, 7, 1)),
        ("7/1/2024 10:30 PM", ["%m/%d/%Y %I:%M %p"], "UTC", utc(2024, 7, 1, 22, 30)),
        ("20240701", ["%Y%m%d"], "UTC", utc(2024, 7, 1)),
        ("01.07.2024", "%d.%m.%Y", "UTC", utc(2024, 7, 1)),  # one format, not a list
        # a broken user format is a null, not a crash
        ("01/07/2024", ["%Q"], "UTC", None),
        ("01/07/2024", ["%"], "UTC", None),
        ("03/04/69 10:00", ["%d/%m/%y %H:%M"], "UTC", datetime(1969, 4, 3, 10, tzinfo=UTC)),
    ],
)
def test_parse_datetime_user_formats(
    raw: str, formats: list[str] | str, tz: str, expected: datetime | None
) -> None:
    assert one(lambda e: parse_datetime(e, formats, tz), raw) == expected


# --- date ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "formats", "tz", "expected"),
    [
        ("2024-07-01", [], "UTC", date(2024, 7, 1)),
        ("2024-07-01", [], "Pacific/Kiritimati", date(2024, 7, 1)),  # a date is taken as is
        ("2024-07-01T23:30:00-05:00", [], "UTC", date(2024, 7, 2)),
        ("2024-07-01T23:30:00-05:00", [], "America/Chicago", date(2024, 7, 1)),
        ("2024-07-01T22:30:00Z", [], "Europe/Berlin", date(2024, 7, 2)),
        ("2024-07-01T22:30:00Z", [], "UTC", date(2024, 7, 1)),
        ("2024-07-01T23:30:00", [], "Asia/Tokyo", date(2024, 7, 1)),  # naive: already local
        ("2024-03-31T02:30:00", [], "Europe/Berlin", date(2024, 3, 31)),  # gap time, real date
        ("2024-01-22T16:14:25.000+0000", [], "UTC", date(2024, 1, 22)),
        ("2024-07-01 10:00", [], "UTC", date(2024, 7, 1)),
        ("01.07.2024", USER_FORMATS, "UTC", date(2024, 7, 1)),
        ("07/01/2024 23:00", USER_FORMATS, "Europe/Berlin", date(2024, 7, 1)),
        ("01/07/2024 23:00 -0500", ["%d/%m/%Y %H:%M %z"], "UTC", date(2024, 7, 2)),
        # '%Y' is four digits, as in Python: a two-digit year falls through to '%y', or fails
        ("12/25/25", ["%m/%d/%Y", "%m/%d/%y"], "UTC", date(2025, 12, 25)),
        ("12/25/2025", ["%m/%d/%Y", "%m/%d/%y"], "UTC", date(2025, 12, 25)),
        # '%y' pivots as Python's strptime does: 69-99 are the 1900s (polars read 69 as 2069)
        ("03/04/69", ["%d/%m/%y"], "UTC", date(1969, 4, 3)),
        ("03/04/68", ["%d/%m/%y"], "UTC", date(2068, 4, 3)),
        ("03/04/70", ["%d/%m/%y"], "UTC", date(1970, 4, 3)),
        ("31/12/99", ["%d/%m/%Y"], "UTC", None),
        ("31/12/999", ["%d/%m/%Y"], "UTC", None),
        ("2024-02-30", [], "UTC", None),
        ("0000-00-00", [], "UTC", None),
        ("2024-13-01", [], "UTC", None),
        ("N/A", [], "UTC", None),
        ("yesterday", [], "UTC", None),
        ("2024-07-01garbage", [], "UTC", None),
        ("", [], "UTC", None),
        (None, [], "UTC", None),
    ],
)
def test_parse_date(raw: str | None, formats: list[str], tz: str, expected: date | None) -> None:
    assert one(lambda e: parse_date(e, formats, tz), raw) == expected


# --- parse_failed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parser", "expected"),
    [
        ("abc", parse_money, True),
        ("$1,2,3", parse_money, True),
        ("12", parse_money, False),
        ("2024-02-30", parse_date, True),
        ("2024-07-01", parse_date, False),
        ("maybe", parse_bool, True),
        ("no", parse_bool, False),
        ("", parse_money, False),
        ("  \u00a0 ", parse_money, False),
        (None, parse_money, False),
    ],
)
def test_parse_failed(raw: str | None, parser: Parser, expected: bool) -> None:
    assert one(lambda e: parse_failed(e, parser(e)), raw) is expected


# --- dtypes, names, null columns, lazy -----------------------------------------------------------

PARSERS: list[tuple[Parser, pl.DataType]] = [
    (clean_text, pl.String()),
    (parse_money, pl.Float64()),
    (lambda e: parse_money(e, ","), pl.Float64()),
    (parse_number, pl.Float64()),
    (parse_integer, pl.Int64()),
    (parse_bool, pl.Boolean()),
    (parse_datetime, pl.Datetime("us", "UTC")),
    (lambda e: parse_datetime(e, USER_FORMATS, "Europe/Berlin"), pl.Datetime("us", "UTC")),
    (parse_date, pl.Date()),
    (lambda e: parse_date(e, USER_FORMATS, "America/New_York"), pl.Date()),
    (lambda e: parse_failed(e, parse_money(e)), pl.Boolean()),
]

SAMPLE = [
    "$1,234.50",
    "(120.00)",
    "2024-07-01",
    "2024-01-22T16:14:25.000+0000",
    "07/01/2024 10:00",
    "yes",
    "3",
    "",
    None,
    "garbage",
]


@pytest.mark.parametrize(("parser", "dtype"), PARSERS)
def test_dtype_and_name(parser: Parser, dtype: pl.DataType) -> None:
    df = pl.DataFrame({"amount": SAMPLE})
    out = df.select(parser(pl.col("amount")))
    assert out.schema == pl.Schema({"amount": dtype})


@pytest.mark.parametrize(("parser", "dtype"), PARSERS)
def test_null_dtype_column(parser: Parser, dtype: pl.DataType) -> None:
    # A CSV column whose cells are all empty may arrive with the Null dtype.
    df = pl.DataFrame({"raw": [None, None]})
    assert df.schema["raw"] == pl.Null
    out = df.select(parser(pl.col("raw"))).to_series()
    assert out.dtype == dtype
    expected = [False, False] if dtype == pl.Boolean and out.null_count() == 0 else [None, None]
    assert out.to_list() == expected


@pytest.mark.parametrize(("parser", "dtype"), PARSERS)
def test_lazy_matches_eager(parser: Parser, dtype: pl.DataType) -> None:
    eager = run(parser, SAMPLE)
    assert eager.dtype == dtype
    assert eager.equals(run(parser, SAMPLE, lazy=True))


def test_in_with_columns_next_to_other_parsers() -> None:
    df = pl.DataFrame({"amount": ["$5", "x"], "close_date": ["2024-07-01", "2024-02-30"]})
    out = df.with_columns(
        parse_money(pl.col("amount")),
        parse_date(pl.col("close_date")),
        parse_failed(pl.col("close_date"), parse_date(pl.col("close_date"))).alias("bad"),
    )
    assert out.to_dicts() == [
        {"amount": 5.0, "close_date": date(2024, 7, 1), "bad": False},
        {"amount": None, "close_date": None, "bad": True},
    ]


# --- properties ----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
cells = st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=30)
numberish = st.lists(
    st.text(alphabet="0123456789.,-+() $€%eEUSD'\u00a0\u202f:TZ/", max_size=20), min_size=1
)


@PROPERTY_SETTINGS
@given(values=st.one_of(cells, numberish))
def test_random_text_never_raises(values: list[str | None]) -> None:
    for parser, dtype in PARSERS:
        out = run(parser, values)
        assert out.dtype == dtype
        assert len(out) == len(values)


@PROPERTY_SETTINGS
@given(values=st.one_of(cells, numberish))
def test_parse_failed_is_non_empty_and_null(values: list[str | None]) -> None:
    for parser in (parse_money, parse_number, parse_integer, parse_bool, parse_date):
        df = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
        out = df.select(
            clean=clean_text(pl.col("raw")),
            parsed=parser(pl.col("raw")),
            failed=parse_failed(pl.col("raw"), parser(pl.col("raw"))),
        )
        for row in out.iter_rows(named=True):
            assert row["failed"] is (row["clean"] is not None and row["parsed"] is None)


@PROPERTY_SETTINGS
@given(values=numberish)
def test_money_is_finite_and_never_negative_zero(values: list[str]) -> None:
    for decimal in (".", ","):
        for value in run(partial(parse_money, decimal=decimal), values).drop_nulls():
            assert math.isfinite(value)
            assert value != 0 or math.copysign(1.0, value) == 1.0


SEPARATORS = {".": [",", " ", "\u00a0", "\u202f", "'"], ",": [".", " ", "\u00a0", "\u202f", "'"]}


@st.composite
def formatted_money(draw: st.DrawFn) -> tuple[str, str, float]:
    """A float written with thousands separators in either convention, and its expected value."""
    magnitude = draw(st.floats(min_value=0, max_value=1e15, allow_nan=False))
    places = draw(st.integers(min_value=0, max_value=6))
    negative = draw(st.booleans())
    decimal = draw(st.sampled_from([".", ","]))
    thousands = draw(st.sampled_from(SEPARATORS[decimal]))
    plain = f"{magnitude:.{places}f}"  # what the parser must read back exactly
    grouped = f"{magnitude:,.{places}f}".replace(",", "\0").replace(".", decimal)
    text = grouped.replace("\0", thousands)
    prefix, suffix = draw(st.sampled_from([("", ""), ("$", ""), ("USD ", ""), ("", " €")]))
    text = prefix + text + suffix
    if negative:
        style = draw(st.sampled_from(["-{}", "{}-", "({})"]))
        text = style.format(text)
    value = -float(plain) if negative else float(plain)
    return text, decimal, value if value != 0 else 0.0


@PROPERTY_SETTINGS
@given(cases=st.lists(formatted_money(), min_size=1, max_size=20))
def test_money_round_trips(cases: list[tuple[str, str, float]]) -> None:
    for decimal in (".", ","):
        subset = [(text, value) for text, d, value in cases if d == decimal]
        if not subset:
            continue
        out = run(partial(parse_money, decimal=decimal), [t for t, _ in subset]).to_list()
        for (text, value), got in zip(subset, out, strict=True):
            assert got == value, text
            assert math.copysign(1.0, got) == math.copysign(1.0, value), text


@PROPERTY_SETTINGS
@given(numbers=st.lists(st.integers(min_value=-(2**53), max_value=2**53), min_size=1))
def test_integer_round_trips(numbers: list[int]) -> None:
    assert run(parse_integer, [str(n) for n in numbers]).to_list() == numbers
    assert run(parse_integer, [f"{n:,}" for n in numbers]).to_list() == numbers


@st.composite
def iso_datetime(draw: st.DrawFn) -> tuple[str, datetime]:
    """An ISO 8601 text with a random offset style, and the UTC instant it denotes."""
    local = draw(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
    local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    minutes = draw(st.integers(min_value=-14 * 60, max_value=14 * 60))
    sep = draw(st.sampled_from(["T", " "]))
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + f".{local.microsecond // 1000:03d}"
    sign, hh, mm = "+" if minutes >= 0 else "-", abs(minutes) // 60, abs(minutes) % 60
    style = draw(st.sampled_from(["{s}{h:02d}:{m:02d}", "{s}{h:02d}{m:02d}", "Z"]))
    if style == "Z":
        minutes = 0
    text += style.format(s=sign, h=hh, m=mm)
    offset = timezone(timedelta(minutes=minutes))
    return text, local.replace(tzinfo=offset).astimezone(UTC)


@PROPERTY_SETTINGS
@given(cases=st.lists(iso_datetime(), min_size=1, max_size=20))
def test_iso_datetime_round_trips(cases: list[tuple[str, datetime]]) -> None:
    out = run(parse_datetime, [text for text, _ in cases]).to_list()
    assert out == [expected for _, expected in cases]
