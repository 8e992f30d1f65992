"""The metrics report: registry completeness, deltas, display rounding (D19), JSON shape, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from toy import TOY
from typer.testing import CliRunner

from revops_cli import cli
from revops_cli.metrics import METRICS, ORDER
from revops_cli.report.metrics import display, display_change, fixed
from revops_cli.results import MetricResult, MetricValue, Unit, change

runner = CliRunner()
ENTRY_FIELDS = {
    "value",
    "previous",
    "unit",
    "status",
    "reason",
    "delta",
    "delta_kind",
    "partial",
    "warnings",
    "inputs",
}


def test_every_v1_key_is_registered_once() -> None:
    keys = [key for key, _ in ORDER]
    assert len(keys) == 79 == len(set(keys))  # DECISIONS D6: 78 headed keys + revenue_uncollectible
    assert set(METRICS) == set(keys)
    for key, metric in METRICS.items():
        assert metric.doc.strip(), f"{key} has no docstring"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (0.365, 2, "0.37"),  # D19: the ltv_to_cac example, 0.365 in float64 is 0.36499999...
        (2.675, 2, "2.68"),
        (-1.005, 2, "-1.01"),  # half away from zero
        (70.333333, 1, "70.3"),
        (272.98578, 2, "272.99"),
        (-0.00001, 2, "0.00"),  # never -0.00
    ],
)
def test_round_half_away_from_zero(value: float, places: int, expected: str) -> None:
    assert str(fixed(value, places)) == expected


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.123, Unit.FRACTION, "12.30 %"),
        (0.196721, Unit.FRACTION, "19.67 %"),
        (1234.565, Unit.CURRENCY, "$1,234.57"),
        (-120.0, Unit.CURRENCY, "-$120.00"),
        (2.416667, Unit.RATIO, "2.42\u00d7"),  # METRICS §1.1
        (0.365, Unit.RATIO, "0.37\u00d7"),
        (0.00115, Unit.FRACTION, "0.12 %"),  # 0.00115 * 100 is 0.11499999999999999 as a float
        (0.123455, Unit.FRACTION, "12.35 %"),
        (70.3333, Unit.DAYS, "70.3 d"),
        (15.0, Unit.MONTHS, "15.0 mo"),
        (272.9858, Unit.CURRENCY_PER_DAY, "$272.99/day"),
        (4, Unit.COUNT, "4"),
        (None, Unit.COUNT, "-"),
        (1e26, Unit.CURRENCY, "$100,000,000,000,000,000,000,000,000.00"),  # beyond 28 digits
        # the rounded decimal, not the float's binary digits (...456.75), as the CSV writes it
        (1234567890123456.8, Unit.CURRENCY, "$1,234,567,890,123,456.80"),
        (-2.675, Unit.CURRENCY, "-$2.68"),
        (-0.001, Unit.CURRENCY, "$0.00"),  # never -$0.00
    ],
)
def test_display(value: float | None, unit: Unit, shown: str) -> None:
    assert display(value, unit, "USD") == shown


def _list_or_map(key: str, unit: Unit, current: Any, previous: Any, status: str) -> MetricValue:
    reason = None if status == "ok" else "zero_denominator"
    now = MetricResult(current, status, reason)
    return MetricValue(key, unit, "f", now, MetricResult(previous), False)


@pytest.mark.parametrize(
    ("metric", "rows"),
    [
        # a null stage_conversion with a previous list: one row per previous element, never
        # the list's Python repr in one cell
        (
            _list_or_map(
                "stage_conversion",
                Unit.FRACTION,
                None,
                [{"from_stage": "a", "to_stage": "won", "rate": 0.5}],
                "null",
            ),
            ["stage_conversion[a>won],,50.00,,pp,fraction,null,zero_denominator"],
        ),
        # an element of the previous period only is shown; an empty map is still one row
        (
            _list_or_map(
                "marketing_spend_by_channel", Unit.CURRENCY, {"events": 100.0}, {"ads": 2.675}, "ok"
            ),
            [
                "marketing_spend_by_channel[events],100.00,,,,currency,ok,",
                "marketing_spend_by_channel[ads],,2.68,,rel,currency,ok,",
            ],
        ),
        (
            _list_or_map("marketing_spend_by_channel", Unit.CURRENCY, {}, None, "ok"),
            ["marketing_spend_by_channel,,,,,currency,ok,"],
        ),
    ],
)
def test_csv_rows_of_list_and_map_metrics(metric: MetricValue, rows: list[str]) -> None:
    lines = [",".join("" if c is None else str(c) for c in row) for row in _csv_rows_of(metric)]
    assert lines == rows


def test_markdown_tables_show_data_as_written() -> None:
    # every Markdown table (metrics, validate, audit, history), not only the report's: a channel
    # named like HTML or holding a backslash before a pipe stays text, in one cell
    from revops_cli.report.output import md_table

    table = md_table(("metric", "value"), [("k[<img src=x>]", "a\\|b *c*")])
    assert table.splitlines()[2] == "| k\\[&lt;img src=x&gt;\\] | a\\\\\\|b \\*c\\* |"
    fixes = md_table(("fix",), [("set `grace_days` <here>",)], markdown=(0,))
    assert fixes.splitlines()[2] == "| set `grace_days` &lt;here&gt; |"  # code spans kept


def _csv_rows_of(metric: MetricValue) -> list[tuple[object, ...]]:
    from revops_cli.report.metrics import _csv_rows

    report = type("R", (), {"metrics": (metric,)})()
    return _csv_rows(report)  # type: ignore[arg-type]


def _value(unit: Unit, current: float | None, previous: float | None) -> MetricValue:
    prev = MetricResult(previous, "ok" if previous is not None else "null")
    return MetricValue("k", unit, "f", MetricResult(current), prev, False)


@pytest.mark.parametrize(
    ("unit", "current", "previous", "delta", "kind"),
    [
        (Unit.FRACTION, 0.3125, 0.25, 0.0625, "pp"),  # percentage points for fractions
        (Unit.CURRENCY, 1234000.0, 1100000.0, 134000 / 1100000, "rel"),
        (Unit.CURRENCY, -50.0, -100.0, 0.5, "rel"),  # relative to the size of the previous value
        (Unit.COUNT, 5, 0, None, None),  # D5: no delta from 0
        (Unit.RATIO, 2.0, None, None, None),
        (Unit.CURRENCY, None, 60.0, None, "rel"),  # D5: the kind depends on the previous alone
        (Unit.FRACTION, None, 0.5, None, "pp"),
    ],
)
def test_delta(
    unit: Unit, current: float | None, previous: float | None, delta: float | None, kind: str | None
) -> None:
    metric = _value(unit, current, previous)
    assert metric.delta_kind == kind
    assert metric.delta == (pytest.approx(delta) if delta is not None else None)
    assert change(current, previous, unit) == (metric.delta, metric.delta_kind)  # the CSV's


def test_display_change() -> None:
    assert display_change(0.3125, 0.25, Unit.FRACTION) == "+6.25 pp"
    assert display_change(2000.0, 1800.0, Unit.CURRENCY) == "+11.11 %"
    assert display_change(101892.92, 101897.19, Unit.CURRENCY) == "+0.00 %"  # not -0.00


def metrics_json(*args: str) -> tuple[int, dict[str, object], str]:
    argv = ["metrics", "-c", str(TOY / "revops.yaml"), "--as-of", "2024-10-05", *args]
    result = runner.invoke(cli.app, argv)
    document = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, document, result.stderr


def test_metrics_json_document() -> None:
    code, doc, _ = metrics_json("--period", "2024-Q3", "--format", "json")
    assert code == 0
    assert doc["command"] == "metrics"
    assert doc["period"] == {"label": "2024-Q3", "start": "2024-07-01", "end": "2024-09-30"}
    assert doc["previous"] == {"label": "2024-Q2", "start": "2024-04-01", "end": "2024-06-30"}
    assert (doc["compare"], doc["currency"]) == ("previous", "USD")
    metrics = doc["metrics"]
    assert isinstance(metrics, dict)
    assert list(metrics) == [key for key, _ in ORDER]
    assert all(set(entry) == ENTRY_FIELDS for entry in metrics.values())
    assert metrics["mrr"]["value"] == pytest.approx(730.0)
    assert metrics["mrr"]["previous"] == pytest.approx(610.0)  # Q2's closing MRR = Q3's opening
    assert metrics["mrr"]["delta_kind"] == "rel"
    assert metrics["win_rate"]["unit"] == "fraction"


def test_partial_period_compares_period_to_date() -> None:
    code, doc, _ = metrics_json("--period", "2024-Q4", "--format", "json")
    assert code == 0
    assert doc["compare"] == "period_to_date"
    assert doc["period"] == {"label": "2024-Q4", "start": "2024-10-01", "end": "2024-12-31"}
    assert doc["previous"] == {"label": "2024-Q3", "start": "2024-07-01", "end": "2024-07-05"}


def test_compare_none_has_no_previous() -> None:
    code, doc, _ = metrics_json("--period", "2024-Q3", "--format", "json", "--compare", "none")
    assert code == 0
    assert doc["previous"] is None and doc["compare"] == "none"
    metrics = doc["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["mrr"]["previous"] is None and metrics["mrr"]["delta"] is None


def test_bad_period_is_exit_2() -> None:
    code, _, err = metrics_json("--period", "Q5")
    assert code == 2
    assert err.startswith("error: --period: 'Q5' is not a period")


def test_bad_values_with_line_breaks_stay_on_one_line() -> None:
    # CLI.md exit 2: one line on stderr; the line break shows as its escape
    code, _, err = metrics_json("--period", "2024\nQ3")
    assert code == 2
    assert err.startswith("error: --period: '2024\\nQ3' is not a period (use ")
    assert err.count("\n") == 1  # the line's own end
    code, _, err = metrics_json("--period", "2024-Q3", "--as-of", "2024-10\r-05")
    assert code == 2
    assert err == "error: --as-of: '2024-10\\r-05' is not a date (write it as YYYY-MM-DD)\n"


def test_csv_rounds_for_display_and_splits_lists() -> None:
    result = runner.invoke(
        cli.app,
        [
            "metrics",
            "-c",
            str(TOY / "revops.yaml"),
            "--as-of",
            "2024-10-05",
            "-p",
            "2024-Q3",
            "-f",
            "csv",
        ],
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "key,value,previous,delta,delta_kind,unit,status,reason"
    # METRICS §1.1: a fraction as a percentage with 2 places; the pp change as the table's, of the
    # unrounded values: Q3 (730 - 610) / 610 = 19.67 %, Q2 (610 - 690) / 690 = -11.59 %, and
    # 0.196721 + 0.115942 = 0.312663 is 31.27 pp, not 19.67 + 11.59 = 31.26
    assert "mrr_growth_rate,19.67,-11.59,31.27,pp,fraction,ok," in lines
    # Q3 (210 - 100 - 80) / 610 = 4.92 % (§4 B2); Q2 F's churn of 80 alone, 80 / 690 = 11.59 %;
    # 0.049180 - 0.115942 = -0.066762 is -6.68 pp
    assert "net_mrr_churn_rate,4.92,11.59,-6.68,pp,fraction,ok," in lines


def test_csv_prints_counts_as_integers() -> None:
    args = ["metrics", "-c", str(TOY / "revops.yaml"), "--as-of", "2024-10-05", "-p", "2024-Q3"]
    result = runner.invoke(cli.app, [*args, "-f", "csv"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # toy customers at 06-30: A B C D (4), at 03-31 also F (5); delta (4 - 5) / 5 in %
    assert "customers_start,4,5,-20.00,rel,count,ok," in lines
    assert "customers,5,4,25.00,rel,count,ok," in lines  # 09-30: A B D E F; 06-30: A B C D
    assert "leads_created,200,0,,,count,ok," in lines  # 200 toy leads in Q3, none in Q2
    # 2 places, as D19 says; the change 120 / 610 in % with 2 places, as the table shows it
    assert "mrr,730.00,610.00,19.67,rel,currency,ok," in lines


def test_table_shows_families_and_waterfall() -> None:
    result = runner.invoke(
        cli.app,
        ["metrics", "-c", str(TOY / "revops.yaml"), "--as-of", "2024-10-05", "-p", "2024-Q3"],
    )
    assert result.exit_code == 0
    out = result.stdout
    assert "2024-Q3 → 2024-07-01..2024-09-30, fiscal year starts Jan, as of 2024-10-05" in out
    for title in (
        "recurring revenue",
        "churn and retention",
        "revenue",
        "unit economics",
        "sales and pipeline",
        "MRR movements",
    ):
        assert title in out


@pytest.mark.parametrize(
    ("config", "as_of", "period", "by"),
    [
        ("config.example.yaml", "2026-10-01", "2026-Q3", None),
        ("config.example.yaml", "2026-10-01", "2026-Q2", "owner"),
        ("config.example.yaml", "2026-10-01", "2026", "segment"),
        ("tests/fixtures/toy/revops.yaml", "2024-10-05", "2024-Q3", None),
        ("tests/fixtures/toy_funnel/revops.yaml", "2024-10-05", "2024-Q3", None),
    ],
)
def test_metrics_do_not_read_the_columns_the_metrics_command_skips(
    config: str, as_of: str, period: str, by: str | None
) -> None:
    from datetime import date
    from pathlib import Path

    from revops_cli.config import load_config
    from revops_cli.load.dataset import load_dataset
    from revops_cli.metrics import compute_metrics, unread_columns

    root = Path(__file__).parent.parent
    loaded = load_config(root / config)
    day = date.fromisoformat(as_of)
    skipped = unread_columns(loaded)
    lean = load_dataset(loaded, day, skipped)
    for table, frame in lean.tables.items():  # the columns really are skipped
        assert not set(skipped.get(table, ())) & set(frame.columns)
    assert set(lean.tables) == set(load_dataset(loaded, day).tables)
    full = compute_metrics(load_dataset(loaded, day), period, "previous", by)
    assert compute_metrics(lean, period, "previous", by) == full


def test_the_stage_history_dates_are_read_only_when_deals_close_on_them() -> None:
    from pathlib import Path

    from revops_cli.config import load_config
    from revops_cli.metrics import unread_columns

    root = Path(__file__).parent.parent
    funnel = load_config(root / "tests/fixtures/toy_funnel/revops.yaml")
    assert unread_columns(funnel)["deal_stage_history"] == ("entered_at",)
    metrics = funnel.metrics.model_copy(
        update={
            "deals": funnel.metrics.deals.model_copy(update={"close_date_source": "stage_history"})
        }
    )
    closing = funnel.model_copy(update={"metrics": metrics})
    assert "deal_stage_history" not in unread_columns(closing)


def test_header_names_the_fiscal_year_start(tmp_path: Path) -> None:
    # METRICS §2.2: the resolved dates and the fiscal year's first month are always printed
    config = (TOY / "revops.yaml").read_text().replace("start_month: 1", "start_month: 2")
    for name in [p.name for p in TOY.glob("*.csv")]:
        (tmp_path / name).write_bytes((TOY / name).read_bytes())
    (tmp_path / "revops.yaml").write_text(config)
    args = ["metrics", "-c", str(tmp_path / "revops.yaml"), "--as-of", "2024-10-05"]
    result = runner.invoke(cli.app, [*args, "-p", "2025-Q3", "-f", "md"])
    assert result.exit_code == 0, result.output
    # FY2025 starts 2024-02-01 (naming "end"): its Q3 is Aug..Oct 2024, partial to 10-05
    assert (
        "2025-Q3 → 2024-08-01..2024-10-31 (partial: to 2024-10-05), fiscal year starts Feb, "
        "as of 2024-10-05" in result.stdout
    )


SUBSCRIPTIONS = "subscription_id,customer_id,status,amount,currency,interval,start_date,end_date\n"


def march_2025(tmp_path: Path, rows: str) -> dict[str, dict[str, Any]]:
    """The JSON metrics of 2025-03 (as of 2025-06-01) over subscriptions alone."""
    (tmp_path / "subscriptions.csv").write_text(SUBSCRIPTIONS + rows)
    (tmp_path / "revops.yaml").write_text("sources: {subscriptions: {path: subscriptions.csv}}")
    args = ["metrics", "-c", str(tmp_path / "revops.yaml"), "--as-of", "2025-06-01"]
    result = runner.invoke(cli.app, [*args, "-p", "2025-03", "-f", "json"])
    assert result.exit_code == 0, result.output
    metrics: dict[str, dict[str, Any]] = json.loads(result.stdout)["metrics"]
    return metrics


def test_a_month_without_movement_nets_exactly_zero(tmp_path: Path) -> None:
    # 0.1 + 0.2 + 0.3 summed beside two keys at 0 (D and E start in March) was
    # 0.6000000000000001 as March's opening but 0.6 as February's closing: February's net new
    # MRR came out -1.1e-16, and March's change against it +4.5e16 "rel" instead of none (D5)
    metrics = march_2025(
        tmp_path,
        "S1,A,canceled,0.1,USD,month,2025-01-01,2025-03-15\n"
        "S2,B,active,0.2,USD,month,2025-01-01,\n"
        "S3,C,active,0.3,USD,month,2025-01-01,\n"
        "S4,D,active,0.1,USD,month,2025-03-10,\n"
        "S5,E,active,5,USD,month,2025-03-10,\n",
    )
    net = metrics["net_new_mrr"]
    assert (net["previous"], net["delta"], net["delta_kind"]) == (0.0, None, None)
    growth = metrics["mrr_growth_rate"]
    assert (growth["previous"], growth["delta"], growth["delta_kind"]) == (0.0, None, None)
    assert metrics["mrr_start"]["value"] == metrics["mrr"]["previous"] == 0.6


def test_an_mrr_too_large_for_fixed_decimals_still_sums(tmp_path: Path) -> None:
    # MRR totals add values fixed to 12 decimals, which hold up to 10^26; a larger one is
    # summed with fsum rather than overflowing the decimal type
    metrics = march_2025(
        tmp_path,
        f"S1,A,active,{10**27},USD,month,2025-01-01,\nS2,B,active,0.25,USD,month,2025-01-01,\n",
    )
    assert metrics["mrr"]["value"] == 1e27
    assert metrics["net_new_mrr"]["value"] == 0.0


def test_by_shows_its_rows_in_the_table_and_markdown() -> None:
    # toy Q3 by owner: O1 won D1 (12,000 new) and D6 (6,000 renewal) and lost D3 (10,000 new):
    # win rate 1 / 2, by amount 12,000 / 22,000; D5 has no owner (lost, no amount)
    args = ["metrics", "-c", str(TOY / "revops.yaml"), "--as-of", "2024-10-05", "-p", "2024-Q3"]
    md = runner.invoke(cli.app, [*args, "--by", "owner", "-f", "md"])
    assert md.exit_code == 0
    assert "## by owner\n\n| owner | metric | value | previous | change |" in md.stdout
    assert "| O1 | bookings | $18,000.00 | $0.00 |  |" in md.stdout
    assert "| O1 | win_rate_amount | 54.55 % | - |  |" in md.stdout
    assert "| (none) | win_rate | 0.00 % | - |  |" in md.stdout
    # a metric the row cannot compute shows its status and reason, as in JSON (O1 has no leads)
    assert "| O1 | lead_conversion_rate | null: zero_denominator | - |  |" in md.stdout
    table = runner.invoke(cli.app, [*args, "--by", "owner"], env={"COLUMNS": "120"})
    assert table.exit_code == 0
    assert "by owner" in table.stdout
    lines = table.stdout.splitlines()
    row = next(line for line in lines if "O2" in line and "avg_deal_size" in line)
    assert "$6,000.00" in row  # (8,000 + 4,000) / 2
