"""Period tokens (METRICS.md §2, §1.6; DECISIONS.md D18, D32): parsing, labels, windows, errors."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.errors import PeriodError
from revops_cli.periods import (
    GRAMMAR_HINT,
    FiscalCalendar,
    Period,
    Window,
    comparison_window,
    evaluate,
    parse_period,
    previous_period,
    resolve_forecast_period,
    year_earlier,
)

A = date(2024, 10, 5)
JAN = FiscalCalendar()
FEB_END = FiscalCalendar(start_month=2, naming="end")
FEB_START = FiscalCalendar(start_month=2, naming="start")


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- §2.4 examples (A = 2024-10-05) plus every other token kind ---------------------------------

RANGE = "2024-07-10..2024-08-20"
ONE_DAY = "2024-10-05..2024-10-05"
RESOLVE = [
    # (calendar, token, label, start, end, kind, fiscal, partial at A)
    (JAN, "Q3", "2024-Q3", "2024-07-01", "2024-09-30", "quarter", True, False),
    (JAN, "2024-Q3", "2024-Q3", "2024-07-01", "2024-09-30", "quarter", True, False),
    (JAN, "FY2024-Q3", "2024-Q3", "2024-07-01", "2024-09-30", "quarter", True, False),
    (JAN, "CY2024-Q3", "CY2024-Q3", "2024-07-01", "2024-09-30", "quarter", False, False),
    (JAN, "FY2024", "FY2024", "2024-01-01", "2024-12-31", "year", True, True),
    (JAN, "2024", "2024", "2024-01-01", "2024-12-31", "year", False, True),
    (JAN, "2024-07", "2024-07", "2024-07-01", "2024-07-31", "month", False, False),
    (JAN, "H1", "2024-H1", "2024-01-01", "2024-06-30", "half", True, False),
    (JAN, RANGE, RANGE, "2024-07-10", "2024-08-20", "range", False, False),
    (FEB_END, "FY2025", "FY2025", "2024-02-01", "2025-01-31", "year", True, True),
    (FEB_END, "2025-Q3", "2025-Q3", "2024-08-01", "2024-10-31", "quarter", True, True),
    (FEB_END, "Q3", "2025-Q3", "2024-08-01", "2024-10-31", "quarter", True, True),
    (FEB_END, "CY2024-Q3", "CY2024-Q3", "2024-07-01", "2024-09-30", "quarter", False, False),
    (FEB_END, "2024", "2024", "2024-01-01", "2024-12-31", "year", False, True),
    (FEB_START, "FY2024", "FY2024", "2024-02-01", "2025-01-31", "year", True, True),
    # other kinds, case and whitespace
    (JAN, " cy2024 ", "2024", "2024-01-01", "2024-12-31", "year", False, True),
    (JAN, "fy2024-h2", "2024-H2", "2024-07-01", "2024-12-31", "half", True, True),
    (JAN, "2024-H2", "2024-H2", "2024-07-01", "2024-12-31", "half", True, True),
    (JAN, "Q4", "2024-Q4", "2024-10-01", "2024-12-31", "quarter", True, True),
    (JAN, "CY2024-H2", "CY2024-H2", "2024-07-01", "2024-12-31", "half", False, True),
    (FEB_END, "CY2024-H2", "CY2024-H2", "2024-07-01", "2024-12-31", "half", False, True),
    (FEB_END, "H2", "2025-H2", "2024-08-01", "2025-01-31", "half", True, True),
    (FEB_END, "FY2025-H1", "2025-H1", "2024-02-01", "2024-07-31", "half", True, False),
    (FEB_START, "Q3", "2024-Q3", "2024-08-01", "2024-10-31", "quarter", True, True),
    (FEB_START, "2023-Q4", "2023-Q4", "2023-11-01", "2024-01-31", "quarter", True, False),
    (FiscalCalendar(4), "FY2025", "FY2025", "2024-04-01", "2025-03-31", "year", True, True),
    (FiscalCalendar(4), "Q1", "2025-Q1", "2024-04-01", "2024-06-30", "quarter", True, False),
    (JAN, "2024-02", "2024-02", "2024-02-01", "2024-02-29", "month", False, False),
    (JAN, ONE_DAY, ONE_DAY, "2024-10-05", "2024-10-05", "range", False, False),
    (JAN, "\t2024-q3\u00a0\n", "2024-Q3", "2024-07-01", "2024-09-30", "quarter", True, False),
]


@pytest.mark.parametrize(
    ("calendar", "token", "label", "start", "end", "kind", "fiscal", "partial"), RESOLVE
)
def test_parse_period(
    calendar: FiscalCalendar,
    token: str,
    label: str,
    start: str,
    end: str,
    kind: str,
    fiscal: bool,
    partial: bool,
) -> None:
    period = parse_period(token, A, calendar)
    assert period == Period(label, d(start), d(end), kind, fiscal)  # type: ignore[arg-type]
    assert evaluate(period, A).partial is partial
    assert parse_period(label, A, calendar) == period  # a label is a token naming the same period
    assert resolve_forecast_period(token, A, calendar) == period


def test_range_of_42_days() -> None:
    window = evaluate(parse_period("2024-07-10..2024-08-20", A, JAN), A)
    assert window.days == 42


DEFAULT_2023 = FiscalCalendar(default_fiscal_year=2023)


@pytest.mark.parametrize(
    ("calendar", "token", "label"),
    [
        (DEFAULT_2023, "Q3", "2023-Q3"),
        (DEFAULT_2023, "H2", "2023-H2"),
        (DEFAULT_2023, "2024-Q1", "2024-Q1"),  # an explicit year wins
        (DEFAULT_2023, "qtd", "2024-Q4"),  # relative tokens follow A, not the default year
        (FiscalCalendar(2, "end", 2026), "Q1", "2026-Q1"),
    ],
)
def test_default_fiscal_year(calendar: FiscalCalendar, token: str, label: str) -> None:
    assert parse_period(token, A, calendar).label == label


# --- D18: relative tokens, with a February fiscal start ------------------------------------------

RELATIVE = [
    # (calendar, as_of, token, label, start, end)
    (FEB_END, "2024-10-05", "mtd", "2024-10", "2024-10-01", "2024-10-31"),
    (FEB_END, "2024-10-05", "qtd", "2025-Q3", "2024-08-01", "2024-10-31"),
    (FEB_END, "2024-10-05", "ytd", "FY2025", "2024-02-01", "2025-01-31"),
    (FEB_END, "2024-10-05", "last-month", "2024-09", "2024-09-01", "2024-09-30"),
    (FEB_END, "2024-10-05", "last-quarter", "2025-Q2", "2024-05-01", "2024-07-31"),
    (FEB_END, "2024-03-10", "qtd", "2025-Q1", "2024-02-01", "2024-04-30"),
    (FEB_END, "2024-03-10", "last-quarter", "2024-Q4", "2023-11-01", "2024-01-31"),
    (FEB_END, "2024-01-15", "qtd", "2024-Q4", "2023-11-01", "2024-01-31"),
    (FEB_END, "2024-01-15", "ytd", "FY2024", "2023-02-01", "2024-01-31"),
    (FEB_END, "2024-01-15", "last-month", "2023-12", "2023-12-01", "2023-12-31"),
    (FEB_START, "2024-01-15", "qtd", "2023-Q4", "2023-11-01", "2024-01-31"),
    (FEB_START, "2024-01-15", "ytd", "FY2023", "2023-02-01", "2024-01-31"),
    (FEB_START, "2024-02-01", "YTD", "FY2024", "2024-02-01", "2025-01-31"),
    (JAN, "2024-01-05", "last-month", "2023-12", "2023-12-01", "2023-12-31"),
    (JAN, "2024-01-05", "last-quarter", "2023-Q4", "2023-10-01", "2023-12-31"),
    (JAN, "2024-10-05", " Last-Quarter ", "2024-Q3", "2024-07-01", "2024-09-30"),
]


@pytest.mark.parametrize(("calendar", "as_of", "token", "label", "start", "end"), RELATIVE)
def test_relative_tokens(
    calendar: FiscalCalendar, as_of: str, token: str, label: str, start: str, end: str
) -> None:
    period = parse_period(token, d(as_of), calendar)
    assert (period.label, period.start, period.end) == (label, d(start), d(end))
    window = evaluate(period, d(as_of))
    if token.strip().lower() in ("mtd", "qtd", "ytd"):  # the whole period, evaluated to date
        assert window.end == d(as_of)
        assert window.partial is (d(as_of) < period.end)
    else:  # the previous full period
        assert window.end == period.end
        assert window.partial is False


# --- §2.5: previous period and year-over-year ---------------------------------------------------

PREVIOUS = [
    # (calendar, token, previous label, start, end)
    (JAN, "2024-03", "2024-02", "2024-02-01", "2024-02-29"),
    (JAN, "2024-01", "2023-12", "2023-12-01", "2023-12-31"),
    (JAN, "Q1", "2023-Q4", "2023-10-01", "2023-12-31"),
    (JAN, "2024-Q3", "2024-Q2", "2024-04-01", "2024-06-30"),
    (FEB_END, "2025-Q1", "2024-Q4", "2023-11-01", "2024-01-31"),
    (FEB_START, "2024-Q1", "2023-Q4", "2023-11-01", "2024-01-31"),
    (JAN, "H1", "2023-H2", "2023-07-01", "2023-12-31"),
    (FEB_END, "2025-H2", "2025-H1", "2024-02-01", "2024-07-31"),
    (FEB_END, "FY2025", "FY2024", "2023-02-01", "2024-01-31"),
    (JAN, "FY2024", "FY2023", "2023-01-01", "2023-12-31"),
    (JAN, "2024", "2023", "2023-01-01", "2023-12-31"),
    (FEB_END, "CY2024-Q1", "CY2023-Q4", "2023-10-01", "2023-12-31"),
    (FEB_END, "CY2024-H1", "CY2023-H2", "2023-07-01", "2023-12-31"),
    (JAN, "2024-07-10..2024-08-20", "2024-05-29..2024-07-09", "2024-05-29", "2024-07-09"),
    (JAN, "2024-03-01..2024-03-01", "2024-02-29..2024-02-29", "2024-02-29", "2024-02-29"),
]


@pytest.mark.parametrize(("calendar", "token", "label", "start", "end"), PREVIOUS)
def test_previous_period(
    calendar: FiscalCalendar, token: str, label: str, start: str, end: str
) -> None:
    current = parse_period(token, A, calendar)
    previous = previous_period(current, calendar)
    assert (previous.label, previous.start, previous.end) == (label, d(start), d(end))
    assert (previous.kind, previous.fiscal) == (current.kind, current.fiscal)


YOY = [
    (JAN, "2024-03", "2023-03", "2023-03-01", "2023-03-31"),
    (JAN, "2024-Q3", "2023-Q3", "2023-07-01", "2023-09-30"),
    (JAN, "H1", "2023-H1", "2023-01-01", "2023-06-30"),
    (FEB_END, "Q3", "2024-Q3", "2023-08-01", "2023-10-31"),
    (FEB_END, "FY2025", "FY2024", "2023-02-01", "2024-01-31"),
    (JAN, "2024", "2023", "2023-01-01", "2023-12-31"),
    (FEB_END, "CY2024-H2", "CY2023-H2", "2023-07-01", "2023-12-31"),
    (JAN, "2024-02-29..2024-03-10", "2023-02-28..2023-03-10", "2023-02-28", "2023-03-10"),
    (JAN, "2024-07-10..2024-08-20", "2023-07-10..2023-08-20", "2023-07-10", "2023-08-20"),
    (JAN, "2023-03-01..2024-02-29", "2022-03-01..2023-02-28", "2022-03-01", "2023-02-28"),
]


@pytest.mark.parametrize(("calendar", "token", "label", "start", "end"), YOY)
def test_year_earlier(
    calendar: FiscalCalendar, token: str, label: str, start: str, end: str
) -> None:
    earlier = year_earlier(parse_period(token, A, calendar), calendar)
    assert (earlier.label, earlier.start, earlier.end) == (label, d(start), d(end))


def test_contiguous_balances() -> None:
    """§2.5 (complete periods only, D32): the previous closing day is this period's opening day."""
    current = evaluate(parse_period("2024-Q3", A, JAN), A)
    previous = comparison_window(current, previous_period(current.period, JAN))
    assert previous.closing == current.opening == d("2024-06-30")


