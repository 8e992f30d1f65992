"""Period tokens of METRICS.md §2 ("2024-Q3", "FY2024", "2024-07", ranges, mtd ...) -> dates.

Pure functions: the as-of date and the fiscal calendar are always parameters. DECISIONS.md D18
(relative tokens) and D32 (labels, partial periods) override METRICS.md §2.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from revops_cli.errors import PeriodError

Kind = Literal["month", "quarter", "half", "year", "range"]

GRAMMAR_HINT = (
    "use 2024-Q3, Q3, FY2024, CY2024-Q3, H1, 2024-07, 2024, 2024-07-10..2024-08-20, mtd, qtd, "
    "ytd, last-month or last-quarter; quarters and halves are fiscal"
)

# Unicode White_Space, spelled out: Python's `\s` also matches U+001C..U+001F, which are not
# white space (and which `str.strip()` would also remove).
_WS_CHARS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WS = f"[{_WS_CHARS}]*"
# Years 0001..9999: the years a `datetime.date` can hold.
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

# The grammar of METRICS.md §2.2, matched against the *lowercased* text (case-insensitive) with
# surrounding whitespace ignored; ASCII digits only. `--period` and `forecasts.period` cells (rule
# S002, the forecast metrics) are both read with it, through `parse_period`.
PERIOD_TOKEN = (
    rf"^{_WS}(?:"
    rf"(?P<m_year>{_YEAR})-(?P<m_month>0[1-9]|1[0-2])"  # YYYY-MM
    rf"|(?P<y_prefix>cy|fy)?(?P<y_year>{_YEAR})"  # YYYY, CYYYYY, FYYYYY
    rf"|(?:(?P<q_prefix>cy|fy)?(?P<q_year>{_YEAR})-)?(?P<q_part>q[1-4]|h[12])"  # (..YYYY-)Qn|Hn
    rf"|(?P<r_start>{_DAY})\.\.(?P<r_end>{_DAY})"  # explicit range
    r"|(?P<relative>mtd|qtd|ytd|last-month|last-quarter)"
    rf"){_WS}$"
)
_GRAMMAR = re.compile(PERIOD_TOKEN)
_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


@dataclass(frozen=True)
class FiscalCalendar:
    """The fiscal-year settings of the config (D1): start month, naming and default year."""

    start_month: int = 1  # fiscal_year_start_month
    naming: Literal["end", "start"] = "end"  # metrics.fiscal_year_naming
    default_fiscal_year: int | None = None  # metrics.default_fiscal_year

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(f"fiscal start month must be 1..12, got {self.start_month}")

    def year_start(self, year: int) -> date:
        """First day of fiscal year `year` (§2.3 `fy_start`)."""
        if self.naming == "end" and self.start_month > 1:
            return date(year - 1, self.start_month, 1)
        return date(year, self.start_month, 1)

    def year_of(self, day: date) -> int:
        """The fiscal year that contains `day` (§2.3 `fy_of`)."""
        if self.naming == "end" and self.start_month > 1 and day.month >= self.start_month:
            return day.year + 1
        if self.naming == "start" and day.month < self.start_month:
            return day.year - 1
        return day.year


@dataclass(frozen=True)
class Period:
    """A resolved period `[start, end]`, both inclusive, with its normalised label (D32)."""

    label: str
    start: date
    end: date
    kind: Kind
    fiscal: bool

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period {self.label} starts after it ends")


@dataclass(frozen=True)
class Window:
    """A period evaluated at a reference day: E = min(p_end, as_of).

    `partial` is True when E < p_end, and always for the comparison window of a partial period
    (a period-to-date comparison, §2.6), even when its truncated end reaches the period's end.
    """

    period: Period
    end: date
    partial: bool

    @property
    def opening(self) -> date:
        """O = p_start - 1 day: the opening balance is the state at the end of this day."""
        return self.period.start - timedelta(days=1)

    @property
    def closing(self) -> date:
        """C = E: the closing balance is the state at the end of this day."""
        return self.end

    @property
    def days(self) -> int:
        """The number of days of [p_start, E] (D32)."""
        return (self.end - self.period.start).days + 1

    def grid(self) -> list[date]:
        """The snapshot grid of §1.6: O, every month end strictly between O and C, then C."""
        opening, closing = self.opening, self.closing
        dates = [opening]
        month_end = _last_day(self.period.start)
        while month_end < closing:
            dates.append(month_end)
            month_end = _last_day(month_end + timedelta(days=1))
        dates.append(closing)
        return dates

    def complete_months(self) -> list[tuple[date, date]]:
        """The calendar months lying wholly inside [p_start, E], as (first day, last day)."""
        months = []
        first = self.period.start.replace(day=1)
        while first <= self.end:
            last = _last_day(first)
            if first >= self.period.start and last <= self.end:
                months.append((first, last))
            if last == date.max:
                break
            first = last + timedelta(days=1)
        return months


FIRST_YEAR = 1800  # --as-of starts in 1900; lag and lookback options reach 100 years back


def parse_period(token: str, as_of: date, calendar: FiscalCalendar) -> Period:
    """Resolve a `--period` token (§2.2-§2.3, D18, D32); PeriodError when it is not a period."""
    shown = token.strip(_WS_CHARS)
    match = _GRAMMAR.fullmatch(token.lower())
    if match is None:
        raise PeriodError(f"--period: '{shown}' is not a period", GRAMMAR_HINT)
    groups = match.groupdict()
    outside = PeriodError(
        f"--period: '{shown}' is outside the supported dates",
        f"periods run from year {FIRST_YEAR} to 9999",
    )
    try:
        if groups["r_start"] is not None:
            period = _range(shown, groups["r_start"], groups["r_end"])
        else:
            period = _resolve(groups, as_of, calendar)
    except (ValueError, OverflowError) as exc:
        raise outside from exc
    if period.start.year < FIRST_YEAR:
        raise outside  # the metrics look back up to a century and a year from the period
    return period


def resolve_forecast_period(token: str, as_of: date, calendar: FiscalCalendar) -> Period | None:
    """Resolve a `forecasts.period` cell with the `--period` grammar; None if it does not parse."""
    try:
        return parse_period(token, as_of, calendar)
    except PeriodError:
        return None


def previous_period(period: Period, calendar: FiscalCalendar) -> Period:
    """The period just before `period` (§2.5): previous month, quarter, half or year, or for a
    range of n days the n days before it."""
    try:
        if period.kind == "range":
            length = period.end - period.start + timedelta(days=1)
            return _range_period(period.start - length, period.start - timedelta(days=1))
        start = _add_months(period.start, -_MONTHS[period.kind])
        return _span(period.kind, period.fiscal, start, calendar)
    except (ValueError, OverflowError) as exc:
        raise _no_earlier(period) from exc


def year_earlier(period: Period, calendar: FiscalCalendar) -> Period:
    """The same period one year earlier (`--compare yoy`, §2.5); a range's 29 Feb becomes 28 Feb."""
    try:
        if period.kind == "range":
            return _range_period(_year_before(period.start), _year_before(period.end))
        return _span(period.kind, period.fiscal, _add_months(period.start, -12), calendar)
    except (ValueError, OverflowError) as exc:
        raise _no_earlier(period) from exc


