"""`revops rules` and `revops explain`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from revops_cli import cli

runner = CliRunner()
V1_CODES = [
    "S001",
    "S002",
    "S003",
    "S004",
    "S005",
    "S006",
    "V001",
    "V002",
    "V003",
    "V005",
    "V006",
    "T001",
    "T002",
    "T003",
    "I001",
    "I002",
    "I003",
    "I004",
    "I005",
    "I006",
    "I007",
    "I008",
    "O001",
    "O002",
    "O003",
    "L001",
    "L002",
    "L003",
    "A001",
    "D001",
    "D002",
    "D003",
    "D004",
    "D005",
    "D006",
    "D007",
    "D008",
    "D010",
    "U001",
    "U002",
    "U003",
    "U004",
    "U005",
    "U006",
    "B001",
    "B002",
    "B003",
    "B004",
    "R001",
    "R002",
    "R003",
    "R004",
    "R005",
    "F001",
]


def test_rules_json_lists_the_54_rules_of_version_1_and_d011() -> None:
    result = runner.invoke(cli.app, ["rules", "--format", "json"])
    assert result.exit_code == 0
    rules = json.loads(result.stdout)
    assert isinstance(rules, list)  # DECISIONS D34: a plain list, no envelope
    # D011 runs only with a run history (DECISIONS D20)
    assert sorted(r["code"] for r in rules) == sorted([*V1_CODES, "D011"])
    by_code = {r["code"]: r for r in rules}
    assert by_code["D003"] == {
        "code": "D003",
        "name": "stale-deal",
        "severity": "warning",
        "tables": ["deals"],
        "params": {"stale_days": 14, "per_stage": {}},
    }
    assert by_code["R003"]["params"] == {
        "tolerance_pct": 0.10,
        "tolerance_abs": 100,
        "deal_amount_basis": "arr",
    }
    assert by_code["S005"]["severity"] == "warning"  # error only on deals.stage


def test_rules_defaults_match_checks_md() -> None:
    result = runner.invoke(cli.app, ["rules", "--format", "json"])
    params = {r["code"]: r["params"] for r in json.loads(result.stdout)}
    assert params["L001"] == {"stale_days": 30}
    assert params["L002"] == {"sla_days": 2}
    assert params["D004"] == {"max_days_in_stage": 30, "per_stage": {}}
    assert params["R001"] == {"grace_days": 30, "lookback_days": 365}
    assert params["R004"] == {"grace_days": 30}
    assert params["T001"] == {"tolerance_days": 1}
    assert params["S003"]["min_fill"] == 0.95 and params["S003"]["error_below"] == 0.5


def test_explain_shows_logic_and_parameters() -> None:
    result = runner.invoke(cli.app, ["explain", "d002", "--format", "json"])
    assert result.exit_code == 0
    entry = json.loads(result.stdout)
    assert (entry["code"], entry["title"]) == ("D002", "Open deal whose close date has passed.")
    assert entry["params"] == {"grace_days": 0}
    assert entry["why"]


@pytest.mark.parametrize(("code", "tables"), [("D002", {}), ("nrr", {})])
def test_explain_json_has_the_common_fields(code: str, tables: object) -> None:
    # CLI.md: every JSON document has them, `tables` a map of the sources loaded: explain
    # loads none (a rule's own tables are `rule_tables`)
    args = ["explain", code, "-f", "json", "--as-of", "2026-10-01", "-c", "my.yaml"]
    entry = json.loads(runner.invoke(cli.app, args).stdout)
    assert {k: entry[k] for k in ("schema_version", "tool", "command", "as_of", "config")} == {
        "schema_version": 1,
        "tool": "revops",
        "command": "explain",
        "as_of": "2026-10-01",
        "config": "my.yaml",
    }
    assert entry["tables"] == tables
    assert entry.get("rule_tables") == (["deals"] if code == "D002" else None)


def test_explain_unknown_code_suggests_one() -> None:
    result = runner.invoke(cli.app, ["explain", "L0001"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: unknown rule or metric 'L0001' (did you mean 'L001'?) (`revops rules` lists "
        "every code; METRICS.md every metric key)\n"
    )


def test_rules_json_is_the_plain_list_of_d34() -> None:
    result = runner.invoke(cli.app, ["rules", "--format", "json"])
    rules = json.loads(result.stdout)
    assert isinstance(rules, list)
    assert {tuple(entry) for entry in rules} == {("code", "name", "severity", "tables", "params")}
    tables = {entry["code"]: entry["tables"] for entry in rules}
    # S003 watches the tables of its default columns; owners have no date for T003
    assert tables["S003"] == ["deals", "leads", "accounts", "customers"]
    assert "owners" not in tables["T003"] and "deal_stage_history" in tables["T003"]
    # the structure rules listed no table ([]); S004 checks keyed tables only (D14)
    assert len(tables["S001"]) == len(tables["S006"]) == 10
    assert tables["S004"] == ["owners", "accounts", "leads", "deals", "customers", "invoices"]
    assert tables["S005"] == ["leads", "deals", "subscriptions", "invoices", "expenses"]


# explain <metric key>: the metric in full (CLI.md), for every key

REASON_CODES = (
    "zero_denominator",
    "missing_table:",
    "missing_column:",
    "missing_input:",
    "period_closed",
    "insufficient_history",
    "target_met",
    "period_incomplete",
)


def test_explain_metric_json_gives_formula_example_inputs_options_reasons_and_fix() -> None:
    result = runner.invoke(cli.app, ["explain", "win_rate", "--format", "json"])
    assert result.exit_code == 0
    entry = json.loads(result.stdout)
    assert entry["formula"] == (
        "Win rate: won / (won + lost) in-scope deals with effective close date in P (E2)."
    )
    assert entry["example"] == "D1, D2, D4 won; D3, D5 lost: 3/5 = 60.00 %"
    # D10: the status has a default (every deal open without a stage map), so it is optional
    # a count: the amount is read by win_rate_amount only (it was listed as needed)
    assert entry["needs"] == ["deals.close_date"]
    assert "deals.status" in entry["optional"]
    assert entry["options"]["metrics.sales.deal_types"] == ["new_business", "expansion"]
    assert entry["options"]["metrics.deals.close_date_source"] == "close_date"
    assert entry["reasons"] == [
        "missing_table:deals",
        "missing_column:deals.<column>",
        "zero_denominator",
    ]
    assert entry["fix"].startswith("Only in-scope deals count (`metrics.sales.deal_types`")


@pytest.mark.parametrize(
    ("key", "needs", "optional"),
    [
        # the weighted figures need the probability; the plain ones only use it (E7)
        ("weighted_pipeline_amount", "deals.probability", None),
        ("open_pipeline_amount", None, "deals.probability"),
        # a lead converts by any of three signals; the status has a default (D10)
        (
            "lead_conversion_rate",
            "leads.converted_at or leads.status or leads.converted_deal_id",
            None,
        ),
        ("lead_to_customer_rate", "leads.converted_deal_id", "leads.status"),
        ("bookings", None, "deals.deal_type"),  # new_business by default
        # stage conversion, the cycle and created pipeline count deals: no amount is read
        ("stage_conversion", "deals.close_date", "deal_stage_history.entered_at"),
        ("sales_cycle_days", "deals.created_at", None),
        ("pipeline_created_count", "deals.created_at", None),
        ("win_rate_amount", "deals.amount", None),
        ("bookings_count", "deals.close_date", None),
        ("renewal_rate_amount", "deals.amount", None),
        ("forecast_accuracy_wape", "deals.owner_id", None),
        ("pipeline_created_amount", "deals.amount", None),
        # unavailable without them (they were listed as used when mapped)
        ("cost_per_lead", "leads.created_at", None),
        ("marketing_spend_by_channel", "expenses.channel", None),
        ("marketing_spend_ratio", "invoices.amount", None),
    ],
)
def test_explain_needs_follow_what_the_metric_cannot_do_without(
    key: str, needs: str | None, optional: str | None
) -> None:
    entry = json.loads(runner.invoke(cli.app, ["explain", key, "--format", "json"]).stdout)
    if needs:
        assert needs in entry["needs"] and needs not in entry["optional"]
    if optional:
        assert optional in entry["optional"] and optional not in entry["needs"]
    assert "leads.status" not in entry["needs"] and "deals.status" not in entry["needs"]
    if key in ("stage_conversion", "sales_cycle_days", "pipeline_created_count", "bookings_count"):
        assert "deals.amount" not in entry["needs"]


def test_rules_and_explain_give_the_severity_and_money_of_checks_md() -> None:
    # S005 is an error for deal stages (CHECKS.md), which rules and explain hid; the money basis
    # is the "at risk" column of CHECKS.md and D14 (R003 said arr, S004 extra_rows, V003 -)
    out = runner.invoke(cli.app, ["rules", "--format", "md"]).stdout
    assert "| S005 | unmapped-value | warning (error for deals.stage) |" in out
    out = runner.invoke(cli.app, ["rules", "--format", "csv"]).stdout
    assert "\nS005,unmapped-value,warning," in out  # the severity a program reads
    out = runner.invoke(cli.app, ["explain", "S005", "--format", "md"]).stdout
    assert "Default severity: warning (error for deals.stage)." in out
    bases = {
        code: json.loads(runner.invoke(cli.app, ["explain", code, "-f", "json"]).stdout)["basis"]
        for code in ("R003", "S004", "V003", "U004", "B004", "D002")
    }
    assert bases == {
        "R003": "abs difference",
        "S004": "pipeline of the extra rows",  # D14
        "V003": "0 (raw amount and currency in detail)",
        "U004": "pipeline of all but the largest",
        "B004": "arr of the smaller",
        "D002": "pipeline",
    }


def test_explain_bookings_names_no_sales_scope() -> None:
    # bookings count won deals of every type (E1); sales.deal_types scopes the others (§1.7)
    entry = json.loads(runner.invoke(cli.app, ["explain", "bookings", "--format", "json"]).stdout)
    assert "metrics.sales.deal_types" not in entry["options"]
    assert "metrics.deals.default_deal_type" in entry["options"]


def test_explain_csv_is_one_field_per_line_and_the_text_names_the_tables() -> None:
    # CSV was the Markdown text; the rule's tables were only in JSON
    out = runner.invoke(cli.app, ["explain", "R003", "--format", "csv"]).stdout
    lines = out.splitlines()
    assert lines[:3] == ["field,value", "code,R003", "name,crm-billing-amount-mismatch"]
    assert "tables,deals; accounts; customers; subscriptions" in lines
    out = runner.invoke(cli.app, ["explain", "win_rate", "--format", "csv"]).stdout
    assert out.splitlines()[:3] == ["field,value", "key,win_rate", "unit,fraction"]
    for fmt in ("md", "table"):
        out = runner.invoke(cli.app, ["explain", "R003", "--format", fmt]).stdout
        assert (
            "Tables: deals, accounts, customers, subscriptions. Default severity: warning." in out
        )


def test_explain_metric_table_shows_every_part() -> None:
    result = runner.invoke(cli.app, ["explain", "ltv"])
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("ltv (currency, unit economics, METRICS.md §4 D3)\n")
    for part in ("Formula: ", "Example: ", "Needs: ", "Null or unavailable: ", "Fix: "):
        assert part in out
    assert "insufficient_history" in out
    assert "metrics.churn.ltv_lookback_months" in out and "Change them under `metrics:`" in out


def test_explain_covers_every_metric_key_with_real_columns_options_and_reasons() -> None:
    from revops_cli.metrics import ORDER
    from revops_cli.schema import TABLES

    for key, section in ORDER:
        result = runner.invoke(cli.app, ["explain", key, "--format", "json"])
        assert result.exit_code == 0, key
        entry = json.loads(result.stdout)
        assert (entry["key"], entry["section"]) == (key, section)
        assert entry["formula"] and entry["example"] and entry["fix"] and entry["needs"], key
        for needed in (*entry["needs"], *entry["optional"]):
            for column in needed.split(" or "):  # one of several columns (D10)
                table, _, name = column.partition(".")
                assert name in TABLES[table].columns, (key, column)
        if section[0] in "AB" and section != "B6":  # the MRR span needs an end (METRICS A1)
            assert "subscriptions.end_date or subscriptions.canceled_at" in entry["needs"], key
            assert "subscriptions.currency" not in entry["needs"], key  # D10: base by default
        assert entry["options"], key  # read from the config model: every path exists
        for reason in entry["reasons"]:
            assert reason.startswith(REASON_CODES), (key, reason)
