"""The shipped sample data: it loads, every plantable rule fires, and the audit matches PLANTED.md.

The golden file tests/golden/audit_sample.json is regenerated on purpose, never edited by hand:
    REVOPS_UPDATE_GOLDEN=1 python -m pytest tests/test_sample_data.py
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from revops_cli import cli
from revops_cli.checks import RULES
from revops_cli.schema import TABLES

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.example.yaml"
AS_OF = "2026-10-01"
GOLDEN = Path(__file__).parent / "golden" / "audit_sample.json"
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, [*args, "-c", str(CONFIG), "--as-of", AS_OF])
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def audit() -> dict[str, Any]:
    code, out = run("audit", "--format", "json")
    assert code == 1  # the sample has planted errors
    document: dict[str, Any] = json.loads(out)
    return document


def test_validate_loads_every_table() -> None:
    code, out = run("validate", "--format", "json")
    assert code == 0
    tables = json.loads(out)["tables"]
    assert set(tables) == set(TABLES)
    assert all(entry["rows"] > 0 and entry["loaded"] for entry in tables.values())


def test_every_rule_but_s006_fires(audit: dict[str, Any]) -> None:
    fired = {finding["code"] for finding in audit["findings"]}
    # DECISIONS D12: S006 is covered by its fixture; D011 needs a run history (its fixture)
    assert fired == set(RULES) - {"S006", "D011"}


def _planted() -> set[tuple[str, str, str]]:
    rows = set()
    for line in (ROOT / "sample_data" / "PLANTED.md").read_text().splitlines():
        match = re.match(r"^\| ([A-Z]\d{3}) \| (\w+) \| `([^`]+)` \|", line)
        if match:
            rows.add((match[1], match[2], match[3]))
    return rows


def test_audit_flags_exactly_the_planted_records(tmp_path: Path) -> None:
    findings = tmp_path / "findings.csv"
    run("audit", "--findings", str(findings), "--fail-on", "never")
    flagged = {
        tuple(line.split(",")[i] for i in (0, 2, 3))
        for line in findings.read_text().splitlines()[1:]
    }
    planted = _planted()
    assert len(planted) == 124
    assert flagged == planted


def _stable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("version", "config", "tables")}


def test_audit_matches_the_golden_file(audit: dict[str, Any]) -> None:
    if os.environ.get("REVOPS_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(_stable(audit), indent=2, ensure_ascii=False) + "\n")
    assert _stable(audit) == json.loads(GOLDEN.read_text())


FINDING_FIELDS = {
    "code": str,
    "name": str,
    "severity": str,
    "table": str,
    "count": int,
    "checked": int,
    "ratio": float,
    "revenue_at_risk": float,
    "message": str,
    "samples": list,
}


def test_audit_json_has_every_field_of_cli_md_with_its_type() -> None:
    code, out = run("audit", "--format", "json", "--samples", "2")
    assert code == 1
    doc = json.loads(out)
    assert (doc["schema_version"], doc["tool"], doc["command"], doc["as_of"]) == (
        1,
        "revops",
        "audit",
        AS_OF,
    )
    assert isinstance(doc["version"], str) and isinstance(doc["config"], str)
    assert all(set(t) == {"path", "rows"} for t in doc["tables"].values())
    summary = doc["summary"]
    assert isinstance(summary["rules_run"], int) and isinstance(summary["findings"], int)
    assert set(summary["by_severity"]) == {"error", "warning", "info"}
    assert isinstance(summary["revenue_at_risk"], float) and summary["failed"] is True
    for finding in doc["findings"]:
        assert {k: type(finding[k]) for k in FINDING_FIELDS} == FINDING_FIELDS
        assert 1 <= len(finding["samples"]) <= 2
        assert all(set(s) == {"record_id", "detail"} for s in finding["samples"])
    ranks = {"error": 0, "warning": 1, "info": 2}
    order = [(ranks[f["severity"]], -f["revenue_at_risk"], -f["count"]) for f in doc["findings"]]
    assert order == sorted(order)
    assert {r["status"] for r in doc["rules"]} <= {"pass", "fail", "skipped", "error"}


@pytest.mark.parametrize(
    "column",
    [
        "deal_stage_history.deal_id",
        "deals.stage",
        "deals.deal_type",
        "deals.amount",
        "forecasts.period",
        "invoices.customer_id",
        "invoices.status",
        "leads.status",
        "subscriptions.customer_id",
        "subscriptions.status",
        "subscriptions.interval",
        "subscriptions.start_date",
    ],
)
def test_a_mapped_column_missing_from_its_file_is_skipped_never_a_crash(
    column: str, tmp_path: Path
) -> None:
    # the sample config with one column mapped to a header its file lacks (S001): every rule
    # runs, passes, fails or is skipped, and every metric computes or says why not
    import yaml

    from revops_cli.checks import run_rules
    from revops_cli.config import load_config
    from revops_cli.load.dataset import load_dataset
    from revops_cli.metrics import compute_metrics
    from revops_cli.metrics.series import monthly_mrr
    from revops_cli.results import RuleState

    table, name = column.split(".")
    config = yaml.safe_load(CONFIG.read_text())
    for source in config["sources"].values():
        source["path"] = str(ROOT / source["path"])
    config["sources"][table].setdefault("columns", {})[name] = "No Such Header"
    path = tmp_path / "revops.yaml"
    path.write_text(yaml.safe_dump(config))
    dataset = load_dataset(load_config(path), date(2026, 10, 1))
    assert table in dataset.tables  # only a missing key leaves the table unloaded
    report = run_rules(dataset, list(RULES.values()))
    assert [r.code for r in report.rules if r.status is RuleState.ERROR] == []
    reason = f"missing_column:{column}"
    assert any(r.status is RuleState.SKIPPED and r.reason == reason for r in report.rules) or (
        column == "deals.deal_type"  # it has no reader without a default
    )
    metrics = compute_metrics(dataset, "2026-Q3").metrics
    assert len(metrics) == 79  # none raised
    # the breakdown and the report's MRR chart read frames outside the metrics: no crash there
    assert compute_metrics(dataset, "2026-Q3", by="owner").breakdown
    assert monthly_mrr(dataset, date(2026, 9, 30)).reason in (None, reason)
    read_by_metrics = {"deals.stage", "invoices.status", "subscriptions.status"}
    read_by_metrics |= {"subscriptions.interval", "subscriptions.start_date"}
    if column in read_by_metrics:
        assert any(m.current.reason == reason for m in metrics), column
