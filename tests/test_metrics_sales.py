"""Sales, pipeline, forecast and lead metrics (B6, E1-E10): the toy values of METRICS.md §3/§4 and
DECISIONS D6, and hand-worked edge cases on tiny datasets."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from toy import AS_OF, TOY, toy_dataset, toy_metric

from revops_cli.config import load_config
from revops_cli.load.dataset import Dataset, load_dataset
from revops_cli.metrics import compute_metrics
from revops_cli.metrics.context import MetricContext
from revops_cli.metrics.runner import fiscal_calendar
from revops_cli.periods import evaluate, parse_period
from revops_cli.results import MetricResult

Write = Callable[[str, str | bytes], Path]
FUNNEL = TOY.parent / "toy_funnel"
MONEY = 0.005
FRACTION = 1e-6


def money(value: float) -> object:
    return pytest.approx(value, abs=MONEY)


def fraction(value: float) -> object:
    return pytest.approx(value, abs=FRACTION)


def number(got: MetricResult) -> float:
    assert isinstance(got.value, int | float)
    return float(got.value)


def toy(key: str, period: str = "2024-Q3") -> MetricResult:
    return toy_metric(key, period).current


def result(ds: Dataset, key: str, period: str = "2024-Q3") -> MetricResult:
    """One metric for one period, computed alone (no comparison window)."""
    calendar = fiscal_calendar(ds)
    window = evaluate(parse_period(period, ds.as_of, calendar), ds.as_of)
    return MetricContext(ds, window, calendar).value(key)


def load(
    write: Write,
    files: dict[str, str],
    settings: str = "",
    as_of: date = AS_OF,
    deals_values: str = "",
) -> Dataset:
    """A dataset of the given CSV texts (table -> content), USD base with EUR at 1.10."""
    sources = []
    for table, content in files.items():
        write(f"{table}.csv", content)
        extra = f", {deals_values}" if table == "deals" and deals_values else ""
        sources.append(f"  {table}: {{path: {table}.csv{extra}}}")
    config = (
        "version: 1\ncurrency: {base: USD, rates: {EUR: 1.10}}\nsources:\n"
        + "\n".join(sources)
        + "\n"
        + settings
    )
    return load_dataset(load_config(write("revops.yaml", config)), as_of)


def toy_with(write: Write, settings: str = "", as_of: date = AS_OF) -> Dataset:
    """The toy sales tables (by absolute path) with extra `metrics:` settings."""
    tables = ("deals", "forecasts", "leads", "owners")
    sources = "\n".join(f"  {t}: {{path: '{TOY / (t + '.csv')}'}}" for t in tables)
    config = f"version: 1\ncurrency: {{base: USD}}\nsources:\n{sources}\n{settings}"
    return load_dataset(load_config(write("revops.yaml", config)), as_of)


def funnel(as_of: date = AS_OF) -> Dataset:
    return load_dataset(load_config(FUNNEL / "revops.yaml"), as_of)


# --- the toy dataset (METRICS §3; D6 Appendix) ---------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("bookings", 30_000.0),  # D1 12,000 + D2 8,000 + D4 4,000 + D6 6,000 (all won in Q3)
        ("bookings_new_business", 20_000.0),  # D1 + D2
        ("bookings_expansion", 4_000.0),  # D4
        ("bookings_renewal", 6_000.0),  # D6
        ("avg_deal_size", 8_000.0),  # in-scope won (12,000 + 8,000 + 4,000) / 3
        ("pipeline_created_amount", 39_000.0),  # D4 4,000 + D8 20,000 + D9 15,000 (D5 null)
        ("pipeline_velocity", 272.985782),  # 4 x 0.60 x 8,000 / (211/3) = 57,600 / 211
        ("pipeline_velocity_period", 25_114.691943),  # 57,600 / 211 x 92 days
    ],
)
def test_toy_money(key: str, expected: float) -> None:
    assert toy(key).status == "ok"
    assert toy(key).value == money(expected)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("renewal_rate", 0.5),  # D6 won, D7 lost -> 1 / 2
        ("renewal_rate_amount", 0.666667),  # 6,000 / (6,000 + 3,000)
        ("win_rate", 0.6),  # D1 W, D2 W, D3 L, D4 W, D5 L -> 3 / 5
        ("win_rate_amount", 0.705882),  # 24,000 / (24,000 + 10,000); D5's null amount left out
        ("forecast_accuracy", 0.833333),  # F 28,000 (06-28, locked at start), A 24,000: 1 - 4/24
        ("forecast_bias", 0.166667),  # (28,000 - 24,000) / 24,000
        ("lead_conversion_rate", 0.12),  # 24 / 200
        ("lead_to_customer_rate", 0.03),  # 6 / 200
    ],
)
def test_toy_fractions(key: str, expected: float) -> None:
    assert toy(key).status == "ok"
    assert toy(key).value == fraction(expected)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("bookings_count", 4),  # D1, D2, D4, D6
        ("pipeline_created_count", 4),  # D4, D5, D8, D9 created in Q3
        ("leads_created", 200),
    ],
)
def test_toy_counts(key: str, expected: int) -> None:
    assert toy(key).value == expected


def test_toy_sales_cycle() -> None:
    # D1 05-01 -> 07-20 = 80 days, D2 06-15 -> 08-14 = 60, D4 07-01 -> 09-10 = 71
    assert toy("sales_cycle_days").value == pytest.approx(211 / 3, abs=1e-6)  # 70.333
    assert toy("sales_cycle_days_median").value == 71
    assert toy("sales_cycle_days").inputs["deals"] == 3


def test_toy_inputs_explain_the_values() -> None:
    assert toy("win_rate").inputs == {"won": 3, "lost": 2}
    assert toy("win_rate_amount").inputs["excluded_null_amount"] == 1  # D5
    assert toy("pipeline_created_count").inputs["excluded_null_amount"] == 1  # D5
    assert toy("lead_conversion_rate").inputs["maturity_days"] == 5  # A 10-05 - p_end 09-30
    assert toy("forecast_accuracy").inputs["forecast_submitted"] == date(2024, 6, 28)


@pytest.mark.parametrize(
    "key",
    [
        "open_pipeline_amount",
        "weighted_pipeline_amount",
        "pipeline_coverage",
        "weighted_pipeline_coverage",
    ],
)
def test_toy_pipeline_of_a_closed_period_is_null(key: str) -> None:
    # A = 2024-10-05 > p_end = 2024-09-30: what was open then cannot be rebuilt
    assert (toy(key).value, toy(key).status, toy(key).reason) == (None, "null", "period_closed")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("open_pipeline_amount", 29_000.0),  # D8 20,000 + D10 9,000 (D9 closes in Q3 and is stale)
        ("weighted_pipeline_amount", 9_800.0),  # 20,000 x 0.40 + 9,000 x 0.20
        ("pipeline_coverage", 2.416667),  # 29,000 / (12,000 target - 0 booked in Q4 so far)
        ("weighted_pipeline_coverage", 0.816667),  # 9,800 / 12,000
    ],
)
def test_toy_pipeline_of_the_current_quarter(key: str, expected: float) -> None:
    got = toy(key, "2024-Q4")
    assert got.status == "ok"
    assert got.value == pytest.approx(expected, abs=1e-6)


def test_toy_coverage_target_is_the_locked_q4_forecast() -> None:
    inputs = toy("pipeline_coverage", "2024-Q4").inputs
    assert inputs["target"] == 12_000.0  # submitted 2024-09-28 <= p_start 2024-10-01
    assert inputs["bookings_to_date"] == 0.0  # the Q4 wins so far are renewals, out of scope
    assert inputs["remaining_target"] == 12_000.0


def test_toy_forecast_snapshot_period_end(write: Write) -> None:
    ds = toy_with(write, "metrics: {forecast: {snapshot: period_end}}")
    # last call: the 2024-08-01 submission F = 25,000; 1 - 1,000 / 24,000
    assert result(ds, "forecast_accuracy").value == fraction(0.958333)
    assert result(ds, "forecast_bias").value == fraction(1_000 / 24_000)


def test_toy_wape_needs_owner_or_team_rows() -> None:
    got = toy("forecast_accuracy_wape")  # the toy has company rows only (D31)
    assert (got.status, got.reason) == ("unavailable", "missing_input:forecasts")


def test_toy_stage_conversion_needs_history() -> None:
    got = toy("stage_conversion")
    assert (got.status, got.reason) == ("unavailable", "missing_table:deal_stage_history")


def test_lead_sourced_deals_stay_out_of_q3() -> None:
    deals = toy_dataset().tables["deals"]
    lead_deals = deals.filter(deals["deal_id"].str.starts_with("LD"))
    assert lead_deals.height == 24
    assert set(lead_deals["deal_type"].to_list()) == {"renewal"}
    closes = lead_deals["close_date"].to_list()
    assert all(not date(2024, 7, 1) <= d <= date(2024, 9, 30) for d in closes)
    assert lead_deals.filter(lead_deals["status"] == "won").height == 6


# --- §10 invariants ------------------------------------------------------------------------------


def test_bookings_is_the_sum_of_its_split() -> None:  # §10 item 6
    for period in ("2024-Q3", "2024-Q4", "2024"):
        parts = sum(
            number(toy(k, period))
            for k in ("bookings_new_business", "bookings_expansion", "bookings_renewal")
        )
        assert toy("bookings", period).value == money(parts)


def test_bookings_split_invariant_with_unconverted_and_default_types(write: Write) -> None:
    ds = load(
        write,
        {
            "deals": """\
            deal_id,status,amount,currency,deal_type,close_date
            A,won,100,USD,,2024-07-02
            B,won,200,EUR,expansion,2024-07-03
            C,won,300,CHF,renewal,2024-07-04
            D,won,400,USD,renewal,2024-07-05
            """
        },
    )
    # A (null type -> new_business) 100; B 200 x 1.10 = 220; C has no rate; D 400
    split = [result(ds, k).value for k in ("bookings_new_business", "bookings_expansion")]
    assert split == [money(100.0), money(220.0)]
    assert result(ds, "bookings_renewal").value == money(400.0)
    assert result(ds, "bookings").value == money(100 + 220 + 400)


def test_stage_rates_multiply_to_the_win_rate() -> None:  # §10 item 7
    ds = funnel()
    funnel_rows = result(ds, "stage_conversion").value
    assert isinstance(funnel_rows, list)
    rates = [row["rate"] for row in funnel_rows]
    assert math.prod(rates) == pytest.approx(result(ds, "win_rate").value, abs=1e-9)
    assert result(ds, "win_rate").value == fraction(0.2)  # F09, F10 won of 10


# --- E10 stage funnel ----------------------------------------------------------------------------


def test_stage_conversion_mini_cohort() -> None:
    got = result(funnel(), "stage_conversion")
    assert got.status == "ok"
    # highest stage: F01-F03 qualification (F02's "Stalled" ignored, F03 has no history, D38),
    # F04-F06 demo (F06 entered at demo), F07 proposal (then back to demo: highest kept),
    # F08 negotiation, F09 and F10 won (F10 skipped demo) -> reached 10 / 7 / 4 / 3 / 2.
    # F11 (open), F12 (closed 2024-10-02) and F13 (renewal) are not in the cohort.
    assert got.value == [
        {"from_stage": "qualification", "to_stage": "demo", "reached_from": 10, "reached_to": 7,
         "rate": fraction(0.7)},
        {"from_stage": "demo", "to_stage": "proposal", "reached_from": 7, "reached_to": 4,
         "rate": fraction(0.571429)},
        {"from_stage": "proposal", "to_stage": "negotiation", "reached_from": 4, "reached_to": 3,
         "rate": fraction(0.75)},
        {"from_stage": "negotiation", "to_stage": "won", "reached_from": 3, "reached_to": 2,
         "rate": fraction(0.666667)},
    ]  # fmt: skip


def test_stage_conversion_empty_cohort_and_unreached_stage(write: Write) -> None:
    history = "deal_id,stage,entered_at\nX,qualification,2024-06-01\n"
    settings = "metrics: {sales: {stages: [qualification, demo]}}"
    deals = "deal_id,status,close_date\nX,lost,2024-07-10\n"
    ds = load(write, {"deals": deals, "deal_stage_history": history}, settings)
    # one lost deal that never left qualification: 1 -> 0 -> 0, the demo -> won rate is null
    assert result(ds, "stage_conversion").value == [
        {"from_stage": "qualification", "to_stage": "demo", "reached_from": 1, "reached_to": 0,
         "rate": 0.0},
        {"from_stage": "demo", "to_stage": "won", "reached_from": 0, "reached_to": 0,
         "rate": None},
    ]  # fmt: skip
    empty = result(ds, "stage_conversion", "2024-Q2")  # nothing closed in Q2
    assert (empty.value, empty.status, empty.reason) == (None, "null", "zero_denominator")


def test_stage_conversion_without_configured_stages(write: Write) -> None:
    history = "deal_id,stage,entered_at\nX,qualification,2024-06-01\n"
    ds = load(write, {"deals": "deal_id,status,close_date\nX,won,2024-07-10\n",
                      "deal_stage_history": history})  # fmt: skip
    got = result(ds, "stage_conversion")
    assert (got.status, got.reason) == ("unavailable", "missing_input:sales.stages")


# --- zero denominators and empty populations (§1.2, D9) ------------------------------------------


OPEN_ONLY = """\
deal_id,status,amount,deal_type,created_at,close_date,probability
A,open,1000,new_business,2024-01-10,2024-12-20,50
"""


@pytest.mark.parametrize(
    "key",
    [
        "renewal_rate",
        "renewal_rate_amount",
        "win_rate",
        "win_rate_amount",
        "avg_deal_size",
        "sales_cycle_days",
        "sales_cycle_days_median",
        "pipeline_velocity",  # inherits win_rate's null (D9)
        "pipeline_velocity_period",
    ],
)
def test_nothing_closed_is_a_zero_denominator(write: Write, key: str) -> None:
    ds = load(write, {"deals": OPEN_ONLY})
    got = result(ds, key)
    assert (got.value, got.status, got.reason) == (None, "null", "zero_denominator")


@pytest.mark.parametrize(
    "key", ["bookings", "bookings_count", "pipeline_created_amount", "pipeline_created_count"]
)
def test_sums_and_counts_without_rows_are_zero(write: Write, key: str) -> None:
    ds = load(write, {"deals": OPEN_ONLY})  # created in Q1, nothing won in Q3
    assert (result(ds, key).value, result(ds, key).status) == (0, "ok")


def test_leads_without_a_cohort(write: Write) -> None:
    leads = "lead_id,status,created_at,converted_deal_id\nL1,new,2024-05-01T00:00:00Z,\n"
    ds = load(write, {"leads": leads, "deals": OPEN_ONLY})
    assert result(ds, "leads_created").value == 0
    for key in ("lead_conversion_rate", "lead_to_customer_rate"):
        assert (result(ds, key).status, result(ds, key).reason) == ("null", "zero_denominator")


def test_forecast_with_no_actual_bookings(write: Write) -> None:
    forecasts = "period,amount,submitted_at\n2024-Q3,5000,2024-06-01T00:00:00Z\n"
    ds = load(write, {"deals": OPEN_ONLY, "forecasts": forecasts})
    for key in ("forecast_accuracy", "forecast_bias"):  # A = 0
        assert (result(ds, key).status, result(ds, key).reason) == ("null", "zero_denominator")


def test_zero_sales_cycle_makes_velocity_null(write: Write) -> None:
    deals = """\
    deal_id,status,amount,created_at,close_date
    A,won,1000,2024-07-10,2024-07-10
    """
    ds = load(write, {"deals": deals})
    assert result(ds, "sales_cycle_days").value == 0  # created and won the same day
    got = result(ds, "pipeline_velocity")
    assert (got.status, got.reason) == ("null", "zero_denominator")


# --- missing tables and columns (§1.2, D10) ------------------------------------------------------


DEAL_KEYS = [
    "renewal_rate",
    "renewal_rate_amount",
    "bookings",
    "bookings_new_business",
    "bookings_expansion",
    "bookings_renewal",
    "bookings_count",
    "win_rate",
    "win_rate_amount",
    "avg_deal_size",
    "sales_cycle_days",
    "sales_cycle_days_median",
    "pipeline_created_amount",
    "pipeline_created_count",
    "pipeline_velocity",
    "pipeline_velocity_period",
    "open_pipeline_amount",
    "weighted_pipeline_amount",
    "pipeline_coverage",
    "weighted_pipeline_coverage",
    "forecast_accuracy",
    "forecast_bias",
    "forecast_accuracy_wape",
    "stage_conversion",
]


@pytest.mark.parametrize("key", DEAL_KEYS)
def test_without_deals_everything_is_unavailable(write: Write, key: str) -> None:
    forecasts = "period,amount\n2024-Q4,1000\n"
    ds = load(write, {"forecasts": forecasts}, as_of=date(2024, 10, 5))
    got = result(ds, key, "2024-Q4")
    assert (got.value, got.status, got.reason) == (None, "unavailable", "missing_table:deals")


@pytest.mark.parametrize("key", ["leads_created", "lead_conversion_rate", "lead_to_customer_rate"])
def test_without_leads_e9_is_unavailable(write: Write, key: str) -> None:
    ds = load(write, {"deals": OPEN_ONLY})
    assert (result(ds, key).status, result(ds, key).reason) == (
        "unavailable",
        "missing_table:leads",
    )


def test_lead_to_customer_needs_deals_and_the_link(write: Write) -> None:
    with_link = "lead_id,created_at,converted_deal_id\nL1,2024-07-01T00:00:00Z,D1\n"
    ds = load(write, {"leads": with_link})
    got = result(ds, "lead_to_customer_rate")
    assert (got.status, got.reason) == ("unavailable", "missing_table:deals")
    assert result(ds, "lead_conversion_rate").value == 1.0  # converted_deal_id is set


def test_lead_columns(write: Write) -> None:
    only_created = "lead_id,created_at\nL1,2024-07-01T00:00:00Z\n"
    ds = load(write, {"leads": only_created, "deals": OPEN_ONLY})
    assert result(ds, "leads_created").value == 1
    # no converted_at, converted_deal_id or status header: conversion cannot be known
    got = result(ds, "lead_conversion_rate")
    assert (got.status, got.reason) == ("unavailable", "missing_column:leads.converted_at")
    got = result(ds, "lead_to_customer_rate")
    assert (got.status, got.reason) == ("unavailable", "missing_column:leads.converted_deal_id")


@pytest.mark.parametrize(
    ("header", "key", "reason"),
    [
        ("amount", "bookings", "missing_column:deals.amount"),
        ("amount", "win_rate_amount", "missing_column:deals.amount"),
        ("amount", "avg_deal_size", "missing_column:deals.amount"),
        ("amount", "renewal_rate_amount", "missing_column:deals.amount"),
        ("amount", "pipeline_created_amount", "missing_column:deals.amount"),
        ("amount", "pipeline_velocity", "missing_column:deals.amount"),  # via avg_deal_size
        ("amount", "forecast_accuracy", "missing_column:deals.amount"),
        ("close_date", "bookings_count", "missing_column:deals.close_date"),
        ("close_date", "win_rate", "missing_column:deals.close_date"),
        ("close_date", "renewal_rate", "missing_column:deals.close_date"),
        ("close_date", "stage_conversion", "missing_column:deals.close_date"),
        ("created_at", "sales_cycle_days", "missing_column:deals.created_at"),
        ("created_at", "pipeline_created_count", "missing_column:deals.created_at"),
        ("probability", "weighted_pipeline_amount", "missing_column:deals.probability"),
        ("probability", "weighted_pipeline_coverage", "missing_column:deals.probability"),
    ],
)
def test_missing_deal_columns(write: Write, header: str, key: str, reason: str) -> None:
    columns = ["deal_id", "status", "amount", "created_at", "close_date", "probability"]
    row = {"deal_id": "A", "status": "won", "amount": "1000", "created_at": "2024-07-01",
           "close_date": "2024-10-02", "probability": "100"}  # fmt: skip
    kept = [c for c in columns if c != header]
    deals = ",".join(kept) + "\n" + ",".join(row[c] for c in kept) + "\n"
    forecasts = "period,amount\n2024-Q4,5000\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 10, 5))
    got = result(ds, key, "2024-Q4")
    assert (got.value, got.status, got.reason) == (None, "unavailable", reason)


def test_counts_survive_a_missing_amount_column(write: Write) -> None:
    deals = "deal_id,status,close_date\nA,won,2024-07-02\nB,lost,2024-07-03\n"
    ds = load(write, {"deals": deals})
    assert result(ds, "bookings_count").value == 1  # A (B is lost)
    assert result(ds, "win_rate").value == 0.5  # 1 won / (1 won + 1 lost)


@pytest.mark.parametrize(
    "key",
    [
        "forecast_accuracy",
        "forecast_bias",
        "forecast_accuracy_wape",
        "open_pipeline_amount",  # D9, D31: all of E7 needs the company forecast row
        "weighted_pipeline_amount",
        "pipeline_coverage",
        "weighted_pipeline_coverage",
    ],
)
def test_missing_forecasts_table(write: Write, key: str) -> None:
    deals = "deal_id,status,amount,close_date,probability\nA,open,1000,2024-11-01,50\n"
    ds = load(write, {"deals": deals}, as_of=date(2024, 10, 5))
    got = result(ds, key, "2024-Q4")
    assert (got.status, got.reason) == ("unavailable", "missing_table:forecasts")


@pytest.mark.parametrize(
    "key",
    [
        "forecast_accuracy",
        "forecast_bias",
        "open_pipeline_amount",
        "weighted_pipeline_amount",
        "pipeline_coverage",
        "weighted_pipeline_coverage",
    ],
)
def test_no_company_forecast_for_the_period(write: Write, key: str) -> None:
    # rows for another period, an unparsable token and an owner row: no company row for Q4 (D31)
    forecasts = """\
    period,amount,owner_id,submitted_at
    2024-Q3,5000,,
    2024-10,5000,,
    next quarter,5000,,
    2024-Q4,5000,O1,
    """
    deals = "deal_id,status,amount,close_date,probability\nA,open,1000,2024-11-01,50\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 10, 5))
    got = result(ds, key, "2024-Q4")
    assert (got.value, got.status, got.reason) == (None, "unavailable", "missing_input:forecasts")


E7_KEYS = [
    "open_pipeline_amount",
    "weighted_pipeline_amount",
    "pipeline_coverage",
    "weighted_pipeline_coverage",
]


def test_e7_amounts_without_a_forecast_keep_their_inputs(write: Write) -> None:
    deals = """\
    deal_id,status,amount,close_date,probability
    A,open,10000,2024-11-01,0.5
    B,open,4000,2024-10-02,0.5
    """
    ds = load(write, {"deals": deals}, as_of=date(2024, 10, 5))
    for key in E7_KEYS:  # the amounts are unavailable like the coverages, with the same inputs
        got = result(ds, key, "2024-Q4")
        assert (got.value, got.status, got.reason) == (
            None,
            "unavailable",
            "missing_table:forecasts",
        )
        assert (got.inputs["open_deals"], got.inputs["excluded_stale"]) == (1, 1)  # A; B is stale
    # Q3 ended before A, but the missing forecasts come first: METRICS §7 lists a metric whose
    # required table is not mapped as unavailable, whatever the period
    for key in E7_KEYS:
        got = result(ds, key, "2024-Q3")
        assert (got.value, got.status, got.reason) == (
            None,
            "unavailable",
            "missing_table:forecasts",
        )
    forecasts = "period,amount,submitted_at\n2024-Q4,20000,2024-09-01T00:00:00Z\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 10, 5))
    for key in E7_KEYS:  # no company row for Q3 (D9), then a Q3 row: the period is closed
        got = result(ds, key, "2024-Q3")
        assert (got.value, got.status, got.reason) == (
            None,
            "unavailable",
            "missing_input:forecasts",
        )
    with_q3 = forecasts + "2024-Q3,9000,2024-06-01T00:00:00Z\n"
    closed = load(write, {"deals": deals, "forecasts": with_q3}, as_of=date(2024, 10, 5))
    for key in E7_KEYS:
        got = result(closed, key, "2024-Q3")
        assert (got.value, got.status, got.reason) == (None, "null", "period_closed")
    assert result(ds, "open_pipeline_amount", "2024-Q4").value == money(10_000.0)  # A
    assert result(ds, "weighted_pipeline_amount", "2024-Q4").value == money(5_000.0)  # x 0.5
    assert result(ds, "pipeline_coverage", "2024-Q4").value == fraction(0.5)  # 10,000 / 20,000


# --- currencies without a rate (§1.4, T9) --------------------------------------------------------


NO_RATE = """\
deal_id,status,amount,currency,deal_type,created_at,close_date
A,won,1000,USD,new_business,2024-06-01,2024-07-11
B,won,5000,CHF,new_business,2024-06-01,2024-07-21
C,lost,2000,EUR,new_business,2024-06-01,2024-07-31
"""


def test_a_deal_without_rate_is_left_out_of_sums_but_counted(write: Write) -> None:
    ds = load(write, {"deals": NO_RATE})
    bookings = result(ds, "bookings")
    assert bookings.value == money(1_000.0)  # B (CHF, no rate) is left out
    assert bookings.warnings == ("no_fx_rate:CHF (1 rows)",)
    assert bookings.inputs["excluded_no_fx_rate"] == 1
    assert result(ds, "bookings_count").value == 2  # A and B
    assert result(ds, "win_rate").value == fraction(2 / 3)  # A, B won; C lost
    # amount: 1,000 / (1,000 + 2,000 x 1.10) = 1,000 / 3,200
    assert result(ds, "win_rate_amount").value == fraction(0.3125)
    assert result(ds, "win_rate_amount").warnings == ("no_fx_rate:CHF (1 rows)",)
    assert result(ds, "avg_deal_size").value == money(1_000.0)  # A only
    assert result(ds, "sales_cycle_days").value == pytest.approx((40 + 50) / 2)  # A 40, B 50


def test_when_every_amount_lacks_a_rate_the_reason_is_no_fx_rate(write: Write) -> None:
    deals = "deal_id,status,amount,currency,close_date\nB,won,5000,CHF,2024-07-21\n"
    ds = load(write, {"deals": deals})
    for key in ("bookings", "avg_deal_size", "win_rate_amount"):
        got = result(ds, key)
        assert (got.value, got.status, got.reason) == (None, "null", "no_fx_rate:CHF")
    assert result(ds, "bookings_count").value == 1
    # several currencies without a rate: one code, the currency with the most rows (D9's
    # `no_fx_rate:<CUR>`, as the MRR metrics give it)
    deals += "C,won,10,JPY,2024-07-22\nD,won,20,JPY,2024-07-23\n"
    got = result(load(write, {"deals": deals}), "bookings")
    assert (got.reason, got.warnings) == (
        "no_fx_rate:JPY",
        ("no_fx_rate:CHF (1 rows)", "no_fx_rate:JPY (2 rows)"),
    )
    # a won USD deal without an amount does not lack a rate: not every input row does (D9),
    # so bookings is 0 with the warning, as MRR and revenue are
    deals = "deal_id,status,amount,currency,close_date\nB,won,5000,CHF,2024-07-21\n"
    deals += "E,won,,USD,2024-07-22\n"
    got = result(load(write, {"deals": deals}), "bookings")
    assert (got.value, got.status, got.warnings) == (0.0, "ok", ("no_fx_rate:CHF (1 rows)",))
    # a CHF deal without an amount lacks a rate all the same, as an invoice or a subscription
    # row in CHF does: every input row lacks one, so the reason is no_fx_rate
    deals = "deal_id,status,amount,currency,close_date\nF,won,,CHF,2024-07-21\n"
    got = result(load(write, {"deals": deals}), "bookings")
    assert (got.status, got.reason, got.inputs["excluded_no_fx_rate"]) == (
        "null",
        "no_fx_rate:CHF",
        1,
    )


# --- amounts: null, zero, probability (§1.7, D36) ------------------------------------------------


def test_zero_amount_is_missing_in_averages_only(write: Write) -> None:
    deals = """\
    deal_id,status,amount,close_date
    A,won,0,2024-07-02
    B,won,3000,2024-07-03
    C,won,,2024-07-04
    """
    ds = load(write, {"deals": deals})
    assert result(ds, "bookings").value == money(3_000.0)  # 0 + 3,000; C null
    assert result(ds, "bookings").inputs["won_missing_amount"] == 1
    assert result(ds, "bookings_count").value == 3
    avg = result(ds, "avg_deal_size")
    assert avg.value == money(3_000.0)  # B alone: $0 and null are missing data
    assert (avg.inputs["excluded_zero_amount"], avg.inputs["excluded_null_amount"]) == (1, 1)


def test_null_probability_is_left_out_of_the_weighted_figure_only(write: Write) -> None:
    deals = """\
    deal_id,status,amount,close_date,probability
    A,open,10000,2024-11-01,0.5
    B,open,4000,2024-11-15,
    """
    forecasts = "period,amount,submitted_at\n2024-Q4,7000,2024-09-01T00:00:00Z\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 10, 5))
    assert result(ds, "open_pipeline_amount", "2024-Q4").value == money(14_000.0)  # A + B
    weighted = result(ds, "weighted_pipeline_amount", "2024-Q4")
    assert weighted.value == money(5_000.0)  # 10,000 x 0.5; B has no probability
    assert weighted.inputs["excluded_null_probability"] == 1
    assert result(ds, "pipeline_coverage", "2024-Q4").value == fraction(2.0)  # 14,000 / 7,000
    assert result(ds, "weighted_pipeline_coverage", "2024-Q4").value == fraction(5 / 7)


def test_stale_open_deals_are_not_pipeline(write: Write) -> None:
    ds = toy_with(write, as_of=date(2024, 10, 20))
    got = result(ds, "open_pipeline_amount", "2024-Q4")
    # at A = 10-20, D8 (close 10-15) is stale: only D10 9,000 is left
    assert got.value == money(9_000.0)
    assert got.inputs["excluded_stale"] == 1
    assert result(ds, "weighted_pipeline_amount", "2024-Q4").value == money(1_800.0)  # x 0.20


def test_target_met(write: Write) -> None:
    deals = """\
    deal_id,status,amount,close_date,probability
    W,won,15000,2024-10-02,100
    A,open,10000,2024-11-01,50
    """
    forecasts = "period,amount,submitted_at\n2024-Q4,12000,2024-09-28T00:00:00Z\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 10, 5))
    # remaining target 12,000 - 15,000 booked = -3,000 <= 0
    for key in ("pipeline_coverage", "weighted_pipeline_coverage"):
        got = result(ds, key, "2024-Q4")
        assert (got.value, got.status, got.reason) == (None, "null", "target_met")
        assert got.inputs["remaining_target"] == -3_000.0
    assert result(ds, "open_pipeline_amount", "2024-Q4").value == money(10_000.0)


# --- effective close date and options (§1.7, §8) -------------------------------------------------


STAGED_DEALS = """\
deal_id,stage,amount,created_at,close_date
W,Signed,8000,2024-06-01,2024-10-02
L,Dead,2000,2024-06-01,2024-12-31
O,Demo,5000,2024-06-01,2024-09-15
"""
STAGED_HISTORY = """\
deal_id,stage,entered_at
W,Demo,2024-07-01T10:00:00Z
W,signed,2024-09-28T10:00:00Z
W,Signed,2024-10-02T10:00:00Z
L,Dead,2024-08-15T23:30:00Z
O,Demo,2024-07-01T10:00:00Z
"""
STATUS_MAP = "values: {status: {won: [Signed], lost: [Dead]}}"


def test_close_date_from_stage_history(write: Write) -> None:
    files = {"deals": STAGED_DEALS, "deal_stage_history": STAGED_HISTORY}
    settings = "metrics: {deals: {close_date_source: stage_history}}"
    ds = load(write, files, settings, deals_values=STATUS_MAP)
    # W first entered Signed on 09-28 (close_date 10-02 was keyed late); L entered Dead on 08-15
    # (its planned 12-31 was never updated, T13). O is open: its expected date is not a close.
    assert result(ds, "bookings").value == money(8_000.0)
    assert result(ds, "win_rate").value == fraction(0.5)  # W won, L lost
    assert result(ds, "sales_cycle_days").value == 119  # 06-01 -> 09-28
    plain = load(write, files, deals_values=STATUS_MAP)  # default close_date_source: close_date
    assert result(plain, "bookings").value == 0
    assert result(plain, "win_rate").status == "null"


def test_stage_history_reads_the_presets_won_and_lost_stages(write: Write) -> None:
    # D17: the preset supplies the status map, for the history lookup too (§1.7)
    deals = """\
    Record ID,Deal Stage,Amount,Create Date,Close Date
    H1,Closed Won,100,2024-06-01,2024-10-02
    H2,closedlost,50,2024-06-01,2024-10-03
    """
    history = """\
    deal_id,stage,entered_at
    H1,closedwon,2024-09-28T10:00:00Z
    H1,Closed Won,2024-10-02T10:00:00Z
    H2,Closed Lost,2024-09-20T10:00:00Z
    """
    files = {"deals": deals, "deal_stage_history": history}
    settings = "metrics: {deals: {close_date_source: stage_history}}"
    ds = load(write, files, settings, deals_values="preset: hubspot-deals")
    # H1 first entered a won stage on 09-28 and H2 a lost one on 09-20: both closed in Q3
    assert result(ds, "bookings").value == money(100.0)
    assert result(ds, "win_rate").value == fraction(0.5)
    assert result(ds, "bookings", "2024-Q4").value == 0


def test_stage_history_dates_follow_the_time_zone(write: Write) -> None:
    history = "deal_id,stage,entered_at\nW,Signed,2024-09-30T20:00:00Z\n"
    files = {"deals": STAGED_DEALS, "deal_stage_history": history}
    utc = "metrics: {deals: {close_date_source: stage_history}}"
    tokyo = "metrics: {timezone: Asia/Tokyo, deals: {close_date_source: stage_history}}"
    # 09-30 20:00 UTC is 10-01 05:00 in Tokyo: won in Q3 in UTC, in Q4 in Tokyo (T8)
    ds = load(write, files, utc, deals_values=STATUS_MAP)
    assert result(ds, "bookings").value == money(8_000.0)
    ds = load(write, files, tokyo, deals_values=STATUS_MAP)
    assert result(ds, "bookings").value == 0
    assert result(ds, "bookings", "2024-Q4").value == money(8_000.0)


def test_sales_cycle_include_lost(write: Write) -> None:
    deals = """\
    deal_id,status,amount,created_at,close_date
    A,won,1000,2024-07-01,2024-07-11
    B,lost,1000,2024-07-01,2024-08-10
    C,won,1000,2024-08-01,2024-07-31
    """
    ds = load(write, {"deals": deals})
    got = result(ds, "sales_cycle_days")
    assert got.value == 10  # A only; C closes before it was created (-1) and is left out
    assert got.inputs["excluded_negative"] == 1
    ds = load(write, {"deals": deals}, "metrics: {sales_cycle: {include_lost: true}}")
    assert result(ds, "sales_cycle_days").value == 25  # (A 10 + B 40) / 2
    assert result(ds, "sales_cycle_days_median").value == 25


def test_velocity_with_open_at_as_of(write: Write) -> None:
    ds = toy_with(write, "metrics: {pipeline_velocity: {opportunities: open_at_as_of}}")
    got = result(ds, "pipeline_velocity")
    # N = open in scope at A, not stale: D8, D10 (D9 closed 09-30 < A) -> 2 x 0.6 x 8,000 / (211/3)
    assert got.value == money(28_800 / 211)
    assert got.inputs["opportunities"] == 2
    assert result(ds, "pipeline_velocity_period").value == money(28_800 / 211 * 92)


def test_velocity_period_uses_the_elapsed_days(write: Write) -> None:
    deals = """\
    deal_id,status,amount,created_at,close_date
    A,won,1000,2024-10-01,2024-10-03
    """
    ds = load(write, {"deals": deals}, as_of=date(2024, 10, 5))
    # N 1 x win rate 1 x 1,000 / 2 days = 500 per day; days(P) = 10-01..10-05 = 5 (D32)
    assert result(ds, "pipeline_velocity", "2024-Q4").value == money(500.0)
    assert result(ds, "pipeline_velocity_period", "2024-Q4").value == money(2_500.0)


def test_sales_scope_setting(write: Write) -> None:
    ds = toy_with(write, "metrics: {sales: {deal_types: [new_business]}}")
    assert result(ds, "win_rate").value == fraction(0.5)  # D1 W, D2 W, D3 L, D5 L (D4 out)
    assert result(ds, "avg_deal_size").value == money(10_000.0)  # (12,000 + 8,000) / 2
    assert result(ds, "bookings").value == money(30_000.0)  # bookings keep every type


def test_forecast_actual_deal_types(write: Write) -> None:
    setting = "metrics: {forecast: {actual_deal_types: [new_business, expansion, renewal]}}"
    ds = toy_with(write, setting)
    # A = 30,000 with D6's renewal: 1 - |30,000 - 28,000| / 30,000
    assert result(ds, "forecast_accuracy").value == fraction(1 - 2_000 / 30_000)
    assert result(ds, "forecast_bias").value == fraction(-2_000 / 30_000)


def test_forecast_actual_deal_types_empty_is_no_type_not_the_sales_scope(write: Write) -> None:
    # D11: only null means sales.deal_types; an empty list counts no won deal, so A = 0
    ds = toy_with(write, "metrics: {forecast: {actual_deal_types: []}}")
    got = result(ds, "forecast_accuracy")
    assert (got.value, got.status, got.reason) == (None, "null", "zero_denominator")


# --- forecast snapshots (§1.10, D31) -------------------------------------------------------------


ACTUALS = """\
deal_id,status,amount,owner_id,close_date
A,won,10000,O1,2024-07-10
B,won,6000,O1,2024-08-10
C,won,8000,O2,2024-09-10
"""


def test_snapshot_fallback_and_latest(write: Write) -> None:
    forecasts = """\
    period,amount,submitted_at
    2024-Q3,20000,2024-07-15T00:00:00Z
    FY2024-Q3,25000,2024-08-01T00:00:00Z
    2024-07,99000,2024-06-01T00:00:00Z
    """
    ds = load(write, {"deals": ACTUALS, "forecasts": forecasts})
    got = result(ds, "forecast_accuracy")
    # nothing submitted on or before 07-01: the earliest in-period one, 20,000; 1 - 4,000/24,000
    assert got.value == fraction(0.833333)
    assert got.warnings == ("forecast_snapshot_fallback",)
    assert result(ds, "forecast_bias").value == fraction(-4_000 / 24_000)
    ds = load(
        write, {"deals": ACTUALS, "forecasts": forecasts}, "metrics: {forecast: {snapshot: latest}}"
    )
    got = result(ds, "forecast_accuracy")
    # FY2024-Q3 resolves to the same dates (2024-07 does not): 25,000; 1 - 1,000 / 24,000
    assert got.value == fraction(1 - 1_000 / 24_000)
    assert got.warnings == ()


def test_a_submission_after_the_period_is_no_forecast(write: Write) -> None:
    # submitted 10-02 for Q3, which ended 09-30: neither the locked snapshot nor its fallback
    forecasts = "period,amount,submitted_at\n2024-Q3,24000,2024-10-02T00:00:00Z\n"
    ds = load(write, {"deals": ACTUALS, "forecasts": forecasts})
    got = result(ds, "forecast_accuracy")
    assert (got.status, got.reason) == ("unavailable", "missing_input:forecasts")
    ds = load(
        write, {"deals": ACTUALS, "forecasts": forecasts}, "metrics: {forecast: {snapshot: latest}}"
    )
    assert result(ds, "forecast_accuracy").value == 1.0  # latest takes it: F = A = 24,000


def test_the_fallback_takes_no_submission_made_after_the_reference_day(write: Write) -> None:
    # Q3 at A = 08-10 runs to E = 08-10 (§1.3): the 08-15 submission did not exist yet
    forecasts = "period,amount,submitted_at\n2024-Q3,20000,2024-08-15T00:00:00Z\n"
    ds = load(write, {"deals": ACTUALS, "forecasts": forecasts}, as_of=date(2024, 8, 10))
    got = result(ds, "forecast_accuracy")
    assert (got.status, got.reason) == ("unavailable", "missing_input:forecasts")
    early = forecasts.replace("2024-08-15", "2024-07-20")  # inside [07-01, E]: the fallback
    ds = load(write, {"deals": ACTUALS, "forecasts": early}, as_of=date(2024, 8, 10))
    assert result(ds, "forecast_bias").warnings == ("forecast_snapshot_fallback",)


@pytest.mark.parametrize("snapshot", ["latest", "period_end"])
def test_no_snapshot_takes_a_submission_made_after_the_reference_day(
    write: Write, snapshot: str
) -> None:
    # Q4 at A = 10-05 (E7 is point-in-time at A): the 10-02 row (24,000) existed at A, the 10-20
    # one (99,000) did not; coverage = open 12,000 / (24,000 - 0 booked)
    forecasts = """\
    period,amount,submitted_at
    2024-Q4,24000,2024-10-02T00:00:00Z
    2024-Q4,99000,2024-10-20T00:00:00Z
    """
    deals = "deal_id,status,amount,close_date\nA,open,12000,2024-11-01\n"
    settings = f"metrics: {{forecast: {{snapshot: {snapshot}}}}}"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, settings)
    got = result(ds, "pipeline_coverage", "2024-Q4")
    assert (got.value, got.inputs["forecast"]) == (fraction(0.5), 24000.0)


@pytest.mark.parametrize("snapshot", ["latest", "period_end"])
def test_a_truncated_comparison_sees_the_submissions_made_by_its_own_end(
    write: Write, snapshot: str
) -> None:
    # 2024-08 at A = 08-10 compares with 2024-07 truncated to 07-01..07-10 (§2.6). By 07-10 the
    # July forecast was 500 (the 1,000 came on 07-25), as August's is 500 at A (the 1,000 comes
    # on 08-25): both periods 1 - |1,000 - 500| / 1,000 = 0.5, not 1.0 for July
    deals = "deal_id,status,amount,close_date\nW1,won,1000,2024-07-08\nW2,won,1000,2024-08-05\n"
    forecasts = """\
    period,amount,submitted_at
    2024-07,500,2024-07-05T00:00:00Z
    2024-07,1000,2024-07-25T00:00:00Z
    2024-08,500,2024-08-05T00:00:00Z
    2024-08,1000,2024-08-25T00:00:00Z
    """
    settings = f"metrics: {{forecast: {{snapshot: {snapshot}}}}}"
    files = {"deals": deals, "forecasts": forecasts}
    ds = load(write, files, settings, as_of=date(2024, 8, 10))
    report = compute_metrics(ds, "2024-08", "previous")
    accuracy = next(m for m in report.metrics if m.key == "forecast_accuracy")
    assert (accuracy.current.value, accuracy.previous_value) == (0.5, 0.5)


def test_same_day_submissions_are_ordered_by_their_time(write: Write) -> None:
    # §1.10 picks the latest submission on or before p_start and else the earliest in P: of two
    # on the same day, by the time of day, not by the order of the rows (exports list the newest
    # first)
    forecasts = """\
    period,amount,owner_id,submitted_at
    2024-Q3,20000,,2024-06-28T17:00:00Z
    2024-Q3,30000,,2024-06-28T09:00:00Z
    2024-Q3,10000,O1,2024-07-10T17:00:00Z
    2024-Q3,14000,O1,2024-07-10T09:00:00Z
    """
    ds = load(write, {"deals": ACTUALS, "forecasts": forecasts})
    assert result(ds, "forecast_accuracy").value == fraction(1 - 4_000 / 24_000)  # F = 20,000
    # O1 has nothing before 07-01: its earliest in Q3 is the 09:00 row, 14,000 against A 16,000
    # (A and B), with the fallback's warning; O2 has no forecast row
    wape = result(ds, "forecast_accuracy_wape")
    assert (wape.value, wape.warnings) == (
        fraction(1 - 2_000 / 16_000),
        ("forecast_snapshot_fallback",),
    )


def test_forecast_accuracy_needs_submission_times(write: Write) -> None:
    # E8 chooses among submissions by time (§1.10), and submitted_at has no default (D10); the
    # E7 coverage reads the company forecast without it
    forecasts = "period,amount\n2024-Q4,12000\n"
    deals = "deal_id,status,amount,close_date,probability\nA,open,24000,2024-11-01,50\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 10, 5))
    for key in ("forecast_accuracy", "forecast_bias", "forecast_accuracy_wape"):
        got = result(ds, key, "2024-Q4")
        assert (got.status, got.reason) == ("unavailable", "missing_column:forecasts.submitted_at")
    assert result(ds, "pipeline_coverage", "2024-Q4").value == fraction(2.0)


def test_accuracy_is_floored_at_zero(write: Write) -> None:
    forecasts = "period,amount,submitted_at\n2024-Q3,96000,2024-06-01T00:00:00Z\n"
    ds = load(write, {"deals": ACTUALS, "forecasts": forecasts})
    assert result(ds, "forecast_accuracy").value == 0.0  # 1 - 72,000 / 24,000 = -2 -> 0
    assert result(ds, "forecast_bias").value == fraction(3.0)  # (96,000 - 24,000) / 24,000


OWNER_FORECASTS = """\
period,amount,owner_id,team,submitted_at
2024-Q3,28000,,,2024-06-28T00:00:00Z
2024-Q3,10000,O1,,2024-06-28T00:00:00Z
2024-Q3,18000,O2,,2024-06-28T00:00:00Z
2024-Q3,99000,O2,,2024-08-01T00:00:00Z
"""


def test_wape_over_owner_rows(write: Write) -> None:
    ds = load(write, {"deals": ACTUALS, "forecasts": OWNER_FORECASTS})
    # E8's owner example: O1 F 10,000 A 16,000; O2 F 18,000 (locked at start) A 8,000
    assert result(ds, "forecast_accuracy").value == fraction(0.833333)  # company 28,000 vs 24,000
    wape = result(ds, "forecast_accuracy_wape")
    assert wape.value == fraction(0.333333)  # 1 - (6,000 + 10,000) / 24,000
    assert wape.inputs["scope"] == "owner"


def test_wape_falls_back_to_team_rows(write: Write) -> None:
    forecasts = """\
    period,amount,team,submitted_at
    2024-Q3,10000,East,2024-06-28T00:00:00Z
    2024-Q3,18000,West,2024-06-28T00:00:00Z
    2024-Q3,5000,North,2024-06-28T00:00:00Z
    """
    owners = "owner_id,team\nO1,East\nO2,West\n"
    files = {"deals": ACTUALS, "forecasts": forecasts, "owners": owners}
    ds = load(write, files)
    # East (O1) A 16,000, West (O2) A 8,000, North A 0: 1 - (6,000 + 10,000 + 5,000) / 24,000
    assert result(ds, "forecast_accuracy_wape").value == fraction(1 - 21_000 / 24_000)
    files.pop("owners")
    ds = load(write, files)
    got = result(ds, "forecast_accuracy_wape")
    assert (got.status, got.reason) == ("unavailable", "missing_table:owners")


# --- E9 leads ------------------------------------------------------------------------------------


LEADS = """\
lead_id,status,created_at,converted_at,converted_deal_id
L1,converted,2024-07-01T08:00:00Z,2024-07-10T08:00:00Z,D1
L2,converted,2024-07-02T08:00:00Z,,
L3,qualified,2024-07-03T08:00:00Z,2024-10-20T08:00:00Z,
L4,disqualified,2024-07-04T08:00:00Z,,
L5,new,2024-08-01T08:00:00Z,,D2
L6,new,2024-06-30T08:00:00Z,2024-07-05T08:00:00Z,D3
"""
LEAD_DEALS = "deal_id,status,close_date\nD1,won,2024-10-01\nD2,open,2024-12-01\nD3,won,2024-07-30\n"


def test_lead_cohort(write: Write) -> None:
    ds = load(write, {"leads": LEADS, "deals": LEAD_DEALS})
    assert result(ds, "leads_created").value == 5  # L1-L5; L6 was created in Q2
    got = result(ds, "lead_conversion_rate")
    # L1 (converted_at <= A), L2 (status converted, no date), L5 (deal id); L3 converts after A
    assert got.value == fraction(3 / 5)
    assert got.inputs == {"leads": 5, "converted": 3, "maturity_days": 5}  # A - p_end
    assert result(ds, "lead_to_customer_rate").value == fraction(1 / 5)  # L1's D1 is won


def test_lead_cohort_maturity(write: Write) -> None:
    ds = load(write, {"leads": LEADS, "deals": LEAD_DEALS}, as_of=date(2024, 12, 29))
    # 90 days after the quarter: L3 (converted 10-20) now counts too
    got = result(ds, "lead_conversion_rate")
    assert (got.value, got.inputs["maturity_days"]) == (fraction(4 / 5), 90)
    ds = load(write, {"leads": LEADS, "deals": LEAD_DEALS}, as_of=date(2024, 8, 15))
    got = result(ds, "lead_conversion_rate")  # partial Q3: the cohort is still being created
    # A - p_end = 2024-08-15 - 2024-09-30 = -46 days (the letter of E9)
    assert (got.value, got.inputs["maturity_days"]) == (fraction(3 / 5), -46)


# --- --by breakdowns (CLI.md, D34) ---------------------------------------------------------------


def test_breakdown_by_owner() -> None:
    report = compute_metrics(toy_dataset(), "2024-Q3", "previous", by="owner")
    rows = {row.key: {m.key: m.current for m in row.metrics} for row in report.breakdown}
    assert list(rows) == ["O1", "O2", "O3", None]
    o1, o2, none = rows["O1"], rows["O2"], rows[None]
    # O1: D1 won 12,000 + D6 renewal won 6,000; in scope D1 W, D3 L -> 1/2
    assert o1["bookings"].value == money(18_000.0)
    assert o1["bookings_renewal"].value == money(6_000.0)
    assert o1["win_rate"].value == fraction(0.5)
    # O2: D2 8,000 + D4 4,000 won (D7 renewal lost); in scope D2 W, D4 W -> 2/2
    assert o2["bookings"].value == money(12_000.0)
    assert o2["win_rate"].value == fraction(1.0)
    assert o2["avg_deal_size"].value == money(6_000.0)  # (8,000 + 4,000) / 2
    # no owner: D5 lost with a null amount -> 0 booked, win rate 0/1
    assert none["bookings"].value == 0
    assert none["win_rate"].value == 0.0
    assert none["win_rate_amount"].reason == "zero_denominator"
    # O3 holds the leads and the lead-sourced deals
    assert rows["O3"]["leads_created"].value == 200
    assert rows["O3"]["lead_to_customer_rate"].value == fraction(0.03)
    assert {m.key for m in report.breakdown[0].metrics} >= {"bookings", "sales_cycle_days"}
    total = sum(number(r["bookings"]) for r in rows.values())
    assert total == money(30_000.0)


BY_OWNER_DEALS = """\
deal_id,deal_type,status,amount,created_at,close_date,owner_id
X1,new_business,won,1000,2024-07-05,2024-08-01,AE1
X2,new_business,lost,1000,2024-07-06,2024-08-02,AE1
"""
BY_OWNER_LEADS = """\
lead_id,status,created_at,converted_at,converted_deal_id,owner_id
L1,converted,2024-07-02,2024-07-05,X1,SDR1
L2,converted,2024-07-03,2024-07-06,X2,SDR1
L3,new,2024-07-04,,,SDR1
L4,new,2024-07-04,,,SDR1
"""


@pytest.mark.parametrize(("by", "sdr", "ae"), [("owner", "SDR1", "AE1"), ("team", "SDR", "East")])
def test_breakdown_finds_a_converted_deal_in_another_group(
    write: Write, by: str, sdr: str, ae: str
) -> None:
    # SDR1 (team SDR) owns the leads, AE1 (team East) their deals: E9 reads the deal's status
    # from every deal, while the deal metrics of each row keep to the row's deals
    owners = "owner_id,name,team\nSDR1,Sam,SDR\nAE1,Alex,East\n"
    files = {"deals": BY_OWNER_DEALS, "leads": BY_OWNER_LEADS, "owners": owners}
    report = compute_metrics(load(write, files), "2024-Q3", "previous", by=by)
    rows = {row.key: {m.key: m.current for m in row.metrics} for row in report.breakdown}
    assert list(rows) == sorted([ae, sdr])
    leads = rows[sdr]
    assert leads["leads_created"].value == 4
    assert leads["lead_conversion_rate"].value == fraction(0.5)  # L1, L2 / 4
    assert leads["lead_to_customer_rate"].value == fraction(0.25)  # L1's X1 is won; X2 lost
    assert leads["lead_to_customer_rate"].inputs["won_deals"] == 1
    assert (leads["bookings"].value, leads["win_rate"].reason) == (0, "zero_denominator")
    deals = rows[ae]
    assert deals["bookings"].value == money(1_000.0)  # X1
    assert deals["win_rate"].value == fraction(0.5)  # X1 won, X2 lost
    assert deals["lead_to_customer_rate"].reason == "zero_denominator"  # no leads of its own


def test_breakdown_puts_a_table_without_the_dimension_under_null(write: Write) -> None:
    # the deals carry `source`, the leads do not: the leads have no value, so they are the null
    # row's (D34), not every row's; and without any source column at all, every row is null
    deals = BY_OWNER_DEALS.replace(",owner_id\n", ",source\n").replace(",AE1\n", ",Web\n")
    files = {"deals": deals, "leads": BY_OWNER_LEADS}
    report = compute_metrics(load(write, files), "2024-Q3", "previous", by="source")
    rows = {row.key: {m.key: m.current for m in row.metrics} for row in report.breakdown}
    assert list(rows) == ["Web", None]
    assert rows["Web"]["leads_created"].value == 0
    assert rows["Web"]["bookings"].value == money(1_000.0)
    assert rows[None]["leads_created"].value == 4
    assert (rows[None]["bookings"].value, rows[None]["win_rate"].reason) == (
        0,
        "zero_denominator",
    )
    report = compute_metrics(load(write, files), "2024-Q3", "previous", by="segment")
    rows = {row.key: {m.key: m.current for m in row.metrics} for row in report.breakdown}
    assert list(rows) == [None]
    assert (rows[None]["leads_created"].value, rows[None]["win_rate"].value) == (4, 0.5)


def test_a_lookup_row_without_a_key_gives_no_team_to_rows_without_an_owner(write: Write) -> None:
    # owners holds a row without owner_id (team Ghosts): it is nobody's, so X2, which has no
    # owner, and the leads, which have none either, have no team (key null), not Ghosts
    deals = BY_OWNER_DEALS.replace("2024-08-02,AE1", "2024-08-02,")
    leads = BY_OWNER_LEADS.replace(",SDR1\n", ",\n")
    owners = "owner_id,name,team\nAE1,Alex,East\n,Ghost,Ghosts\n"
    files = {"deals": deals, "leads": leads, "owners": owners}
    report = compute_metrics(load(write, files), "2024-Q3", "previous", by="team")
    rows = {row.key: {m.key: m.current for m in row.metrics} for row in report.breakdown}
    assert list(rows) == ["East", None]
    assert rows["East"]["win_rate"].value == fraction(1.0)  # X1 won
    assert rows[None]["win_rate"].value == fraction(0.0)  # X2 lost
    assert rows[None]["leads_created"].value == 4


def test_a_forecast_submitted_before_year_one_is_no_crash(write: Write) -> None:
    # .NET's minimum date with an offset is 0000-12-31 in UTC: a polars date Python cannot hold
    deals = "deal_id,status,amount,close_date\nD1,won,50,2024-05-01\n"
    forecasts = "period,amount,submitted_at\n2024-Q2,100,0001-01-01T00:00:00+01:00\n"
    ds = load(write, {"deals": deals, "forecasts": forecasts}, as_of=date(2024, 6, 30))
    got = result(ds, "forecast_accuracy", "2024-Q2")
    assert got.status == "ok"
    assert got.inputs["forecast"] == 100.0
    assert got.inputs["forecast_submitted"] == "0000-12-31"


def test_a_mapped_stage_missing_from_the_header_makes_the_deal_metrics_unavailable(
    write: Write,
) -> None:
    # S001: the status comes from the stage, and without it no deal is won, lost or open: every
    # deal counted as open before (no bookings, a win rate of zero_denominator)
    deals = "deal_id,amount,close_date\nA,1000,2024-07-10\n"
    ds = load(write, {"deals": deals}, deals_values="columns: {stage: Deal Stage}")
    for key in ("bookings", "win_rate", "avg_deal_size"):
        got = result(ds, key)
        assert (got.status, got.reason) == ("unavailable", "missing_column:deals.stage"), key


def test_a_forecast_owner_missing_from_the_header_leaves_the_scope_unknown(write: Write) -> None:
    # S001 on forecasts.owner_id: every row read as the company's before, an owner's forecast of
    # 10,000 taken for the company's (F001 flagged both rows as company duplicates)
    from revops_cli.checks import select_and_run

    forecasts = "period,amount,submitted_at\n2024-Q3,24000,2024-06-20T00:00:00Z\n"
    forecasts += "2024-Q3,10000,2024-06-25T00:00:00Z\n"
    write("deals.csv", ACTUALS)
    write("forecasts.csv", forecasts)
    ds = load_dataset(
        load_config(
            write(
                "revops.yaml",
                "sources:\n  deals: {path: deals.csv}\n"
                "  forecasts: {path: forecasts.csv, columns: {owner_id: Owner}}\n",
            )
        ),
        AS_OF,
    )
    got = result(ds, "forecast_accuracy")
    assert (got.status, got.reason) == ("unavailable", "missing_column:forecasts.owner_id")
    outcome = select_and_run(ds, ["F001"], [], 5).rules[0]
    assert (outcome.status.value, outcome.reason) == (
        "skipped",
        "missing_column:forecasts.owner_id",
    )