# --- §1.6 grid, §2.6 partial windows, complete months --------------------------------------------

GRIDS = [
    ("2024-Q3", A, ["2024-06-30", "2024-07-31", "2024-08-31", "2024-09-30"]),
    ("2024-07-10..2024-08-20", A, ["2024-07-09", "2024-07-31", "2024-08-20"]),
    ("2024-07", A, ["2024-06-30", "2024-07-31"]),
    ("2024-02", A, ["2024-01-31", "2024-02-29"]),
    ("Q4", A, ["2024-09-30", "2024-10-05"]),
    ("2024-07-31..2024-08-01", A, ["2024-07-30", "2024-07-31", "2024-08-01"]),
    ("2024-07-15..2024-07-20", A, ["2024-07-14", "2024-07-20"]),
    ("2024-10-01..2024-10-01", A, ["2024-09-30", "2024-10-01"]),
    ("2024-Q4", d("2024-11-30"), ["2024-09-30", "2024-10-31", "2024-11-30"]),
]


@pytest.mark.parametrize(("token", "as_of", "grid"), GRIDS)
def test_grid(token: str, as_of: date, grid: list[str]) -> None:
    window = evaluate(parse_period(token, as_of, JAN), as_of)
    assert window.grid() == [d(g) for g in grid]
    assert (window.grid()[0], window.grid()[-1]) == (window.opening, window.closing)