def evaluate(period: Period, as_of: date) -> Window:
    """The window of `period` at `as_of`: E = min(p_end, as_of); PeriodError if wholly in future."""
    if as_of < period.start:
        raise PeriodError(
            f"--period: '{period.label}' ({period.start}..{period.end}) lies entirely after "
            f"the as-of date {as_of}",
            f"choose a period that starts on or before {as_of}, or pass a later --as-of",
        )
    if period.start == date.min:
        raise _no_earlier(period)  # no day O for the opening snapshot
    end = min(period.end, as_of)
    return Window(period, end, end < period.end)


def comparison_window(current: Window, other: Period) -> Window:
    """The like-for-like window of `other` for `current` (§2.6, D32).

    When `current` is partial, `other` is cut to the same number of elapsed days (clamped to its
    own end) and marked partial; otherwise the whole of `other` is used.
    """
    if not current.partial:
        return Window(other, other.end, False)
    elapsed = min(current.days - 1, (other.end - other.start).days)
    return Window(other, other.start + timedelta(days=elapsed), True)


def _resolve(groups: dict[str, str | None], as_of: date, calendar: FiscalCalendar) -> Period:
    """A matched token other than a range -> its Period."""
    if (month := groups["m_month"]) is not None:
        return _span("month", False, date(int(groups["m_year"] or 0), int(month), 1), calendar)
    if (year := groups["y_year"]) is not None:
        if groups["y_prefix"] == "fy":
            return _span("year", True, calendar.year_start(int(year)), calendar)
        return _span("year", False, date(int(year), 1, 1), calendar)
    if (part := groups["q_part"]) is not None:
        kind: Kind = "quarter" if part[0] == "q" else "half"
        offset = _MONTHS[kind] * (int(part[1]) - 1)
        if groups["q_prefix"] == "cy":
            # calendar, labelled `CYYYYY-Qn` (D32) even when a January start makes it the same
            # dates as the fiscal quarter
            start = date(int(groups["q_year"] or 0), 1 + offset, 1)
            return _span(kind, False, start, calendar)
        if groups["q_year"] is not None:
            fiscal_year = int(groups["q_year"])
        elif calendar.default_fiscal_year is not None:
            fiscal_year = calendar.default_fiscal_year
        else:
            fiscal_year = calendar.year_of(as_of)
        return _span(kind, True, _add_months(calendar.year_start(fiscal_year), offset), calendar)
    return _relative(groups["relative"] or "", as_of, calendar)


