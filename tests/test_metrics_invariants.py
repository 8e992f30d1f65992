"""Property tests of METRICS §10 items 1-5 and 8 (as restated by DECISIONS D13) over random
subscription histories and random periods.

Amounts are whole units and rates multiples of 0.5, so two different MRR values always differ by
far more than the movement tolerance ε: only float noise falls under it, and the waterfall closes
to the cent.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revops_cli.config import load_config
from revops_cli.load.dataset import load_dataset
from revops_cli.metrics.context import MetricContext
from revops_cli.metrics.runner import fiscal_calendar
from revops_cli.periods import FiscalCalendar, evaluate, parse_period, previous_period

HEADER = (
    "subscription_id,customer_id,status,amount,currency,interval,interval_count,quantity,"
    "start_date,end_date,canceled_at,trial_end\n"
)
STATUSES = ("active", "active", "canceled", "canceled", "past_due", "trialing", "paused", "unpaid")
INTERVALS = ("month", "month", "year", "quarter", "half_year", "week", "day", "usage")
CUSTOMERS = "ABCDE"  # few customers, so that their rows overlap and move
CUSTOMERS_CSV = "customer_id,account_id\nA,ACC1\nB,ACC1\nC,ACC2\nD,\n"
RATES = st.sampled_from((0.5, 1.0, 1.5, 2.0))
FIRST, LAST = date(2023, 1, 1), date(2025, 12, 31)
CURRENCY_KEYS = (
    "mrr",
    "mrr_start",
    "arr",
    "arr_start",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "reactivation_mrr",
    "net_new_mrr",
    "arpa",
    "asp_new_mrr",
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class History:
    """A subscriptions CSV, the config options it runs under and the period to evaluate."""

    csv: str
    rates: dict[str, float]
    grain: str
    period: str
    as_of: date


@st.composite
def subscription_rows(draw: st.DrawFn, currencies: tuple[str, ...]) -> str:
    rows = []
    for index in range(draw(st.integers(1, 16))):  # a header-only file is not loaded
        start = draw(st.dates(FIRST - timedelta(days=200), LAST - timedelta(days=200)))
        length = draw(st.none() | st.integers(0, 400))
        end = "" if length is None else str(start + timedelta(days=length))
        canceled = draw(st.none() | st.integers(-30, 500))
        canceled_at = "" if canceled is None else f"{start + timedelta(days=canceled)}T08:00:00Z"
        trial = draw(st.none() | st.integers(0, 40))
        trial_end = "" if trial is None else str(start + timedelta(days=trial))
        fields = (
            f"S{index}",
            draw(st.sampled_from(CUSTOMERS)),
            draw(st.sampled_from(STATUSES)),
            str(draw(st.integers(0, 600))),
            draw(st.sampled_from(currencies)),
            draw(st.sampled_from(INTERVALS)),
            str(draw(st.integers(1, 2))),
            str(draw(st.integers(0, 3))),
            str(start),
            end,
            canceled_at,
            trial_end,
        )
        rows.append(",".join(fields) + "\n")
    return HEADER + "".join(rows)


@st.composite
def periods(draw: st.DrawFn) -> str:
    year = draw(st.integers(FIRST.year, LAST.year))
    kind = draw(st.sampled_from(("month", "quarter", "quarter", "year", "year", "range")))
    if kind == "month":
        return f"{year}-{draw(st.integers(1, 12)):02d}"
    if kind == "quarter":
        return f"{year}-Q{draw(st.integers(1, 4))}"
    if kind == "year":
        return str(year)
    start = draw(st.dates(FIRST, LAST))
    return f"{start}..{start + timedelta(days=draw(st.integers(0, 200)))}"


@st.composite
def histories(
    draw: st.DrawFn,
    currencies: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY"),
    complete: bool = False,
) -> History:
    period = draw(periods())
    start = parse_period(period, LAST, FiscalCalendar()).start
    as_of = date(2027, 1, 1) if complete else draw(st.dates(start, LAST + timedelta(days=60)))
    return History(
        csv=draw(subscription_rows(currencies)),
        rates={"EUR": draw(RATES), "GBP": draw(RATES)},  # JPY has no rate: excluded rows
        grain=draw(st.sampled_from(("customer", "account"))),
        period=period,
        as_of=as_of,
    )


def context(history: History, folder: Path, scale: float = 1.0) -> MetricContext:
    (folder / "subscriptions.csv").write_text(history.csv, encoding="utf-8")
    (folder / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    config = {
        "version": 1,
        "currency": {"base": "USD", "rates": {c: r * scale for c, r in history.rates.items()}},
        "sources": {
            "subscriptions": {"path": "subscriptions.csv"},
            "customers": {"path": "customers.csv"},
        },
        "metrics": {"mrr": {"customer_grain": history.grain}},
    }
    path = folder / "revops.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    dataset = load_dataset(load_config(path), history.as_of)
    calendar = fiscal_calendar(dataset)
    period = parse_period(history.period, history.as_of, calendar)
    return MetricContext(dataset, evaluate(period, history.as_of), calendar)


def number(ctx: MetricContext, key: str) -> float:
    result = ctx.value(key)
    assert result.status == "ok", (key, result)
    assert isinstance(result.value, int | float)
    return float(result.value)


def optional(ctx: MetricContext, key: str) -> float | None:
    result = ctx.value(key)
    assert result.status in ("ok", "null"), (key, result)
    return None if result.value is None else number(ctx, key)


def has_value(ctx: MetricContext) -> bool:
    """False when every priced row lacks a rate: every metric is then null (D9)."""
    return ctx.value("mrr").status == "ok"


@given(histories())
@SETTINGS
def test_waterfall_and_counts_close(history: History) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = context(history, Path(tmp))
        if not has_value(ctx):
            assert ctx.value("mrr").reason == "no_fx_rate:JPY"
            return
        # 1. mrr == mrr_start + new + expansion + reactivation - contraction - churn (+-0.01)
        gained = sum(number(ctx, k) for k in ("new_mrr", "expansion_mrr", "reactivation_mrr"))
        lost = number(ctx, "contraction_mrr") + number(ctx, "churned_mrr")
        assert number(ctx, "mrr") == pytest.approx(
            number(ctx, "mrr_start") + gained - lost, abs=0.01
        )
        # 2. customers == customers_start + new + reactivated - churned (exactly)
        counts = {
            k: ctx.value(k).value
            for k in (
                "customers",
                "customers_start",
                "new_customers",
                "reactivated_customers",
                "churned_customers",
            )
        }
        assert all(isinstance(v, int) for v in counts.values())
        assert counts["customers"] == (
            counts["customers_start"]  # type: ignore[operator]
            + counts["new_customers"]
            + counts["reactivated_customers"]
            - counts["churned_customers"]
        )
        # 3. arr == 12 x mrr; net_new_mrr == mrr - mrr_start
        assert number(ctx, "arr") == pytest.approx(12 * number(ctx, "mrr"))
        assert number(ctx, "arr_start") == pytest.approx(12 * number(ctx, "mrr_start"))
        assert number(ctx, "net_new_mrr") == pytest.approx(
            number(ctx, "mrr") - number(ctx, "mrr_start"), abs=1e-9
        )
        # movement amounts are never negative (A3)
        for key in ("new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"):
            assert number(ctx, key) >= 0


@given(histories())
@SETTINGS
def test_rates_stay_in_their_bounds(history: History) -> None:
    # 4. (D13) [0, 1]: customer_churn_rate(_monthly), grr(_ttm); >= 0: nrr(_ttm), expansion_rate,
    # gross_mrr_churn_rate; 0 <= grr <= nrr.
    with tempfile.TemporaryDirectory() as tmp:
        ctx = context(history, Path(tmp))
        if not has_value(ctx):
            return
        for key in ("customer_churn_rate", "customer_churn_rate_monthly", "grr", "grr_ttm"):
            value = optional(ctx, key)
            assert value is None or -1e-12 <= value <= 1 + 1e-12, (key, value)
        for key in ("nrr", "nrr_ttm", "expansion_rate", "gross_mrr_churn_rate"):
            value = optional(ctx, key)
            assert value is None or value >= -1e-12, (key, value)
        for suffix in ("", "_ttm"):
            grr, nrr = optional(ctx, f"grr{suffix}"), optional(ctx, f"nrr{suffix}")
            assert (grr is None) == (nrr is None)  # same denominator
            if grr is not None and nrr is not None:
                assert grr <= nrr + 1e-12


@given(histories(complete=True))
@SETTINGS
def test_previous_close_is_this_opening(history: History) -> None:
    # 5. For contiguous (complete) periods: mrr_start(P) == mrr(previous(P)), same for customers.
    with tempfile.TemporaryDirectory() as tmp:
        ctx = context(history, Path(tmp))
        if not has_value(ctx):
            return
        before = ctx.sub_period(previous_period(ctx.period, ctx.calendar))
        assert before.closing == ctx.opening
        assert number(ctx, "mrr_start") == pytest.approx(number(before, "mrr"), abs=1e-9)
        assert ctx.value("customers_start").value == before.value("customers").value


@given(histories(currencies=("EUR", "GBP", "JPY")), st.sampled_from((0.5, 2.0, 3.0)))
@SETTINGS
def test_currency_metrics_scale_with_the_rates(history: History, k: float) -> None:
    # 8. (D13) No row in the base currency: multiplying every rate by k multiplies every currency
    # metric by k (counts and fractions do not move).
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        base, scaled = context(history, Path(one)), context(history, Path(two), scale=k)
        for key in CURRENCY_KEYS:
            a, b = base.value(key), scaled.value(key)
            assert (a.status, a.reason) == (b.status, b.reason), key
            if a.value is not None:
                assert isinstance(a.value, int | float)
                assert b.value == pytest.approx(k * a.value, rel=1e-9, abs=1e-6), key
        for key in ("customers", "new_customers", "churned_customers", "nrr", "quick_ratio"):
            a, b = base.value(key), scaled.value(key)
            if a.value is None:
                assert b.value is None
            else:
                assert b.value == pytest.approx(a.value, rel=1e-9), key