def test_partial_quarter_and_its_comparison() -> None:
    current = evaluate(parse_period("Q4", A, JAN), A)
    assert (current.end, current.closing, current.opening) == (A, A, d("2024-09-30"))
    assert (current.partial, current.days, current.period.end) == (True, 5, d("2024-12-31"))
    previous = comparison_window(current, previous_period(current.period, JAN))
    assert (previous.period.label, previous.period.start) == ("2024-Q3", d("2024-07-01"))
    assert (previous.end, previous.partial, previous.days) == (d("2024-07-05"), True, 5)
    assert previous.grid() == [d("2024-06-30"), d("2024-07-05")]
    yoy = comparison_window(current, year_earlier(current.period, JAN))
    assert (yoy.period.label, yoy.end, yoy.days) == ("2023-Q4", d("2023-10-05"), 5)


def test_complete_period_compares_whole_periods() -> None:
    current = evaluate(parse_period("2024-Q3", A, JAN), A)
    assert (current.partial, current.days, current.end) == (False, 92, d("2024-09-30"))
    previous = comparison_window(current, previous_period(current.period, JAN))
    assert previous == Window(previous.period, d("2024-06-30"), False)


def test_comparison_window_is_clamped_to_the_other_period() -> None:
    current = evaluate(parse_period("2024-03", A, JAN), d("2024-03-30"))  # 30 days elapsed
    previous = comparison_window(current, previous_period(current.period, JAN))  # February: 29
    assert (previous.end, previous.partial, previous.days) == (d("2024-02-29"), True, 29)