def _relative(token: str, as_of: date, calendar: FiscalCalendar) -> Period:
    """mtd, qtd, ytd: the whole current month, fiscal quarter or fiscal year (D18, evaluated as a
    partial period); last-month, last-quarter: the previous full month or fiscal quarter."""
    this_month = as_of.replace(day=1)
    if token == "mtd":
        return _span("month", False, this_month, calendar)
    if token == "last-month":
        return _span("month", False, _add_months(this_month, -1), calendar)
    year_start = calendar.year_start(calendar.year_of(as_of))
    if token == "ytd":
        return _span("year", True, year_start, calendar)
    this_quarter = _add_months(year_start, _months_between(year_start, this_month) // 3 * 3)
    if token == "qtd":
        return _span("quarter", True, this_quarter, calendar)
    return _span("quarter", True, _add_months(this_quarter, -3), calendar)  # last-quarter


def _range(shown: str, first: str | None, last: str | None) -> Period:
    """An explicit `YYYY-MM-DD..YYYY-MM-DD` range: real dates, start <= end."""
    days = []
    for text in (first or "", last or ""):
        try:
            days.append(date(int(text[:4]), int(text[5:7]), int(text[8:10])))
        except ValueError:
            raise PeriodError(
                f"--period: '{shown}' has an invalid date {text}", GRAMMAR_HINT
            ) from None
    if days[0] > days[1]:
        raise PeriodError(f"--period: '{shown}' starts after it ends", GRAMMAR_HINT)
    return _range_period(days[0], days[1])


def _range_period(start: date, end: date) -> Period:
    """The Period of an explicit range, labelled `start..end`."""
    return Period(f"{start.isoformat()}..{end.isoformat()}", start, end, "range", False)


def _span(kind: Kind, fiscal: bool, start: date, calendar: FiscalCalendar) -> Period:
    """The month, quarter, half or year beginning on `start` (a first of month), labelled (D32)."""
    end = _last_day(_add_months(start, _MONTHS[kind] - 1))
    if kind == "month":
        label = f"{start.year:04d}-{start.month:02d}"
    elif fiscal:
        fiscal_year = calendar.year_of(start)
        if not 1 <= fiscal_year <= 9999:
            raise ValueError(f"fiscal year {fiscal_year} cannot be written as YYYY")
        index = _months_between(calendar.year_start(fiscal_year), start) // _MONTHS[kind] + 1
        part = f"{kind[0].upper()}{index}"
        label = f"FY{fiscal_year:04d}" if kind == "year" else f"{fiscal_year:04d}-{part}"
    elif kind == "year":
        label = f"{start.year:04d}"
    else:
        index = (start.month - 1) // _MONTHS[kind] + 1
        label = f"CY{start.year:04d}-{kind[0].upper()}{index}"
    return Period(label, start, end, kind, fiscal)


def _add_months(first: date, months: int) -> date:
    """The first day of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(earlier: date, later: date) -> int:
    """Whole calendar months from the month of `earlier` to the month of `later`."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _last_day(day: date) -> date:
    """The last day of the month of `day`."""
    return day.replace(day=monthrange(day.year, day.month)[1])


def _year_before(day: date) -> date:
    """The same day one year earlier; 29 Feb becomes 28 Feb."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return date(day.year - 1, day.month, day.day)


def _no_earlier(period: Period) -> PeriodError:
    """The error for a period at the very edge of the supported dates."""
    return PeriodError(
        f"--period: '{period.label}' has no earlier period within the supported dates",
        f"periods run from year {FIRST_YEAR} to 9999",
    )
