"""Metrics C1-C4 and D1 (metrics/finance.py): the toy values and hand-worked edge cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from revops_cli.config import load_config
from revops_cli.load.dataset import Dataset, load_dataset
from revops_cli.metrics.context import MetricContext
from revops_cli.metrics.runner import fiscal_calendar
from revops_cli.periods import evaluate, parse_period
from revops_cli.results import MetricResult
from tests.toy import toy_metric

Write = Callable[[str, str | bytes], Path]
AS_OF = date(2025, 12, 31)  # every period below is complete unless a test says otherwise
MONEY = 0.005
FRACTION = 1e-6

INVOICE_HEADER = "invoice_id,customer_id,subscription_id,amount,currency,status,issued_at,"
INVOICE_HEADER += "period_start,period_end\n"
EXPENSE_HEADER = "date,category,amount,currency,channel\n"


# --- the toy dataset (METRICS §3, D6 Appendix) ---------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected", "tolerance"),
    [
        ("revenue", 2000.0, MONEY),  # 1,800 subscription invoices + 200 setup fee
        ("revenue_recurring", 1800.0, MONEY),  # A 300, B 400, C 110, D 600, E 150, F 240
        ("revenue_non_recurring", 200.0, MONEY),  # E's setup fee, no subscription_id
        ("revenue_growth_rate", 0.111111, FRACTION),  # (2,000 - 1,800) / 1,800
        ("revenue_predictability", 0.90, FRACTION),  # 1,800 / 2,000
        ("gross_margin", 0.75, FRACTION),  # (2,000 - 500) / 2,000
        ("gross_profit", 1500.0, MONEY),  # 2,000 - cogs 500
        ("marketing_spend", 3000.0, MONEY),  # 1,000 + 800 + 300 + 700 + 200
        ("sales_spend", 1500.0, MONEY),  # 3 x 500
        ("sm_spend", 4500.0, MONEY),  # 3,000 + 1,500
        ("cost_per_lead", 15.0, MONEY),  # 3,000 / 200 leads created in Q3
        ("marketing_spend_ratio", 1.50, FRACTION),  # 3,000 / 2,000
        ("revenue_uncollectible", 60.0, MONEY),  # H's July invoice, marked uncollectible
    ],
)
def test_toy_values(key: str, expected: float, tolerance: float) -> None:
    result = toy_metric(key).current
    assert result.status == "ok", result
    assert result.value == pytest.approx(expected, abs=tolerance)


def test_toy_yoy_growth_is_null_for_lack_of_2023_revenue() -> None:
    # 2023-Q3 has no invoice, so its revenue is a sum over no rows = 0 (§1.2); C2 divides by it,
    # hence null with zero_denominator (D9: an empty population is zero_denominator).
    result = toy_metric("revenue_growth_rate_yoy").current
    assert (result.value, result.status, result.reason) == (None, "null", "zero_denominator")
    assert result.inputs["revenue_previous"] == 0.0
    assert result.inputs["previous_start"] == "2023-07-01"


def test_toy_marketing_by_channel_and_previous_period() -> None:
    by_channel = toy_metric("marketing_spend_by_channel")
    # paid_search 1,000 + 800; events 700; content 200; the 300 row without a channel
    assert by_channel.current.value == pytest.approx(
        {"content": 200.0, "events": 700.0, "paid_search": 1800.0, "(none)": 300.0}
    )
    assert isinstance(by_channel.current.value, dict)
    assert list(by_channel.current.value)[-1] == "(none)"
    # Q2: 1,800 of invoices net of the -190 credit; S&M 2,800 + 1,200 (magic number's denominator)
    assert toy_metric("revenue").previous_value == pytest.approx(1800.0, abs=MONEY)
    assert toy_metric("sm_spend").previous_value == pytest.approx(4000.0, abs=MONEY)
    assert toy_metric("revenue").previous is not None
    assert toy_metric("revenue").previous.inputs["credits"] == 1  # type: ignore[union-attr]


def test_toy_q2_has_no_cogs() -> None:
    # §3 lists no cogs row in 2024-Q2: never a silent 100 % margin (T18)
    result = toy_metric("gross_margin", "2024-Q2").current
    assert (result.status, result.reason) == ("unavailable", "missing_input:expenses.cogs")


# --- small hand-written datasets -----------------------------------------------------------------


def dataset(
    write: Write,
    *,
    invoices: str | None = None,
    expenses: str | None = None,
    leads: str | None = None,
    options: str = "",
    as_of: date = AS_OF,
) -> Dataset:
    sources = []
    for table, content in (("invoices", invoices), ("expenses", expenses), ("leads", leads)):
        if content is not None:
            write(f"{table}.csv", content)
            sources.append(f"  {table}: {{path: {table}.csv}}")
    config = "currency: {base: USD, rates: {EUR: 1.10}}\nsources:\n" + "\n".join(sources) + "\n"
    if options:
        config += "metrics:\n" + "\n".join(f"  {line}" for line in options.splitlines()) + "\n"
    return load_dataset(load_config(write("revops.yaml", config)), as_of)


def compute(ds: Dataset, key: str, period: str) -> MetricResult:
    calendar = fiscal_calendar(ds)
    window = evaluate(parse_period(period, ds.as_of, calendar), ds.as_of)
    return MetricContext(ds, window, calendar).value(key)


def value(ds: Dataset, key: str, period: str) -> float:
    result = compute(ds, key, period)
    assert result.status == "ok", result
    assert isinstance(result.value, float)
    return result.value


ANNUAL = INVOICE_HEADER + "i1,B,S2b,2400,USD,paid,2024-08-15,2024-08-15,2025-08-15\n"


def test_ratable_recognition_across_period_ends(write: Write) -> None:
    ds = dataset(write, invoices=ANNUAL)
    # [2024-08-15, 2025-08-15) has 365 days; Q3 gets 08-15..09-30 = 17 + 30 = 47 of them
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(2400 * 47 / 365, abs=MONEY)  # 309.04
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(309.04, abs=MONEY)
    q4 = value(ds, "revenue", "2024-Q4")  # Oct 31 + Nov 30 + Dec 31 = 92 days: 604.93
    assert q4 == pytest.approx(2400 * 92 / 365, abs=MONEY)
    # 2025-01-01..2025-08-14: 212 days to the end of July + 14 = 226; 47 + 92 + 226 = 365
    assert value(ds, "revenue", "2025") == pytest.approx(2400 * 226 / 365, abs=MONEY)
    assert value(ds, "revenue", "2024-Q2") == 0.0  # before the service period: 0, not null
    # the parts add up to the whole invoice
    total = sum(value(ds, "revenue", p) for p in ("2024-Q3", "2024-Q4", "2025"))
    assert total == pytest.approx(2400, abs=MONEY)


def test_partial_period_counts_up_to_as_of(write: Write) -> None:
    ds = dataset(write, invoices=ANNUAL, as_of=date(2024, 8, 31))
    # E = 2024-08-31: 08-15..08-31 = 17 days of 365 -> 111.78
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(2400 * 17 / 365, abs=MONEY)


def test_period_end_inclusive(write: Write) -> None:
    inclusive = INVOICE_HEADER + "i1,B,S2b,2400,USD,paid,2024-08-15,2024-08-15,2025-08-14\n"
    ds = dataset(write, invoices=inclusive, options="invoices: {period_end_inclusive: true}")
    # the last service day 2025-08-14 becomes the exclusive end 2025-08-15: 2,400 x 47/365
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(309.04, abs=MONEY)
    exclusive = dataset(write, invoices=inclusive)
    # read as exclusive the span has 364 days: 2,400 x 47/364 = 309.89
    assert value(exclusive, "revenue", "2024-Q3") == pytest.approx(2400 * 47 / 364, abs=MONEY)


def test_invoice_without_a_service_period_falls_on_its_issue_day(write: Write) -> None:
    rows = INVOICE_HEADER + (
        "i1,A,S1,100,USD,paid,2024-09-30T12:00:00Z,,\n"  # no period: on 09-30
        "i2,A,S1,300,USD,paid,2024-06-20,2024-07-01,2024-07-01\n"  # end = start: on 06-20
        "i3,A,S1,50,USD,paid,,,\n"  # no date at all: placed nowhere
    )
    ds = dataset(write, invoices=rows)
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(100, abs=MONEY)
    q2 = compute(ds, "revenue", "2024-Q2")
    assert q2.value == pytest.approx(300, abs=MONEY)
    assert q2.inputs["excluded_no_date"] == 1


def test_issue_day_in_the_configured_time_zone(write: Write) -> None:
    rows = INVOICE_HEADER + "i1,A,,100,USD,paid,2024-10-01T02:00:00Z,,\n"
    # 02:00 UTC on Oct 1 is 22:00 on Sep 30 in New York: Q3 revenue there, Q4 in UTC (T8)
    new_york = dataset(write, invoices=rows, options="timezone: America/New_York")
    assert value(new_york, "revenue", "2024-Q3") == pytest.approx(100, abs=MONEY)
    utc = dataset(write, invoices=rows)
    assert value(utc, "revenue", "2024-Q3") == 0.0


def test_recognition_issued(write: Write) -> None:
    rows = INVOICE_HEADER + "i1,A,S1,300,USD,paid,2024-09-20,2024-09-01,2024-12-01\n"
    ratable = dataset(write, invoices=rows)
    # service 09-01..12-01 = 30 + 31 + 30 = 91 days; Q3 holds September's 30: 300 x 30/91 = 98.90
    assert value(ratable, "revenue", "2024-Q3") == pytest.approx(300 * 30 / 91, abs=MONEY)
    issued = dataset(write, invoices=rows, options="revenue: {recognition: issued}")
    # billings view: the whole 300 on the issue day 2024-09-20, nothing in Q4
    assert value(issued, "revenue", "2024-Q3") == pytest.approx(300, abs=MONEY)
    assert value(issued, "revenue", "2024-Q4") == 0.0


def test_tax_is_taken_out(write: Write) -> None:
    header = INVOICE_HEADER.replace("amount,", "amount,tax_amount,")
    rows = header + (
        "i1,A,S1,1100,100,USD,paid,2024-07-01,,\n"  # 1,100 - 100 = 1,000
        "i2,A,S1,500,,USD,paid,2024-07-02,,\n"  # null tax = 0: 500
        "i3,A,S1,132,22,EUR,paid,2024-07-03,,\n"  # (132 - 22) EUR x 1.10 = 121
    )
    ds = dataset(write, invoices=rows)
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(1000 + 500 + 121, abs=MONEY)


def test_tax_column_not_mapped_takes_the_amount(write: Write) -> None:
    rows = INVOICE_HEADER + "i1,A,S1,1100,USD,paid,2024-07-01,,\n"
    # no tax_amount column: the amount is taken as it is
    assert value(dataset(write, invoices=rows), "revenue", "2024-Q3") == pytest.approx(1100)


def test_credits_reduce_revenue(write: Write) -> None:
    rows = INVOICE_HEADER + (
        "i1,A,S1,1000,USD,paid,2024-07-01,2024-07-01,2024-08-01\n"
        "c1,A,S1,-250,USD,paid,2024-07-15,,\n"  # credit note
        "c2,A,,-50,USD,paid,2024-08-01,,\n"  # credit on a one-time fee
    )
    ds = dataset(write, invoices=rows)
    result = compute(ds, "revenue", "2024-Q3")
    assert result.value == pytest.approx(1000 - 250 - 50, abs=MONEY)  # 700
    assert result.inputs["credits"] == 2
    assert value(ds, "revenue_recurring", "2024-Q3") == pytest.approx(750, abs=MONEY)
    assert value(ds, "revenue_non_recurring", "2024-Q3") == pytest.approx(-50, abs=MONEY)
    # 750 / 700 = 1.071429: a predictability above 1 says credits exceed one-time revenue
    assert value(ds, "revenue_predictability", "2024-Q3") == pytest.approx(750 / 700, abs=FRACTION)


def test_a_zero_share_of_negative_revenue_is_zero_not_minus_zero(write: Write) -> None:
    # a credit alone: revenue -100, none of it recurring; 0 / -100 gave -0.0 in the JSON
    rows = INVOICE_HEADER + "c1,A,,-100,USD,paid,2024-08-01,,\n"
    result = compute(dataset(write, invoices=rows), "revenue_predictability", "2024-Q3")
    assert str(result.value) == "0.0"


STATUSES = INVOICE_HEADER + (
    "i1,A,S1,100,USD,paid,2024-07-01,,\n"
    "i2,A,S1,200,USD,open,2024-07-01,,\n"
    "i3,A,S1,400,USD,uncollectible,2024-07-01,,\n"
    "i4,A,S1,800,USD,void,2024-07-01,,\n"
    "i5,A,S1,1600,USD,draft,2024-07-01,,\n"
    "i6,A,S1,3200,USD,,2024-07-01,,\n"  # no status: the default, paid
)


def test_invoice_statuses(write: Write) -> None:
    ds = dataset(write, invoices=STATUSES)
    # paid + open: 100 + 200 + 3,200; uncollectible, void and draft excluded
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(3500, abs=MONEY)
    assert value(ds, "revenue_uncollectible", "2024-Q3") == pytest.approx(400, abs=MONEY)
    assert value(ds, "revenue_uncollectible", "2024-Q2") == 0.0


def test_configured_statuses_never_make_void_draft_or_uncollectible_revenue(write: Write) -> None:
    options = "revenue: {invoice_statuses: [paid, uncollectible, void, draft]}"
    ds = dataset(write, invoices=STATUSES, options=options)
    result = compute(ds, "revenue", "2024-Q3")
    # paid 100 + 3,200; open 200 is no longer listed; uncollectible, void and draft are ignored
    # though listed (§1.8: each "is excluded") and named in warnings
    assert result.value == pytest.approx(3300, abs=MONEY)
    assert result.warnings == (
        "ignored_invoice_status:uncollectible",
        "ignored_invoice_status:void",
        "ignored_invoice_status:draft",
    )
    # the uncollectible 400 is reported on its own, not also in revenue
    assert value(ds, "revenue_uncollectible", "2024-Q3") == pytest.approx(400, abs=MONEY)
    assert value(ds, "revenue_recurring", "2024-Q3") == pytest.approx(3300, abs=MONEY)


def test_currency_without_a_rate_is_left_out_with_a_warning(write: Write) -> None:
    rows = INVOICE_HEADER + (
        "i1,A,S1,100,EUR,paid,2024-07-01,,\n"  # 110 USD
        "i2,B,S2,500,CHF,paid,2024-07-02,,\n"  # no CHF rate
        "i3,C,,300,CHF,paid,2024-07-03,,\n"
        "i4,D,,abc,USD,paid,2024-07-04,,\n"  # amount that does not parse
    )
    ds = dataset(write, invoices=rows)
    result = compute(ds, "revenue", "2024-Q3")
    assert result.value == pytest.approx(110, abs=MONEY)
    assert result.warnings == ("no_fx_rate:CHF (2 rows)",)
    assert result.inputs == {
        "invoices": 4,
        "excluded_no_fx_rate": 2,
        "excluded_null_amount": 1,
        "excluded_no_date": 0,
        "credits": 0,
    }
    # non-recurring: i3 lacks a rate, but i4 (USD, its amount unparsed) does not, so not every
    # input row lacks one (D9): 0 with the warning, not null no_fx_rate:CHF
    non_recurring = compute(ds, "revenue_non_recurring", "2024-Q3")
    assert (non_recurring.value, non_recurring.status, non_recurring.reason) == (0.0, "ok", None)
    assert non_recurring.warnings == ("no_fx_rate:CHF (1 rows)",)
    only = dataset(write, invoices=INVOICE_HEADER + "i3,C,,300,CHF,paid,2024-07-03,,\n")
    alone = compute(only, "revenue_non_recurring", "2024-Q3")
    assert (alone.status, alone.reason) == ("null", "no_fx_rate:CHF")  # every row lacks a rate
    # the recurring share still has a value: recurring 110 / revenue 110
    share = compute(ds, "revenue_predictability", "2024-Q3")
    assert (share.status, share.reason) == ("ok", None)
    assert share.value == pytest.approx(1.0)


def test_zero_revenue_gives_null_ratios(write: Write) -> None:
    invoices = INVOICE_HEADER + "i1,A,S1,100,USD,paid,2024-04-01,,\n"  # Q2 only
    expenses = EXPENSE_HEADER + "2024-07-01,cogs,40,USD,\n2024-07-02,marketing,60,USD,ads\n"
    ds = dataset(write, invoices=invoices, expenses=expenses)
    assert value(ds, "revenue", "2024-Q3") == 0.0  # a sum over no rows is 0 (§1.2)
    for key in ("revenue_predictability", "gross_margin", "marketing_spend_ratio"):
        result = compute(ds, key, "2024-Q3")
        assert (result.value, result.status, result.reason) == (None, "null", "zero_denominator")
    assert value(ds, "gross_profit", "2024-Q3") == pytest.approx(-40, abs=MONEY)  # 0 - 40
    # Q4 against Q3's revenue 0: null; Q3 against Q2's 100: (0 - 100) / 100 = -1
    q4 = compute(ds, "revenue_growth_rate", "2024-Q4")
    assert (q4.status, q4.reason) == ("null", "zero_denominator")
    assert value(ds, "revenue_growth_rate", "2024-Q3") == pytest.approx(-1.0, abs=FRACTION)


def test_growth_of_a_partial_period_is_like_for_like(write: Write) -> None:
    rows = INVOICE_HEADER + (
        "i1,A,S1,310,USD,paid,2024-07-01,2024-07-01,2024-08-01\n"  # 10 a day in July
        "i2,A,S1,620,USD,paid,2024-10-01,2024-10-01,2024-11-01\n"  # 20 a day in October
    )
    ds = dataset(write, invoices=rows, as_of=date(2024, 10, 5))
    # Q4 to 10-05: 5 x 20 = 100; Q3's first 5 days: 5 x 10 = 50; (100 - 50) / 50 = 1.0
    result = compute(ds, "revenue_growth_rate", "2024-Q4")
    assert result.value == pytest.approx(1.0, abs=FRACTION)
    assert result.inputs["revenue_previous"] == pytest.approx(50, abs=MONEY)
    assert (result.inputs["previous_start"], result.inputs["previous_end"]) == (
        "2024-07-01",
        "2024-07-05",
    )


def test_yoy_growth(write: Write) -> None:
    rows = INVOICE_HEADER + (
        "i1,A,S1,400,USD,paid,2023-08-01,,\n"
        "i2,A,S1,500,USD,paid,2024-08-01,,\n"
        "i3,A,S1,450,USD,paid,2024-05-01,,\n"
    )
    ds = dataset(write, invoices=rows)
    # 2024-Q3 500 against 2023-Q3 400: 0.25; against 2024-Q2 450: 50/450 = 0.111111
    assert value(ds, "revenue_growth_rate_yoy", "2024-Q3") == pytest.approx(0.25, abs=FRACTION)
    assert value(ds, "revenue_growth_rate", "2024-Q3") == pytest.approx(1 / 9, abs=FRACTION)


EXPENSES = EXPENSE_HEADER + (
    "2024-07-03,marketing,3100,USD,paid_search\n"
    "2024-07-15,sales,620,USD,\n"
    "2024-08-01,marketing,999,USD,events\n"
)


def test_expenses_by_day_and_by_month(write: Write) -> None:
    period = "2024-07-10..2024-07-20"
    by_day = dataset(write, expenses=EXPENSES)
    # day: only rows dated 07-10..07-20 count: the sales row of 07-15
    assert value(by_day, "marketing_spend", period) == 0.0
    assert value(by_day, "sales_spend", period) == pytest.approx(620)
    by_month = dataset(write, expenses=EXPENSES, options="expenses: {granularity: month}")
    # month: each July row covers all 31 days of July; 07-10..07-20 is 11 of them
    assert value(by_month, "marketing_spend", period) == pytest.approx(1100, abs=MONEY)  # 3,100
    assert value(by_month, "sales_spend", period) == pytest.approx(220, abs=MONEY)  # 620 x 11/31
    assert value(by_month, "sm_spend", period) == pytest.approx(1320, abs=MONEY)
    channels = compute(by_month, "marketing_spend_by_channel", period).value
    assert channels == pytest.approx({"paid_search": 1100.0})
    # a whole quarter gets every row in full: 3,100 + 999
    assert value(by_month, "marketing_spend", "2024-Q3") == pytest.approx(4099, abs=MONEY)


def test_spend_by_channel(write: Write) -> None:
    rows = EXPENSE_HEADER + (
        "2024-07-01,marketing,100,USD,webinars\n"
        "2024-07-02,marketing,50,EUR,ads\n"  # 55 USD
        "2024-07-03,marketing,20,USD,\n"
        "2024-07-04,marketing,30,USD,ads\n"
        "2024-07-05,marketing,70,CHF,tv\n"  # no rate: left out, channel absent
        "2024-07-06,sales,999,USD,ads\n"  # not marketing
    )
    ds = dataset(write, expenses=rows)
    result = compute(ds, "marketing_spend_by_channel", "2024-Q3")
    assert result.value == pytest.approx({"ads": 85.0, "webinars": 100.0, "(none)": 20.0})
    assert isinstance(result.value, dict)
    assert list(result.value) == ["ads", "webinars", "(none)"]
    assert result.warnings == ("no_fx_rate:CHF (1 rows)",)
    assert value(ds, "marketing_spend", "2024-Q3") == pytest.approx(205, abs=MONEY)  # 100+55+20+30


def _assert_no_cogs(ds: Dataset) -> None:
    for key in ("gross_margin", "gross_profit"):
        result = compute(ds, key, "2024-Q3")
        assert (result.value, result.status, result.reason) == (
            None,
            "unavailable",
            "missing_input:expenses.cogs",
        )


def test_no_cogs_rows_make_gross_margin_unavailable(write: Write) -> None:
    invoices = INVOICE_HEADER + "i1,A,S1,1000,USD,paid,2024-07-01,,\n"
    expenses = EXPENSE_HEADER + (
        "2024-07-01,marketing,100,USD,ads\n"  # Q3
        "2024-06-30,cogs,300,USD,\n"  # Q2: not in P
    )
    _assert_no_cogs(dataset(write, invoices=invoices, expenses=expenses))
    # with the row in Q3: (1,000 - 300) / 1,000
    moved = expenses.replace("2024-06-30", "2024-07-30")
    ds = dataset(write, invoices=invoices, expenses=moved)
    assert value(ds, "gross_margin", "2024-Q3") == pytest.approx(0.7, abs=FRACTION)


def test_cogs_rows_without_an_amount_are_no_cogs(write: Write) -> None:
    # §1.2: a null amount leaves the row out of the sum; with every Q3 cogs row unparsed there is
    # no cogs at all, so no 100 % margin (C4, T18)
    invoices = INVOICE_HEADER + "i1,A,S1,1000,USD,paid,2024-07-01,,\n"
    expenses = EXPENSE_HEADER + "2024-07-05,cogs,n/a,USD,\n2024-07-09,cogs,,USD,\n"
    _assert_no_cogs(dataset(write, invoices=invoices, expenses=expenses))
    # one parsed row is cogs again: (1,000 - 250) / 1,000
    ds = dataset(write, invoices=invoices, expenses=expenses.replace(",,USD", ",250,USD"))
    assert value(ds, "gross_margin", "2024-Q3") == pytest.approx(0.75, abs=FRACTION)


def test_cogs_rows_without_a_rate(write: Write) -> None:
    invoices = INVOICE_HEADER + "i1,A,S1,1000,USD,paid,2024-07-01,,\n"
    expenses = EXPENSE_HEADER + "2024-07-30,cogs,300,CHF,\n"
    ds = dataset(write, invoices=invoices, expenses=expenses)
    result = compute(ds, "gross_margin", "2024-Q3")
    # the cogs row is there but cannot be converted: null, not a 100 % margin
    assert (result.status, result.reason) == ("null", "no_fx_rate:CHF")


def test_missing_tables(write: Write) -> None:
    only_expenses = dataset(write, expenses=EXPENSES)
    for key in (
        "revenue",
        "revenue_recurring",
        "revenue_uncollectible",
        "revenue_growth_rate",
        "revenue_growth_rate_yoy",
        "revenue_predictability",
        "gross_margin",
        "gross_profit",
        "marketing_spend_ratio",
    ):
        result = compute(only_expenses, key, "2024-Q3")
        assert (result.status, result.reason) == ("unavailable", "missing_table:invoices"), key
    only_invoices = dataset(write, invoices=ANNUAL)
    spend_keys = ("marketing_spend", "sales_spend", "sm_spend", "marketing_spend_by_channel")
    for key in (
        *spend_keys,
        "gross_margin",
        "gross_profit",
        "cost_per_lead",
        "marketing_spend_ratio",
        # CAC lacks its customers too (no subscriptions, no deals): the numerator is named first
        "cac",
        "cac_marketing",
    ):
        result = compute(only_invoices, key, "2024-Q3")
        assert (result.status, result.reason) == ("unavailable", "missing_table:expenses"), key


def test_header_only_export_is_a_missing_table(write: Write) -> None:
    ds = dataset(write, invoices=INVOICE_HEADER, expenses=EXPENSES)  # S006: not loaded
    result = compute(ds, "revenue", "2024-Q3")
    assert (result.status, result.reason) == ("unavailable", "missing_table:invoices")


@pytest.mark.parametrize(
    ("drop", "key", "reason"),
    [
        ("amount", "revenue", "missing_column:invoices.amount"),
        ("issued_at", "revenue", "missing_column:invoices.issued_at"),
        ("issued_at", "revenue_uncollectible", "missing_column:invoices.issued_at"),
    ],
)
def test_missing_invoice_columns(write: Write, drop: str, key: str, reason: str) -> None:
    header = INVOICE_HEADER.strip().split(",")
    keep = [i for i, name in enumerate(header) if name != drop]
    row = ["i1", "A", "S1", "100", "USD", "paid", "2024-07-01", "", ""]
    csv = ",".join(header[i] for i in keep) + "\n" + ",".join(row[i] for i in keep) + "\n"
    result = compute(dataset(write, invoices=csv), key, "2024-Q3")
    assert (result.value, result.status, result.reason) == (None, "unavailable", reason)


def test_revenue_without_subscription_column(write: Write) -> None:
    rows = "invoice_id,customer_id,amount,issued_at\ni1,A,100,2024-07-01\n"
    ds = dataset(write, invoices=rows)
    # currency defaults to the base, status to paid, and subscription_id is optional (C1): without
    # it no invoice is recurring
    assert value(ds, "revenue", "2024-Q3") == pytest.approx(100)
    assert value(ds, "revenue_recurring", "2024-Q3") == pytest.approx(0)
    assert value(ds, "revenue_non_recurring", "2024-Q3") == pytest.approx(100)
    assert value(ds, "revenue_predictability", "2024-Q3") == pytest.approx(0)


def test_missing_channel_column(write: Write) -> None:
    rows = "date,category,amount\n2024-07-01,marketing,100\n"
    ds = dataset(write, expenses=rows)
    assert value(ds, "marketing_spend", "2024-Q3") == pytest.approx(100)
    result = compute(ds, "marketing_spend_by_channel", "2024-Q3")
    assert (result.status, result.reason) == ("unavailable", "missing_column:expenses.channel")


LEADS_HEADER = "lead_id,status,created_at\n"


def test_cost_per_lead(write: Write) -> None:
    leads = LEADS_HEADER + (
        "l1,new,2024-07-01T10:00:00Z\n"
        "l2,new,2024-08-01T10:00:00Z\n"
        "l3,working,2024-09-30T10:00:00Z\n"
        "l4,new,2024-06-30T10:00:00Z\n"  # Q2
    )
    expenses = EXPENSE_HEADER + "2024-07-01,marketing,90,USD,ads\n2024-07-02,sales,500,USD,\n"
    ds = dataset(write, expenses=expenses, leads=leads)
    # 90 of marketing / 3 leads created in Q3 = 30.00 (sales spend is not in CPL)
    assert value(ds, "cost_per_lead", "2024-Q3") == pytest.approx(30.0, abs=MONEY)
    # Q4 has no lead: null
    q4 = compute(ds, "cost_per_lead", "2024-Q4")
    assert (q4.status, q4.reason) == ("null", "zero_denominator")
    # no leads table: the lead count is unavailable, and so is CPL (D9)
    no_leads = dataset(write, expenses=expenses)
    result = compute(no_leads, "cost_per_lead", "2024-Q3")
    assert (result.status, result.reason) == ("unavailable", "missing_table:leads")


def test_sm_is_marketing_plus_sales(write: Write) -> None:
    rows = EXPENSE_HEADER + (
        "2024-07-01,marketing,100,USD,ads\n"
        "2024-07-02,sales,40,USD,\n"
        "2024-07-03,other,1000,USD,\n"  # neither S&M nor cogs
        "2024-07-04,marketing,-10,USD,ads\n"  # a refund reduces spend
        "2024-07-05,,7,USD,\n"  # no category: other
    )
    ds = dataset(write, expenses=rows)
    assert value(ds, "marketing_spend", "2024-Q3") == pytest.approx(90)
    assert value(ds, "sales_spend", "2024-Q3") == pytest.approx(40)
    assert value(ds, "sm_spend", "2024-Q3") == pytest.approx(130)  # 90 + 40
    assert value(ds, "sales_spend", "2024-Q2") == 0.0  # no rows: 0, not null