def test_evaluate_on_the_first_and_last_day() -> None:
    period = parse_period("2024-Q3", A, JAN)
    first = evaluate(period, d("2024-07-01"))
    assert (first.end, first.days, first.partial) == (d("2024-07-01"), 1, True)
    last = evaluate(period, d("2024-09-30"))
    assert (last.end, last.days, last.partial) == (d("2024-09-30"), 92, False)


SEPTEMBER = ("2024-09-01", "2024-09-30")
COMPLETE_MONTHS = [
    ("2024-Q3", A, [("2024-07-01", "2024-07-31"), ("2024-08-01", "2024-08-31"), SEPTEMBER]),
    ("Q4", A, []),
    ("2024-Q4", d("2024-11-30"), [("2024-10-01", "2024-10-31"), ("2024-11-01", "2024-11-30")]),
    ("2024-07-10..2024-09-30", A, [("2024-08-01", "2024-08-31"), SEPTEMBER]),
    ("2024-07-10..2024-08-20", A, []),
    ("2024-02", A, [("2024-02-01", "2024-02-29")]),
]


@pytest.mark.parametrize(("token", "as_of", "months"), COMPLETE_MONTHS)
def test_complete_months(token: str, as_of: date, months: list[tuple[str, str]]) -> None:
    window = evaluate(parse_period(token, as_of, JAN), as_of)
    assert window.complete_months() == [(d(a), d(b)) for a, b in months]


def test_complete_months_of_a_partial_fiscal_year() -> None:
    window = evaluate(parse_period("FY2024", A, JAN), A)
    assert len(window.complete_months()) == 9  # January..September 2024


# --- errors, word for word ------------------------------------------------------------------------

NOT_A_PERIOD = [
    *[
        "bad",
        "Q5",
        "H3",
        "2024-13",
        "2024-Q0",
        "FY24",
        "2024-02-30",
        "CYQ3",
        "0000",
        "2024-Q3-",
        "mtd2",
        "FY2024-07",
        "Q3Q3",
    ],
    *["", "2024 - Q3", "q 3", "last month", "\u0662\u0660\u0662\u0664", "\x1c2024"],
]


