"""Metrics A1-A7, B1-B5 (recurring.py) and D2-D6 (unit_economics.py): toy values and edge cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from revops_cli.config import load_config
from revops_cli.load.dataset import load_dataset
from revops_cli.metrics.context import MetricContext
from revops_cli.metrics.runner import fiscal_calendar
from revops_cli.periods import evaluate, parse_period
from revops_cli.results import MetricResult
from tests.toy import TOY, toy_metric

Write = Callable[[str, str | bytes], Path]
AS_OF = date(2025, 12, 31)  # every period below is complete unless a test says otherwise
MONEY = 0.005
FRACTION = 1e-6
SUBS = "subscription_id,customer_id,status,amount,currency,interval,quantity,start_date,end_date\n"
EXPENSES = "date,category,amount,currency,channel\n"
INVOICES = (
    "invoice_id,customer_id,subscription_id,amount,currency,status,issued_at,period_start,"
    "period_end\n"
)
RECURRING_KEYS = (
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
    "customers_start",
    "customers",
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "mrr_growth_rate",
    "arr_growth_rate",
    "arpa",
    "asp_new_mrr",
    "customer_churn_rate",
    "customer_churn_rate_monthly",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "nrr",
    "grr",
    "nrr_ttm",
    "grr_ttm",
    "expansion_rate",
    "quick_ratio",
)


def context(
    write: Write,
    files: dict[str, str],
    period: str = "2024-Q3",
    as_of: date = AS_OF,
    metrics: dict[str, Any] | None = None,
    rates: dict[str, float] | None = None,
) -> MetricContext:
    """A metric context over CSV files written into tmp_path (one source per file)."""
    for name, text in files.items():
        write(name, text)
    config = {
        "version": 1,
        "currency": {"base": "USD", "rates": {"EUR": 1.10} if rates is None else rates},
        "sources": {Path(name).stem: {"path": name} for name in files},
        "metrics": metrics or {},
    }
    dataset = load_dataset(load_config(write("revops.yaml", yaml.safe_dump(config))), as_of)
    calendar = fiscal_calendar(dataset)
    return MetricContext(dataset, evaluate(parse_period(period, as_of, calendar), as_of), calendar)


def values(ctx: MetricContext, *keys: str) -> dict[str, float | int | None]:
    found: dict[str, float | int | None] = {}
    for key in keys:
        value = ctx.value(key).value
        assert value is None or isinstance(value, int | float)
        found[key] = value
    return found


def assert_null(result: MetricResult, reason: str) -> None:
    status = "unavailable" if reason.startswith("missing_") else "null"
    assert (result.value, result.status, result.reason) == (None, status, reason), result


def toy_context(write: Write, period: str = "2024-Q3", **options: Any) -> MetricContext:
    """The toy dataset of §3 with extra `metrics:` options (its CSVs read from tests/fixtures)."""
    config = yaml.safe_load((TOY / "revops.yaml").read_text())
    for source in config["sources"].values():
        source["path"] = str(TOY / source["path"])
    config["metrics"] = options
    dataset = load_dataset(
        load_config(write("toy.yaml", yaml.safe_dump(config))), date(2024, 10, 5)
    )
    calendar = fiscal_calendar(dataset)
    window = evaluate(parse_period(period, dataset.as_of, calendar), dataset.as_of)
    return MetricContext(dataset, window, calendar)


# --- the toy dataset (METRICS §3, D6 Appendix) ---------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected", "tolerance"),
    [
        ("mrr", 730.0, MONEY),  # 09-30: A 100 + B 200 + D 200 + E 150 + F 80
        ("mrr_start", 610.0, MONEY),  # 06-30: A 100 + B 100 + C 110 + D 300
        ("arr", 8760.0, MONEY),  # 12 x 730
        ("arr_start", 7320.0, MONEY),  # 12 x 610
        ("new_mrr", 150.0, MONEY),  # E in September
        ("expansion_mrr", 100.0, MONEY),  # B 100 -> 200 in August
        ("contraction_mrr", 100.0, MONEY),  # D 300 -> 200 in July
        ("churned_mrr", 110.0, MONEY),  # C (50 EUR x 2 x 1.10) in August
        ("reactivation_mrr", 80.0, MONEY),  # F in July, first paid 2024-01-10
        ("net_new_mrr", 120.0, MONEY),  # 150 + 100 + 80 - 100 - 110
        ("customers_start", 4, 0),  # A B C D
        ("customers", 5, 0),  # A B D E F
        ("new_customers", 1, 0),  # E
        ("reactivated_customers", 1, 0),  # F
        ("churned_customers", 1, 0),  # C
        ("mrr_growth_rate", 0.196721, FRACTION),  # 120 / 610
        ("arr_growth_rate", 0.196721, FRACTION),  # 1,440 / 7,320
        ("arpa", 146.0, MONEY),  # 730 / 5
        ("asp_new_mrr", 150.0, MONEY),  # 150 / 1
        ("customer_churn_rate", 0.25, FRACTION),  # C0 = {A, B, C, D}, churned {C}: 1/4
        ("customer_churn_rate_monthly", 0.066667, FRACTION),  # (0/4 + 1/5 + 0/4) / 3
        ("gross_mrr_churn_rate", 0.344262, FRACTION),  # (110 + 100) / 610
        ("net_mrr_churn_rate", 0.049180, FRACTION),  # (210 - 100 - 80) / 610
        ("nrr", 0.819672, FRACTION),  # (A 100 + B 200 + C 0 + D 200) / 610
        ("grr", 0.655738, FRACTION),  # (100 + min(200, 100) + 0 + 200) / 610
        ("expansion_rate", 0.163934, FRACTION),  # 100 / 610
        ("quick_ratio", 1.571429, FRACTION),  # (150 + 100 + 80) / (110 + 100)
        ("cac", 4500.0, MONEY),  # S&M 4,500 / 1 new customer
        ("cac_marketing", 3000.0, MONEY),  # marketing 3,000 / 1
        ("ltv", 2190.0, MONEY),  # 146 / ((0 + 0.2 + 0 + 0 + 0.2 + 0) / 6)
        ("ltv_gm", 1642.50, MONEY),  # 2,190 x gross margin 0.75
        ("customer_lifetime_months", 15.0, FRACTION),  # 1 / 0.066667
        ("ltv_to_cac", 0.365, FRACTION),  # 1,642.50 / 4,500
        ("cac_payback_months", 40.0, FRACTION),  # 4,500 / (150 x 0.75)
        ("magic_number", 0.36, FRACTION),  # (8,760 - 7,320) / Q2 S&M (2,800 + 1,200)
    ],
)
def test_toy_values(key: str, expected: float, tolerance: float) -> None:
    result = toy_metric(key).current
    assert result.status == "ok", result
    assert result.value == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("key", ["nrr_ttm", "grr_ttm"])
def test_toy_ttm_retention_has_no_cohort(key: str) -> None:
    # Nobody paid on 2023-09-30 (S2a starts 2023-10-01): the denominator is 0.
    assert_null(toy_metric(key).current, "zero_denominator")


def test_toy_inputs_explain_the_values() -> None:
    churn = toy_metric("customer_churn_rate").current
    assert churn.inputs["churned_from_start_cohort"] == 1
    assert churn.inputs["customers_start"] == 4
    mrr = toy_metric("mrr").current
    # S8 (G) is trialing and carries no MRR; the other 10 rows are paid spans
    assert (mrr.inputs["subscription_rows"], mrr.inputs["never_paid_rows"]) == (10, 1)
    assert mrr.warnings == ()


@pytest.mark.parametrize(
    ("month", "churned", "cohort"),
    [
        ("2024-04", 0, 5),  # cohort at 03-31: A B C D F
        ("2024-05", 1, 5),  # F's S6a ends 05-31 (exclusive): not paying at 05-31
        ("2024-06", 0, 4),
        ("2024-07", 0, 4),  # D contracts, F reactivates: no logo churn
        ("2024-08", 1, 5),  # C ends 08-20
        ("2024-09", 0, 4),
    ],
)
def test_toy_monthly_logo_churn_line(month: str, churned: int, cohort: int) -> None:
    # METRICS §3 "Monthly logo churn (for LTV)": Apr 0/5, May 1/5 (F), Jun 0/4, Jul 0/4,
    # Aug 1/5 (C), Sep 0/4.
    result = toy_metric("customer_churn_rate", month).current
    assert result.inputs["churned_from_start_cohort"] == churned
    assert result.inputs["customers_start"] == cohort
    ltv = toy_metric("ltv").current
    assert ltv.inputs["monthly_churn"][month] == pytest.approx(churned / cohort)
    assert ltv.inputs["lookback_months"] == 6


def test_toy_previous_quarter_closes_where_q3_opens() -> None:
    # §2.5: for contiguous periods the previous closing balance is this opening balance.
    assert toy_metric("mrr").previous_value == pytest.approx(610.0)
    assert toy_metric("customers").previous_value == 4
    # Q2: start 03-31 {A 100, B 100, C 110, D 300, F 80} = 690, F churns in May
    assert toy_metric("mrr_start").previous_value == pytest.approx(690.0)
    assert toy_metric("churned_mrr").previous_value == pytest.approx(80.0)


# --- grid and movements (§1.6, A3) ----------------------------------------------------------------


def test_upgrade_on_the_same_day_is_expansion(write: Write) -> None:
    # S1a ends 08-15 (exclusive) and S1b starts 08-15: no gap, so 100 -> 150 at 08-31.
    subs = SUBS + "S1a,A,canceled,100,USD,month,1,2024-01-01,2024-08-15\n"
    subs += "S1b,A,active,150,USD,month,1,2024-08-15,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "expansion_mrr", "churned_mrr", "new_mrr", "reactivation_mrr") == {
        "expansion_mrr": pytest.approx(50.0),  # 150 - 100
        "churned_mrr": 0.0,
        "new_mrr": 0.0,
        "reactivation_mrr": 0.0,
    }


def test_gap_over_a_month_end_is_churn_then_reactivation(write: Write) -> None:
    # Paid until 07-30 (exclusive end), again from 08-02: 06-30 100, 07-31 0, 08-31 100, 09-30 100.
    subs = SUBS + "S1a,A,canceled,100,USD,month,1,2024-01-01,2024-07-30\n"
    subs += "S1b,A,active,100,USD,month,1,2024-08-02,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "churned_mrr", "reactivation_mrr", "churned_customers") == {
        "churned_mrr": pytest.approx(100.0),
        "reactivation_mrr": pytest.approx(100.0),
        "churned_customers": 1,
    }
    # A C0 member who churns and comes back counts as churned (B1): 1/1; NRR sees 100/100.
    assert values(ctx, "customer_churn_rate", "nrr", "grr") == {
        "customer_churn_rate": 1.0,
        "nrr": pytest.approx(1.0),
        "grr": pytest.approx(1.0),
    }


def test_join_and_leave_between_grid_dates_is_invisible(write: Write) -> None:
    # H of the toy: paid 07-05..07-25, never at a month end.
    subs = SUBS + "S7,H,canceled,60,USD,month,1,2024-07-05,2024-07-25\n"
    ctx = context(write, {"subscriptions.csv": subs}, period="2024-07")
    assert values(ctx, "new_mrr", "churned_mrr", "new_customers", "mrr") == {
        "new_mrr": 0.0,
        "churned_mrr": 0.0,
        "new_customers": 0,
        "mrr": 0.0,
    }


def test_paid_to_free_is_churn(write: Write) -> None:
    # A moves to a free plan (amount 0) on 08-01: 100 at 07-31, 0 at 08-31.
    subs = SUBS + "S1a,A,canceled,100,USD,month,1,2024-01-01,2024-08-01\n"
    subs += "S1b,A,active,0,USD,month,1,2024-08-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "churned_mrr", "contraction_mrr", "churned_customers", "customers") == {
        "churned_mrr": pytest.approx(100.0),
        "contraction_mrr": 0.0,
        "churned_customers": 1,
        "customers": 0,  # a free customer is not a customer
    }
    assert_null(ctx.value("arpa"), "zero_denominator")  # 0 / 0 customers


def test_trial_then_first_payment_is_new(write: Write) -> None:
    # G starts a trial on 07-01 that ends 08-10: paid from 08-10, first paid after the 07-31 grid
    # date, so `new` (not reactivation). T's row is still trialing: it carries nothing.
    subs = "subscription_id,customer_id,status,amount,currency,interval,quantity,start_date,"
    subs += "end_date,trial_end\n"
    subs += "S1,G,active,100,USD,month,1,2024-07-01,,2024-08-10\n"
    subs += "S2,T,trialing,100,USD,month,1,2024-09-01,,2024-10-01\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "new_mrr", "reactivation_mrr", "new_customers", "mrr") == {
        "new_mrr": pytest.approx(100.0),
        "reactivation_mrr": 0.0,
        "new_customers": 1,
        "mrr": pytest.approx(100.0),  # T's trial is not MRR
    }
    # In July G is still on trial: 0 at 07-31.
    july = context(write, {"subscriptions.csv": subs}, period="2024-07")
    assert july.value("mrr").value == 0.0


def test_cancelling_one_of_two_subscriptions_is_contraction(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n"
    subs += "S2,A,canceled,50,USD,month,1,2024-01-01,2024-08-10\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "contraction_mrr", "churned_mrr", "churned_customers") == {
        "contraction_mrr": pytest.approx(50.0),  # 150 -> 100 at 08-31
        "churned_mrr": 0.0,
        "churned_customers": 0,
    }


def test_float_noise_is_absorbed_by_epsilon(write: Write) -> None:
    # 50 EUR x 2 x 1.10 = 110.00000000000001 in float64; the new row bills 110 USD.
    subs = SUBS + "S3a,C,canceled,50,EUR,month,2,2024-01-01,2024-08-01\n"
    subs += "S3b,C,active,110,USD,month,1,2024-08-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "expansion_mrr", "contraction_mrr") == {
        "expansion_mrr": 0.0,
        "contraction_mrr": 0.0,
    }
    # Without the tolerance the 1.4e-14 difference becomes a phantom contraction (trap T6).
    strict = context(write, {"subscriptions.csv": subs}, metrics={"mrr": {"movement_epsilon": 0}})
    phantom = strict.value("contraction_mrr")
    assert phantom.inputs["events"] == 1
    assert 0 < number_of(phantom) < 1e-9


def number_of(result: MetricResult) -> float:
    assert isinstance(result.value, int | float)
    return float(result.value)


def test_end_dates_are_exclusive(write: Write) -> None:
    # Ending 09-30: not in Q3's closing MRR. Starting 09-30: in it.
    subs = SUBS + "S1,A,canceled,100,USD,month,1,2024-01-01,2024-09-30\n"
    subs += "S2,B,active,40,USD,month,1,2024-09-30,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "mrr", "churned_mrr", "new_mrr") == {
        "mrr": pytest.approx(40.0),
        "churned_mrr": pytest.approx(100.0),
        "new_mrr": pytest.approx(40.0),
    }


def test_interval_normalisation(write: Write) -> None:
    # §1.5.3: weekly 25 -> 25 x 52/12 = 108.33; quarterly 270 -> 90; annual 1,200 -> 100.
    subs = SUBS + "S1,A,active,25,USD,week,1,2024-01-01,\n"
    subs += "S2,B,active,270,USD,quarter,1,2024-01-01,\n"
    subs += "S3,C,active,1200,USD,year,1,2024-01-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert ctx.value("mrr").value == pytest.approx(25 * 52 / 12 + 90 + 100, abs=MONEY)


def test_reactivation_needs_a_paid_past(write: Write) -> None:
    # One-month period with several intervals: explicit range 07-10..08-20 has grid 07-09, 07-31,
    # 08-20. A paid before (first paid 2024-01-01 <= 07-31) and returns 08-05: reactivation.
    subs = SUBS + "S1a,A,canceled,100,USD,month,1,2024-01-01,2024-07-20\n"
    subs += "S1b,A,active,100,USD,month,1,2024-08-05,\n"
    ctx = context(write, {"subscriptions.csv": subs}, period="2024-07-10..2024-08-20")
    assert values(ctx, "churned_mrr", "reactivation_mrr", "new_mrr") == {
        "churned_mrr": pytest.approx(100.0),  # 07-09 100 -> 07-31 0
        "reactivation_mrr": pytest.approx(100.0),  # 07-31 0 -> 08-20 100
        "new_mrr": 0.0,
    }


# --- customer grain, churn recognition, row exclusions -------------------------------------------


def test_account_grain_merges_billing_customers(write: Write) -> None:
    # X1 and X2 are two billing customers of account ACC; X2 starts paying 50 in August.
    subs = SUBS + "S1,X1,active,100,USD,month,1,2024-01-01,\n"
    subs += "S2,X2,active,50,USD,month,1,2024-08-01,\n"
    customers = "customer_id,account_id\nX1,ACC\nX2,ACC\n"
    files = {"subscriptions.csv": subs, "customers.csv": customers}
    by_customer = context(write, files)
    assert values(by_customer, "new_mrr", "new_customers", "customers", "arpa") == {
        "new_mrr": pytest.approx(50.0),
        "new_customers": 1,
        "customers": 2,
        "arpa": pytest.approx(75.0),  # 150 / 2
    }
    by_account = context(write, files, metrics={"mrr": {"customer_grain": "account"}})
    assert values(by_account, "new_mrr", "expansion_mrr", "new_customers", "customers") == {
        "new_mrr": 0.0,
        "expansion_mrr": pytest.approx(50.0),  # ACC 100 -> 150
        "new_customers": 0,
        "customers": 1,
    }
    assert by_account.value("arpa").value == pytest.approx(150.0)


def test_account_grain_without_accounts_keys_by_customer(write: Write) -> None:
    # §1.5.4: the key is customers.account_id when non-null, else customer_id; §7 lists the
    # customers table as optional for the account grain. X1 and X2 are then two customers.
    subs = SUBS + "S1,X1,active,100,USD,month,1,2024-01-01,\n"
    subs += "S2,X2,active,50,USD,month,1,2024-08-01,\n"
    grain = {"mrr": {"customer_grain": "account"}}
    expected = {"mrr": pytest.approx(150.0), "new_customers": 1, "customers": 2}
    ctx = context(write, {"subscriptions.csv": subs}, metrics=grain)
    assert values(ctx, "mrr", "new_customers", "customers") == expected
    files = {"subscriptions.csv": subs, "customers.csv": "customer_id,name\nX1,x\nX2,y\n"}
    ctx = context(write, files, metrics=grain)
    assert values(ctx, "mrr", "new_customers", "customers") == expected
    assert ctx.value("arpa").value == pytest.approx(75.0)


def test_churn_recognition_canceled_at(write: Write) -> None:
    # A asked to cancel on 09-10; service runs until 10-15.
    subs = "subscription_id,customer_id,status,amount,currency,interval,quantity,start_date,"
    subs += "end_date,canceled_at\n"
    subs += "S1,A,canceled,100,USD,month,1,2024-01-01,2024-10-15,2024-09-10T12:00:00Z\n"
    at_service_end = context(write, {"subscriptions.csv": subs})
    assert values(at_service_end, "mrr", "churned_mrr") == {"mrr": 100.0, "churned_mrr": 0.0}
    on_request = context(
        write, {"subscriptions.csv": subs}, metrics={"mrr": {"churn_recognition": "canceled_at"}}
    )
    assert values(on_request, "mrr", "churned_mrr") == {"mrr": 0.0, "churned_mrr": 100.0}


def test_canceled_at_stands_in_for_a_missing_end_date(write: Write) -> None:
    # §1.5.2: end_date when set, else canceled_at.
    subs = "subscription_id,customer_id,status,amount,currency,interval,quantity,start_date,"
    subs += "end_date,canceled_at\n"
    subs += "S1,A,canceled,100,USD,month,1,2024-01-01,,2024-08-10T00:00:00Z\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert ctx.value("churned_mrr").value == pytest.approx(100.0)


def test_excluded_rows_are_counted(write: Write) -> None:
    subs = SUBS + "ok,A,active,100,USD,month,1,2024-01-01,\n"
    subs += "no_customer,,active,100,USD,month,1,2024-01-01,\n"
    subs += "no_start,B,active,100,USD,month,1,,\n"
    subs += "no_rate,C,active,100,CHF,month,1,2024-01-01,\n"
    subs += "no_rate2,C,active,100,CHF,month,1,2024-01-01,\n"
    subs += "metered,D,active,100,USD,usage,1,2024-01-01,\n"
    subs += "neg_qty,E,active,100,USD,month,-1,2024-01-01,\n"
    subs += "no_amount,F,active,,USD,month,1,2024-01-01,\n"
    subs += "refund,G,active,-50,USD,month,1,2024-01-01,\n"
    subs += "paused,H,paused,100,USD,month,1,2024-01-01,\n"
    subs += "empty,I,canceled,100,USD,month,1,2024-05-01,2024-05-01\n"
    subs += "trial,J,trialing,100,USD,month,1,2024-09-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    result = ctx.value("mrr")
    assert result.value == pytest.approx(100.0)  # only `ok`
    assert result.inputs == {
        "customers": 1,
        "subscription_rows": 1,
        "never_paid_rows": 1,
        "excluded_null_customer": 1,
        "excluded_null_start": 1,
        "excluded_no_fx_rate": 2,
        "excluded_unknown_interval": 1,
        "excluded_negative_quantity": 1,
        "excluded_null_amount": 1,
        "excluded_negative_mrr": 1,
        "excluded_undated_status": 1,  # paused without end date or invoices
        "excluded_empty_span": 1,  # paid_end <= paid_start
    }
    assert result.warnings == ("no_fx_rate:CHF (2 rows)",)
    assert ctx.value("arpa").warnings == ("no_fx_rate:CHF (2 rows)",)
    # the CHF rows left the monthly cohorts of the lifetime too (it warned on the LTV only)
    lifetime = ctx.value("customer_lifetime_months")
    assert (lifetime.reason, lifetime.warnings) == (
        "zero_denominator",
        ("no_fx_rate:CHF (2 rows)",),
    )


def test_with_the_mrr_column_as_source_a_missing_mrr_is_a_null_amount(write: Write) -> None:
    # mrr.source: column reads no interval or quantity, so neither explains an empty mrr cell
    subs = "subscription_id,customer_id,status,mrr,interval,quantity,start_date,end_date\n"
    subs += "S1,A,active,100,month,1,2024-01-01,\n"
    subs += "S2,B,active,,,1,2024-01-01,\n"
    subs += "S3,C,active,,month,-1,2024-01-01,\n"
    ctx = context(write, {"subscriptions.csv": subs}, metrics={"mrr": {"source": "column"}})
    result = ctx.value("mrr")
    assert (result.value, result.inputs) == (
        100.0,
        {"customers": 1, "subscription_rows": 1, "never_paid_rows": 0, "excluded_null_amount": 2},
    )


def test_every_row_without_a_rate_gives_no_value(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,CHF,month,1,2024-01-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    for key in ("mrr", "customers", "nrr", "arpa", "customer_churn_rate_monthly"):
        assert_null(ctx.value(key), "no_fx_rate:CHF")


def test_unpaid_row_is_dated_by_its_last_paid_invoice(write: Write) -> None:
    # S1 is unpaid now; its last paid invoice covers July, so it stops paying on 08-01.
    subs = SUBS + "S1,A,unpaid,100,USD,month,1,2024-01-01,\n"
    invoices = INVOICES
    invoices += "I6,A,S1,100,USD,paid,2024-06-01T00:00:00Z,2024-06-01,2024-07-01\n"
    invoices += "I7,A,S1,100,USD,paid,2024-07-01T00:00:00Z,2024-07-01,2024-08-01\n"
    invoices += "I8,A,S1,100,USD,open,2024-08-01T00:00:00Z,2024-08-01,2024-09-01\n"
    ctx = context(write, {"subscriptions.csv": subs, "invoices.csv": invoices})
    assert values(ctx, "mrr_start", "churned_mrr", "mrr") == {
        "mrr_start": 100.0,
        "churned_mrr": 100.0,  # 07-31 100 -> 08-31 0
        "mrr": 0.0,
    }


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # 06-30: both pay; by A both stop, S1 with them (it had stopped at its invoice's 08-01)
        ("2024-Q3", {"mrr_start": 150.0, "churned_mrr": 150.0, "mrr": 0.0, "customers": 0}),
        # August is over by A: S1 still paid at 08-31, its end date being ahead (it had churned
        # in August, 150 -> 50)
        ("2024-08", {"mrr_start": 150.0, "churned_mrr": 0.0, "mrr": 150.0, "customers": 2}),
    ],
)
def test_an_unpaid_or_paused_row_with_an_end_date_ahead_pays_until_the_as_of_day(
    write: Write, period: str, expected: dict[str, float]
) -> None:
    # §1.5.2: paid_end is "the service-end date end_date when set ... whatever the status"; the
    # last paid invoice dates only a non-paying row "without an end date". §1.5.1: unpaid and
    # paused count "no (current state)", so neither pays at A = 2024-09-15. S1 (unpaid) ends
    # 2024-12-31 and its last paid invoice covers July; S2 (paused) has no invoice.
    subs = SUBS + "S1,A,unpaid,100,USD,month,1,2024-01-01,2024-12-31\n"
    subs += "S2,B,paused,50,USD,month,1,2024-01-01,2024-12-31\n"
    invoices = INVOICES
    invoices += "I7,A,S1,100,USD,paid,2024-07-01T00:00:00Z,2024-07-01,2024-08-01\n"
    files = {"subscriptions.csv": subs, "invoices.csv": invoices}
    ctx = context(write, files, period=period, as_of=date(2024, 9, 15))
    assert values(ctx, "mrr_start", "churned_mrr", "mrr", "customers") == expected


def test_an_undated_unpaid_row_whose_last_invoice_runs_past_the_as_of_day_does_not_pay_at_it(
    write: Write,
) -> None:
    # S1 (unpaid, no end date) has a paid invoice for 09-01..10-01; A = 09-15 (mid-Q3). It paid
    # until A, not until 10-01: A1 "paused and unpaid 0", as a row whose end date is ahead
    subs = SUBS + "S1,A,unpaid,100,USD,month,1,2024-01-01,\n"
    invoices = INVOICES
    invoices += "I9,A,S1,100,USD,paid,2024-09-01T00:00:00Z,2024-09-01,2024-10-01\n"
    files = {"subscriptions.csv": subs, "invoices.csv": invoices}
    ctx = context(write, files, period="2024-Q3", as_of=date(2024, 9, 15))
    assert values(ctx, "mrr_start", "churned_mrr", "mrr", "customers") == {
        "mrr_start": 100.0,
        "churned_mrr": 100.0,
        "mrr": 0.0,
        "customers": 0,
    }


@pytest.mark.parametrize(
    ("csv", "options", "reason"),
    [
        (
            "subscription_id,customer_id,status,amount,interval,start_date\n"
            "S1,A,active,100,month,2024-01-01\n",
            {},
            "missing_column:subscriptions.end_date",
        ),
        (
            "subscription_id,customer_id,status,amount,interval,start_date\n"
            "S1,A,active,100,month,2024-01-01\n",
            {"churn_recognition": "canceled_at"},
            "missing_column:subscriptions.canceled_at",
        ),
        (
            "subscription_id,customer_id,amount,start_date,end_date\nS1,A,100,2024-01-01,\n",
            {},
            "missing_column:subscriptions.interval",  # no default interval (D26)
        ),
        (
            "subscription_id,customer_id,interval,start_date,end_date\nS1,A,month,2024-01-01,\n",
            {},
            "missing_column:subscriptions.amount",
        ),
        (SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n", {"source": "column"},
         "missing_column:subscriptions.mrr"),
    ],
)  # fmt: skip
def test_missing_columns(write: Write, csv: str, options: dict[str, str], reason: str) -> None:
    # status, currency and quantity have defaults (D10): their absence is not a missing column.
    ctx = context(write, {"subscriptions.csv": csv}, metrics={"mrr": options})
    for key in RECURRING_KEYS:
        assert_null(ctx.value(key), reason)


def test_missing_subscriptions_table(write: Write) -> None:
    ctx = context(write, {"customers.csv": "customer_id\nA\n"})
    for key in (*RECURRING_KEYS, "ltv", "ltv_gm", "customer_lifetime_months", "magic_number"):
        assert_null(ctx.value(key), "missing_table:subscriptions")


def test_mrr_column_is_used_as_is(write: Write) -> None:
    # A provided mrr column (e.g. Chargebee) already includes quantity and discounts (§1.5.3).
    subs = "subscription_id,customer_id,status,mrr,currency,start_date,end_date\n"
    subs += "S1,A,active,75,EUR,2024-01-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert ctx.value("mrr").value == pytest.approx(82.5)  # 75 x 1.10


# --- zero denominators and empty periods ---------------------------------------------------------


def test_empty_start_cohort(write: Write) -> None:
    # Nobody pays at 06-30; A starts in August: every rate over the opening is null.
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-08-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    for key in (
        "mrr_growth_rate",
        "arr_growth_rate",
        "customer_churn_rate",
        "gross_mrr_churn_rate",
        "net_mrr_churn_rate",
        "nrr",
        "grr",
        "expansion_rate",
        "quick_ratio",  # gains 100, losses 0
    ):
        assert_null(ctx.value(key), "zero_denominator")
    # July has no cohort (left out); August 0/0 too; September 0/1 -> 0
    monthly = ctx.value("customer_churn_rate_monthly")
    assert monthly.value == 0.0
    assert monthly.inputs["months"] == 1
    assert values(ctx, "new_customers", "asp_new_mrr", "arpa") == {
        "new_customers": 1,
        "asp_new_mrr": pytest.approx(100.0),
        "arpa": pytest.approx(100.0),
    }


def test_no_new_customer_means_no_asp(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert_null(ctx.value("asp_new_mrr"), "zero_denominator")
    assert ctx.value("new_mrr").value == 0.0  # a sum over no rows is 0 (§1.2)


def test_monthly_churn_needs_a_complete_month(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n"
    ranged = context(write, {"subscriptions.csv": subs}, period="2024-07-10..2024-08-20")
    assert_null(ranged.value("customer_churn_rate_monthly"), "period_incomplete")  # D9
    partial = context(write, {"subscriptions.csv": subs}, period="2024-Q4", as_of=date(2024, 10, 5))
    assert_null(partial.value("customer_churn_rate_monthly"), "period_incomplete")
    assert partial.window.partial
    assert partial.value("mrr").value == 100.0  # balance at A = 10-05


def test_grr_caps_per_customer(write: Write) -> None:
    # Trap T10: A churns 100, B expands 100 -> 200. Capping the totals would give 200/200.
    subs = SUBS + "S1,A,canceled,100,USD,month,1,2024-01-01,2024-08-01\n"
    subs += "S2a,B,canceled,100,USD,month,1,2024-01-01,2024-08-01\n"
    subs += "S2b,B,active,200,USD,month,1,2024-08-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "nrr", "grr") == {
        "nrr": pytest.approx(1.0),  # (0 + 200) / 200
        "grr": pytest.approx(0.5),  # (min(0, 100) + min(200, 100)) / 200
    }


def test_ttm_retention(write: Write) -> None:
    # C = 2024-09-30, cohort at 2023-09-30: A 100, B 200. At C: A 150 (expanded 2024-05-01), B 0.
    subs = SUBS + "S1a,A,canceled,100,USD,month,1,2023-01-01,2024-05-01\n"
    subs += "S1b,A,active,150,USD,month,1,2024-05-01,\n"
    subs += "S2,B,canceled,200,USD,month,1,2023-06-01,2024-03-01\n"
    subs += "S3,C,active,500,USD,month,1,2024-01-01,\n"  # not in the cohort
    ctx = context(write, {"subscriptions.csv": subs})
    assert values(ctx, "nrr_ttm", "grr_ttm") == {
        "nrr_ttm": pytest.approx(0.5),  # (150 + 0) / 300
        "grr_ttm": pytest.approx(1 / 3),  # (100 + 0) / 300
    }


def test_ttm_from_29_february(write: Write) -> None:
    # C = 2024-02-29 -> cohort on 2023-02-28 (B3): A only; B starts 2023-03-01.
    subs = SUBS + "S1,A,active,100,USD,month,1,2023-02-28,\n"
    subs += "S2,B,canceled,100,USD,month,1,2023-03-01,2024-01-01\n"
    ctx = context(write, {"subscriptions.csv": subs}, period="2024-02")
    assert ctx.value("nrr_ttm").value == pytest.approx(1.0)
    assert ctx.value("nrr_ttm").inputs["cohort"] == 1


# --- unit economics (D2-D6) ----------------------------------------------------------------------


def test_cac_can_include_reactivations(write: Write) -> None:
    # Toy Q3: E new + F reactivated = 2 acquired -> 4,500 / 2.
    ctx = toy_context(write, unit_economics={"cac_include_reactivations": True})
    result = ctx.value("cac")
    assert result.value == pytest.approx(2250.0)
    assert result.inputs["reactivated_customers"] == 1


def test_cac_lag_moves_the_spend_window(write: Write) -> None:
    # One new customer in Q3. Marketing 1,000 in June and 2,000 in September.
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-08-01,\n"
    expenses = EXPENSES + "2024-06-15,marketing,1000,USD,\n2024-09-15,marketing,2000,USD,\n"
    files = {"subscriptions.csv": subs, "expenses.csv": expenses}
    assert context(write, files).value("cac").value == pytest.approx(2000.0)  # Q3 spend
    lagged = context(write, files, metrics={"unit_economics": {"cac_lag_months": 1}})
    result = lagged.value("cac")
    assert result.value == pytest.approx(1000.0)  # spend of 06-01..08-31
    assert result.inputs["cac_lag_months"] == 1


def test_cac_from_the_crm(write: Write) -> None:
    # First-ever won new_business deal per account in Q3: ACC2 only (ACC1 won first in May).
    deals = "deal_id,account_id,status,deal_type,amount,close_date\n"
    deals += "D1,ACC1,won,new_business,100,2024-05-10\n"
    deals += "D2,ACC1,won,new_business,100,2024-08-10\n"
    deals += "D3,ACC2,won,new_business,100,2024-07-10\n"
    deals += "D4,ACC3,won,expansion,100,2024-07-10\n"
    deals += "D5,ACC4,lost,new_business,100,2024-07-10\n"
    deals += "D6,,won,new_business,100,2024-07-10\n"
    expenses = EXPENSES + "2024-07-15,sales,900,USD,\n"
    ctx = context(write, {"deals.csv": deals, "expenses.csv": expenses})  # auto: no billing
    result = ctx.value("cac")
    assert result.value == pytest.approx(900.0)  # 900 / 1
    assert result.inputs["new_customers_source"] == "crm"
    assert result.inputs["excluded_null_account"] == 1
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-08-01,\n"
    crm = context(
        write,
        {"deals.csv": deals, "expenses.csv": expenses, "subscriptions.csv": subs},
        metrics={"unit_economics": {"new_customers_source": "crm"}},
    )
    assert crm.value("cac").inputs["new_customers_source"] == "crm"


def test_cac_auto_source_is_billing_when_subscriptions_are_mapped_but_empty(write: Write) -> None:
    # D2: auto = billing when subscriptions are mapped. A header-only subscriptions file (S006)
    # is not loaded, so CAC has no new customers: it does not fall back to the CRM's 1 account.
    deals = "deal_id,account_id,status,deal_type,amount,close_date\n"
    deals += "D3,ACC2,won,new_business,100,2024-07-10\n"
    expenses = EXPENSES + "2024-07-15,sales,900,USD,\n"
    files = {"deals.csv": deals, "expenses.csv": expenses, "subscriptions.csv": SUBS}
    result = context(write, files).value("cac")
    assert result.value is None
    assert result.reason == "missing_table:subscriptions"


def test_cac_from_the_crm_uses_the_effective_close_date(write: Write) -> None:
    # §1.7 with close_date_source: stage_history: a won deal closes when it first entered a won
    # stage. A1 won 09-01 and A5 won 09-20 (close_dates 10-15 and 10-03 keyed late): Q3. A2 won
    # 06-20 (close_date 08-10): Q2. A3 has no history row and keeps its close_date 07-20: Q3.
    deals = "deal_id,account_id,status,deal_type,amount,close_date\n"
    deals += "D1,A1,won,new_business,100,2024-10-15\n"
    deals += "D5,A5,won,new_business,100,2024-10-03\n"
    deals += "D2,A2,won,new_business,100,2024-08-10\n"
    deals += "D3,A3,won,new_business,100,2024-07-20\n"
    history = "deal_id,stage,entered_at\n"
    history += "D1,demo,2024-07-01T10:00:00Z\n"
    history += "D1,won,2024-09-01T10:00:00Z\n"
    history += "D5,won,2024-09-20T10:00:00Z\n"
    history += "D2,won,2024-06-20T10:00:00Z\n"
    expenses = EXPENSES + "2024-06-10,marketing,600,USD,\n2024-07-05,marketing,1200,USD,\n"
    files = {"deals.csv": deals, "deal_stage_history.csv": history, "expenses.csv": expenses}
    staged = {"deals": {"close_date_source": "stage_history"}}
    ctx = context(write, files, metrics=staged)
    for key in ("cac", "cac_marketing"):
        result = ctx.value(key)
        assert result.value == pytest.approx(400.0)  # 1,200 / 3 (A1, A5, A3)
        assert result.inputs["new_customers"] == 3
    assert ctx.value("bookings").value == pytest.approx(300.0)  # D1 + D5 + D3: the same deals
    q2 = context(write, files, period="2024-Q2", metrics=staged)
    assert q2.value("cac").value == pytest.approx(600.0)  # 600 / 1 (A2, won 06-20)
    # by close_date (the default): Q3 has A2 and A3, 1,200 / 2; nothing closes in Q2
    assert context(write, files).value("cac").value == pytest.approx(600.0)
    assert_null(context(write, files, period="2024-Q2").value("cac"), "zero_denominator")


def test_cac_without_new_customers(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n"
    expenses = EXPENSES + "2024-07-15,sales,900,USD,\n"
    ctx = context(write, {"subscriptions.csv": subs, "expenses.csv": expenses})
    for key in ("cac", "cac_marketing"):
        assert_null(ctx.value(key), "zero_denominator")
    assert_null(ctx.value("ltv_to_cac"), "zero_denominator")  # inherits cac's null (D9)
    assert_null(ctx.value("cac_payback_months"), "zero_denominator")
    # No spend in the period either: S&M is a sum over no rows, 0 (§1.2); still 0 / 0.
    other = EXPENSES + "2024-01-15,sales,900,USD,\n"
    no_spend = context(write, {"subscriptions.csv": subs, "expenses.csv": other})
    assert no_spend.value("sm_spend").value == 0.0
    assert_null(no_spend.value("cac"), "zero_denominator")


def test_cac_needs_expenses(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-08-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    for key in ("cac", "cac_marketing", "ltv_to_cac", "cac_payback_months", "magic_number"):
        assert_null(ctx.value(key), "missing_table:expenses")


def ltv_dataset() -> dict[str, str]:
    """Five customers from January; B leaves in August (churn 1/5 in August, 0 elsewhere)."""
    subs = SUBS
    for customer in "ACDE":
        subs += f"S{customer},{customer},active,100,USD,month,1,2024-01-01,\n"
    subs += "SB,B,canceled,100,USD,month,1,2024-01-01,2024-08-15\n"
    subs += "SF,F,active,100,USD,month,1,2024-09-10,\n"
    expenses = EXPENSES + "2024-04-15,marketing,600,USD,\n2024-08-15,marketing,1000,USD,\n"
    return {"subscriptions.csv": subs, "expenses.csv": expenses}


def test_ltv_on_revenue_basis_warns(write: Write) -> None:
    # churn_m = (0 + 0 + 0 + 0 + 1/5 + 0) / 6 = 1/30; ARPA = 500 / 5 = 100; no invoices -> gm 1.
    ctx = context(write, ltv_dataset())
    assert values(ctx, "ltv", "customer_lifetime_months", "ltv_gm") == {
        "ltv": pytest.approx(3000.0),  # 100 x 30
        "customer_lifetime_months": pytest.approx(30.0),
        "ltv_gm": pytest.approx(3000.0),
    }
    assert ctx.value("ltv_gm").warnings == ("revenue_basis_no_gross_margin",)
    # CAC 1,000 / 1 (F); LTV:CAC 3,000 / 1,000; payback 1,000 / (100 x 1)
    assert values(ctx, "cac", "ltv_to_cac", "cac_payback_months") == {
        "cac": pytest.approx(1000.0),
        "ltv_to_cac": pytest.approx(3.0),
        "cac_payback_months": pytest.approx(10.0),
    }
    for key in ("ltv_to_cac", "cac_payback_months"):
        assert ctx.value(key).warnings == ("revenue_basis_no_gross_margin",)
    assert ctx.value("ltv").warnings == ()


def test_ltv_with_configured_gross_margin(write: Write) -> None:
    ctx = context(write, ltv_dataset(), metrics={"unit_economics": {"gross_margin": 0.8}})
    result = ctx.value("ltv_gm")
    assert result.value == pytest.approx(2400.0)  # 3,000 x 0.8
    assert result.warnings == ()
    assert ctx.value("cac_payback_months").value == pytest.approx(12.5)  # 1,000 / (100 x 0.8)


def test_a_period_without_positive_revenue_gives_no_gross_margin_to_unit_economics(
    write: Write,
) -> None:
    # Q3 revenue 100 - 500 (a credit) = -400 and COGS 300: gross_margin is (-400 - 300) / -400 =
    # 1.75, but §1.11 takes the period's margin only when revenue > 0, so the config's 0.8 counts
    files = ltv_dataset()
    files["expenses.csv"] += "2024-08-15,cogs,300,USD,\n"
    files["invoices.csv"] = (
        "invoice_id,customer_id,subscription_id,amount,status,issued_at\n"
        "I1,A,SA,100,paid,2024-07-05T09:00:00Z\nC1,A,SA,-500,paid,2024-08-05T09:00:00Z\n"
    )
    ctx = context(write, files, metrics={"unit_economics": {"gross_margin": 0.8}})
    assert values(ctx, "revenue", "gross_margin") == {
        "revenue": pytest.approx(-400.0),
        "gross_margin": pytest.approx(1.75),
    }
    assert ctx.value("ltv_gm").value == pytest.approx(2400.0)  # 3,000 x 0.8
    assert ctx.value("ltv_gm").inputs["gm_ue_source"] == "config"


def test_ltv_lookback_months_option(write: Write) -> None:
    # Two months: Aug 1/5, Sep 0/4 -> churn_m 0.1; ARPA 100 -> LTV 1,000.
    ctx = context(write, ltv_dataset(), metrics={"churn": {"ltv_lookback_months": 2}})
    assert ctx.value("ltv").value == pytest.approx(1000.0)
    assert ctx.value("ltv").inputs["lookback_months"] == 2


def test_ltv_excludes_the_partial_current_month(write: Write) -> None:
    # 2024-Q4 as of 10-05: the lookback ends with September -> the same 6 months as Q3.
    ctx = context(write, ltv_dataset(), period="2024-Q4", as_of=date(2024, 10, 5))
    assert ctx.value("customer_lifetime_months").value == pytest.approx(30.0)
    assert list(ctx.value("ltv").inputs["monthly_churn"]) == [
        "2024-04",
        "2024-05",
        "2024-06",
        "2024-07",
        "2024-08",
        "2024-09",
    ]


def test_ltv_uses_the_months_with_a_cohort(write: Write) -> None:
    # Paying from 2024-06-15: April, May, June have no start cohort; Jul 0/1, Aug 1/2 (B), Sep 0/1.
    subs = SUBS + "SA,A,active,100,USD,month,1,2024-06-15,\n"
    subs += "SB,B,canceled,100,USD,month,1,2024-07-15,2024-08-15\n"
    ctx = context(write, {"subscriptions.csv": subs})
    churn = ctx.value("customer_lifetime_months")
    assert churn.inputs["lookback_months"] == 3
    assert ctx.value("ltv_gm").inputs["lookback_months"] == 3
    assert churn.value == pytest.approx(6.0)  # 1 / ((0 + 0.5 + 0) / 3)


def test_ltv_without_churn_or_history(write: Write) -> None:
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n"
    ctx = context(write, {"subscriptions.csv": subs})
    for key in ("ltv", "ltv_gm", "customer_lifetime_months"):
        assert_null(ctx.value(key), "zero_denominator")  # churn_m = 0
    recent = SUBS + "S1,A,active,100,USD,month,1,2024-09-10,\n"
    ctx = context(write, {"subscriptions.csv": recent})
    for key in ("ltv", "ltv_gm", "customer_lifetime_months"):
        assert_null(ctx.value(key), "insufficient_history")  # no month has a cohort
        # D3: "set inputs.lookback_months"; the inherited null had dropped it
        assert ctx.value(key).inputs == {"lookback_months": 0}


def test_partial_period_has_no_payback_or_magic_number(write: Write) -> None:
    ctx = toy_context(write, period="2024-Q4")  # as of 2024-10-05
    assert ctx.window.partial
    for key in ("cac_payback_months", "magic_number"):
        assert_null(ctx.value(key), "period_incomplete")


def test_magic_number_uses_the_previous_period_of_the_same_type(write: Write) -> None:
    # 2024-08: C adds 50 MRR (net new ARR 600); the previous month's (July) S&M is 500.
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-01-01,\n"
    subs += "S2,C,active,50,USD,month,1,2024-08-10,\n"
    expenses = EXPENSES + "2024-07-15,sales,500,USD,\n2024-08-15,sales,9999,USD,\n"
    ctx = context(write, {"subscriptions.csv": subs, "expenses.csv": expenses}, period="2024-08")
    result = ctx.value("magic_number")
    assert result.value == pytest.approx(1.2)  # 12 x 50 / 500
    assert result.inputs["previous_period"] == "2024-07"
    july = context(write, {"subscriptions.csv": subs, "expenses.csv": expenses}, period="2024-07")
    assert_null(july.value("magic_number"), "zero_denominator")  # no June spend


def test_a_missing_table_wins_over_an_incomplete_period(write: Write) -> None:
    # No expenses and a partial quarter: the user can fix the first, not the second.
    subs = SUBS + "S1,A,active,100,USD,month,1,2024-08-01,\n"
    partial = context(write, {"subscriptions.csv": subs}, period="2024-Q4", as_of=date(2024, 10, 5))
    for key in ("cac_payback_months", "magic_number"):
        assert_null(partial.value(key), "missing_table:expenses")
    ranged = context(write, {"customers.csv": "customer_id\nA\n"}, period="2024-07-10..2024-08-20")
    assert_null(ranged.value("customer_churn_rate_monthly"), "missing_table:subscriptions")


def test_built_lists_the_values_of_one_name_and_kind(write: Write) -> None:
    # `built` reads an index kept by `shared`, not the whole cache: a century of monthly
    # windows scanned thousands of entries per month (minutes for ltv_lookback_months: 1200)
    ctx = toy_context(write)
    ctx.shared(("x", 1), lambda: "a")
    ctx.shared(("x", 2), lambda: 5)
    ctx.shared(("y", 1), lambda: "b")
    ctx.shared(("x", 1), lambda: "built again")  # cached: not listed twice
    assert ctx.built("x", str) == [(1, "a")]
    assert ctx.built("x", int) == [(2, 5)]
    assert ctx.built("z", str) == []