@pytest.mark.parametrize("token", NOT_A_PERIOD)
def test_not_a_period(token: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(token, A, JAN)
    shown = {"\x1c2024": "\\x1c2024"}.get(token, token)  # a control character as its escape
    assert caught.value.one_line() == f"--period: '{shown}' is not a period ({GRAMMAR_HINT})"
    assert resolve_forecast_period(token, A, JAN) is None


def test_error_texts() -> None:
    hint = (
        "use 2024-Q3, Q3, FY2024, CY2024-Q3, H1, 2024-07, 2024, 2024-07-10..2024-08-20, mtd, qtd, "
        "ytd, last-month or last-quarter; quarters and halves are fiscal"
    )
    cases = {
        "Q5": f"--period: 'Q5' is not a period ({hint})",
        " h3 ": f"--period: 'h3' is not a period ({hint})",
        "2024-13": f"--period: '2024-13' is not a period ({hint})",
        "2024-08-20..2024-07-10": (
            f"--period: '2024-08-20..2024-07-10' starts after it ends ({hint})"
        ),
        "2024-02-30..2024-03-10": (
            f"--period: '2024-02-30..2024-03-10' has an invalid date 2024-02-30 ({hint})"
        ),
        "2024-02-01..2024-13-01": (
            f"--period: '2024-02-01..2024-13-01' has an invalid date 2024-13-01 ({hint})"
        ),
    }
    for token, text in cases.items():
        with pytest.raises(PeriodError) as caught:
            parse_period(token, A, JAN)
        assert caught.value.one_line() == text
        assert resolve_forecast_period(token, A, JAN) is None


def test_forecast_ranges_with_bad_dates_do_not_resolve() -> None:
    """A range with an impossible or reversed date is no period (§2.2), so S002 flags the cell."""
    assert resolve_forecast_period("2024-02-30..2024-03-10", A, JAN) is None
    assert resolve_forecast_period("2024-08-20..2024-07-10", A, JAN) is None
    assert resolve_forecast_period("2024-07-10..2024-07-10", A, JAN) == Period(
        "2024-07-10..2024-07-10", d("2024-07-10"), d("2024-07-10"), "range", False
    )


def test_period_entirely_in_the_future() -> None:
    with pytest.raises(PeriodError) as caught:
        evaluate(parse_period("2025-Q1", A, JAN), A)
    assert caught.value.one_line() == (
        "--period: '2025-Q1' (2025-01-01..2025-03-31) lies entirely after the as-of date "
        "2024-10-05 (choose a period that starts on or before 2024-10-05, or pass a later --as-of)"
    )


@pytest.mark.parametrize(
    ("token", "calendar"),
    [("FY0001", FEB_END), ("FY0001", JAN), ("0001-Q3", JAN), ("1799-12", JAN), ("FY1800", FEB_END)],
)
def test_periods_before_1800_are_outside_the_supported_dates(
    token: str, calendar: FiscalCalendar
) -> None:
    # the metrics look back up to 100 years (ltv_lookback_months, cac_lag_months) and a year
    # (nrr_ttm) from the period: year 1 crashed them (FY1800 ending in January starts in 1799)
    with pytest.raises(PeriodError) as caught:
        parse_period(token, A, calendar)
    assert caught.value.one_line() == (
        f"--period: '{token}' is outside the supported dates (periods run from year 1800 to 9999)"
    )


def test_edges_of_the_supported_dates() -> None:
    assert parse_period("1800-01", A, JAN).start == date(1800, 1, 1)
    assert previous_period(parse_period("1800-01", A, JAN), JAN).start == date(1799, 12, 1)
    first = Period("0001-01", date(1, 1, 1), date(1, 1, 31), "month", False)
    with pytest.raises(PeriodError, match="'0001-01' has no earlier period"):
        previous_period(first, JAN)
    with pytest.raises(PeriodError, match="'0001-01' has no earlier period"):
        evaluate(first, A)  # no opening day
    assert parse_period("9999-Q4", A, JAN).end == date(9999, 12, 31)


def test_calendar_rejects_a_bad_start_month() -> None:
    with pytest.raises(ValueError, match=r"1\.\.12"):
        FiscalCalendar(start_month=13)


def test_s002_fixture_tokens() -> None:
    cells = ["2024-Q3", "Q5", "fy2024", "2024-07-10..2024-08-20", "LAST-MONTH"]
    resolved = [resolve_forecast_period(cell, A, JAN) is not None for cell in cells]
    assert resolved == [True, False, True, True, True]


# --- properties -----------------------------------------------------------------------------------

YEARS = st.integers(1901, 2998)
calendars = st.builds(
    FiscalCalendar,
    start_month=st.integers(1, 12),
    naming=st.sampled_from(["end", "start"]),
    default_fiscal_year=st.one_of(st.none(), YEARS),
)
as_of_dates = st.dates(date(1901, 1, 1), date(2998, 12, 31))
prefixes = st.sampled_from(["", "FY", "CY", "fy", "cy", "Fy"])
tokens = st.one_of(
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", YEARS, st.integers(1, 12)),
    st.builds(lambda p, y: f"{p}{y:04d}", prefixes, YEARS),
    st.builds(lambda p, y, q: f"{p}{y:04d}-Q{q}", prefixes, YEARS, st.integers(1, 4)),
    st.builds(lambda p, y, h: f"{p}{y:04d}-h{h}", prefixes, YEARS, st.integers(1, 2)),
    st.builds(lambda q: f"Q{q}", st.integers(1, 4)),
    st.builds(lambda h: f"h{h}", st.integers(1, 2)),
    st.builds(lambda a, n: f"{a}..{a + timedelta(days=n)}", as_of_dates, st.integers(0, 800)),
    st.sampled_from(["mtd", "qtd", "ytd", "last-month", "last-quarter", "MTD", "Last-Quarter"]),
)
padding = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "  \u3000"])


@settings(max_examples=400, deadline=None)
@given(tokens, padding, padding, st.booleans(), as_of_dates, calendars)
def test_every_parsed_period_is_sound(
    token: str, left: str, right: str, upper: bool, as_of: date, calendar: FiscalCalendar
) -> None:
    text = left + (token.upper() if upper else token) + right
    period = parse_period(text, as_of, calendar)
    assert period.start <= period.end
    assert parse_period(period.label, as_of, calendar) == period
    previous = previous_period(period, calendar)
    assert previous.end + timedelta(days=1) == period.start
    assert (previous.kind, previous.fiscal) == (period.kind, period.fiscal)
    if period.kind != "range":
        year_before = period.start.replace(year=period.start.year - 1)
        assert year_earlier(period, calendar).start == year_before
        assert previous_period(period, calendar).start.day == 1


@settings(max_examples=300, deadline=None)
@given(tokens, calendars, st.integers(0, 800))
def test_windows_are_sound(token: str, calendar: FiscalCalendar, offset: int) -> None:
    period = parse_period(token, A, calendar)
    as_of = period.start + timedelta(days=offset)
    window = evaluate(period, as_of)
    grid = window.grid()
    assert grid[0] == window.opening and grid[-1] == window.closing == min(as_of, period.end)
    assert all(a < b for a, b in itertools.pairwise(grid))
    assert all((g + timedelta(days=1)).day == 1 for g in grid[1:-1])
    assert window.partial is (window.end < period.end)
    other = comparison_window(window, previous_period(period, calendar))
    if window.partial:
        assert other.days == min(window.days, (other.period.end - other.period.start).days + 1)
    else:
        assert (other.end, other.closing) == (other.period.end, window.opening)


FRAGMENTS = [
    *[
        "20",
        "24",
        "-",
        "q",
        "Q",
        "h",
        "H",
        "1",
        "3",
        "5",
        "fy",
        "CY",
        "..",
        "07",
        "01",
        "mtd",
        "ytd",
        "last-",
        "month",
        "quarter",
    ],
    *[" ", "\n", "\u00a0", "\x1c", "\u0663", "\u212a"],
]


def _splice(token: str, at: int, cut: int, fragment: str) -> str:
    """`token` with `cut` characters at position `at` replaced by `fragment` (a near miss)."""
    at %= len(token) + 1
    return token[:at] + fragment + token[at + cut :]


texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
    st.builds(_splice, tokens, st.integers(0, 30), st.integers(0, 2), st.sampled_from(FRAGMENTS)),
    st.builds(str.__add__, tokens, st.sampled_from(["", " ", "\u2009", "\x1c", "\u200b"])),
)


@settings(max_examples=500, deadline=None)
@given(texts, calendars)
def test_near_misses_parse_or_raise_a_period_error(text: str, calendar: FiscalCalendar) -> None:
    """A hostile token is a sound period or a PeriodError (a `forecasts.period` cell: S002),
    never another exception."""
    try:
        period = parse_period(text, A, calendar)
    except PeriodError:
        assert resolve_forecast_period(text, A, calendar) is None
    else:
        assert period.start <= period.end
        assert resolve_forecast_period(text, A, calendar) == period
