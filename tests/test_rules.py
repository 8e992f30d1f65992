"""Every audit rule against its hand-written fixture: the flagged ids must equal the `bad_*` ids.

A fixture is a folder tests/fixtures/rules/<CODE>/ of canonical-header CSVs named after their table
(deals.csv, accounts.csv, ...) and an optional fixture.yaml:

    as_of: 2024-10-01            # default 2024-10-01
    settings: {stale_days: 10}   # the rule's parameters (rules.settings.<CODE>)
    config: {link_by_domain: false}   # other top-level config keys
    sources: {deals: {values: {status: {won: [Closed Won]}}}}   # extra source keys per table
    expected: ["deals.amount"]   # flagged ids that are not key values (table-level, keyless tables)
    samples: {bad_x: "detail"}   # optional: the detail expected for some records
    revenue_at_risk: 1234.5      # optional: the rule's total revenue at risk
    history: [runs/2024-09-01]   # optional: folders of earlier exports, stored in a run history
                                 # as runs of the as-of date their names give, in this order
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from revops_cli.checks import RULES, run_rules
from revops_cli.config import load_config
from revops_cli.history import deal_history, open_store, run_record
from revops_cli.load.dataset import load_dataset
from revops_cli.results import RuleState
from revops_cli.schema import TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
DEFAULT_AS_OF = date(2024, 10, 1)


def _fixture(code: str) -> dict[str, Any]:
    path = FIXTURES / code / "fixture.yaml"
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def _bad_ids(folder: Path) -> set[str]:
    ids: set[str] = set()
    for path in folder.glob("*.csv"):
        key = TABLES[path.stem].record_id
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                value = (row.get(key) or "").strip() if key else ""
                if value.startswith("bad_"):
                    ids.add(value)
    return ids


def _run(code: str, tmp_path: Path) -> Any:
    fixture = _fixture(code)
    as_of = fixture.get("as_of", DEFAULT_AS_OF)
    dataset = _dataset(code, FIXTURES / code, tmp_path, as_of)
    history = _history(code, fixture, tmp_path, as_of)
    return run_rules(dataset, [RULES[code]], deal_history=history)


def _history(code: str, fixture: dict[str, Any], tmp_path: Path, as_of: date) -> Any:
    if "history" not in fixture:
        return None
    with open_store(tmp_path / "history.sqlite") as store:
        for name in fixture["history"]:
            day = date.fromisoformat(Path(name).name)
            ds = _dataset(code, FIXTURES / code / name, tmp_path, day)
            store.record(run_record("audit", ds.config, ds, 0, "test", datetime.now(UTC)))
        return deal_history(store, as_of)


def _dataset(code: str, folder: Path, tmp_path: Path, as_of: date) -> Any:
    fixture = _fixture(code)
    sources = {
        path.stem: {"path": str(path), **fixture.get("sources", {}).get(path.stem, {})}
        for path in sorted(folder.glob("*.csv"))
    }
    config = {
        "version": 1,
        "sources": sources,
        "rules": {"settings": {code: fixture.get("settings", {})}},
        **fixture.get("config", {}),
    }
    config_path = tmp_path / "revops.yaml"
    config_path.write_text(yaml.safe_dump(config))
    return load_dataset(load_config(config_path), as_of)


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_flags_exactly_the_bad_records(code: str, tmp_path: Path) -> None:
    assert (FIXTURES / code).is_dir(), f"no fixture folder for {code}"
    fixture = _fixture(code)
    report = _run(code, tmp_path)
    (outcome,) = report.rules
    assert outcome.status in (RuleState.PASS, RuleState.FAIL), outcome.reason
    flagged = set(report.records["record_id"].to_list())
    expected = _bad_ids(FIXTURES / code) | set(fixture.get("expected", []))
    assert expected, f"{code}: the fixture plants no bad record"
    assert flagged == expected
    details = dict(zip(report.records["record_id"], report.records["detail"], strict=True))
    for record, detail in fixture.get("samples", {}).items():
        assert details[record] == detail
    if "revenue_at_risk" in fixture:
        total = sum(f.revenue_at_risk for f in report.findings)
        assert total == pytest.approx(fixture["revenue_at_risk"])


def test_codes_and_names_are_unique_and_documented() -> None:
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names))
    for code, rule in RULES.items():
        assert code == rule.code and len(code) == 4 and code[0] in "SVTIOLADUBRF"
        assert rule.doc.strip(), f"{code} has no docstring"
        assert "{n}" in rule.message, f"{code}'s message does not say how many"


def test_every_fixture_folder_belongs_to_a_rule() -> None:
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} <= set(RULES)


def test_a_rule_whose_loaded_parts_flag_nothing_passes_and_names_the_skipped_parts(
    tmp_path: Path,
) -> None:
    # S003 watches deals, leads, accounts and customers; only deals is loaded, and filled (D30)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "deals.csv").write_text(
        "deal_id,account_id,owner_id,amount,close_date,stage\nD1,A1,O1,100,2024-09-01,Closed Won\n"
    )
    report = run_rules(_dataset("S003", folder, tmp_path, DEFAULT_AS_OF), [RULES["S003"]])
    (outcome,) = report.rules
    assert outcome.status is RuleState.PASS
    assert outcome.reason == (
        "skipped parts: missing_table:leads; missing_table:accounts; missing_table:customers"
    )
    assert report.findings == ()


def test_structure_rules_with_no_table_to_check_are_skipped(tmp_path: Path) -> None:
    # only owners is loaded, and expenses is configured but holds no data row: S002 checks the
    # owners, S004 the owners' keys (the other keyed tables are skipped parts); S005 has no
    # vocabulary column to check, so it is skipped, not passed (CHECKS "Conventions", D30)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "owners.csv").write_text("owner_id,name\nO1,Ann\n")
    (folder / "expenses.csv").write_text("date,category,amount\n")
    rules = [RULES[c] for c in ("S002", "S004", "S005")]
    report = run_rules(_dataset("S002", folder, tmp_path, DEFAULT_AS_OF), rules)
    outcomes = {o.code: (o.status, o.reason) for o in report.rules}
    assert outcomes["S002"] == (RuleState.PASS, "skipped parts: missing_table:expenses")
    assert outcomes["S004"] == (
        RuleState.PASS,
        "skipped parts: missing_table:accounts; missing_table:leads; missing_table:deals; "
        "missing_table:customers; missing_table:invoices",
    )
    assert outcomes["S005"] == (
        RuleState.SKIPPED,
        "missing_table:leads; missing_table:deals; missing_table:subscriptions; "
        "missing_table:invoices; missing_table:expenses",
    )


def test_s002_skips_a_table_its_key_header_left_unloaded(tmp_path: Path) -> None:
    # accounts maps its key to a header the file lacks (S001): the table is not loaded, so S002
    # skips it (CHECKS "Conventions"; S001: "the table ... is skipped"), as S005 does; validate
    # still lists the created_at that does not parse and the short row 2
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "accounts.csv").write_text("ID,name,created_at\nA1,Acme,soon\nA2\n")
    (folder / "owners.csv").write_text("owner_id,is_active\nO1,maybe\n")
    (tmp_path / "revops.yaml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "sources": {
                    "accounts": {
                        "path": str(folder / "accounts.csv"),
                        "columns": {"account_id": "Account Id"},
                    },
                    "owners": {"path": str(folder / "owners.csv")},
                },
            }
        )
    )
    dataset = load_dataset(load_config(tmp_path / "revops.yaml"), DEFAULT_AS_OF)
    assert dataset.loads["accounts"].parse_failures["created_at"].samples == ("soon",)
    assert dataset.loads["accounts"].ragged_rows == (2,)
    report = run_rules(dataset, [RULES["S002"]])
    assert report.records.select("record_id", "detail").rows() == [
        ("owners.is_active", "1 unparseable: 'maybe'")
    ]
    (outcome,) = report.rules
    assert outcome.reason == "skipped parts: missing_table:accounts"


@pytest.mark.parametrize(("code", "table"), [("L001", "leads"), ("D003", "deals")])
def test_stale_rules_run_without_created_at(code: str, table: str, tmp_path: Path) -> None:
    # last touch is coalesce(last_activity_at, created_at): without a created_at column it is the
    # activity alone, for leads as for deals; an open record never touched cannot be dated
    folder = tmp_path / "data"
    folder.mkdir()
    key, state = ("lead_id", "working") if table == "leads" else ("deal_id", "open")
    (folder / f"{table}.csv").write_text(
        f"{key},status,last_activity_at\nX1,{state},2024-06-01\nX2,{state},2024-09-30\nX3,{state},\n"
    )
    report = run_rules(_dataset(code, folder, tmp_path, DEFAULT_AS_OF), [RULES[code]])
    (outcome,) = report.rules
    assert outcome.status is RuleState.FAIL
    assert report.records.select("record_id", "detail").rows() == [("X1", "silent")]


@pytest.mark.parametrize(
    ("code", "table", "rows", "settings", "expected"),
    [
        # the config check trims a min_date; the rule read it untrimmed and crashed (exit 3)
        (
            "T003",
            "accounts",
            "account_id,created_at\nA1,1995-12-31\nA2,1996-01-01\n",
            {"min_date": " 1996-01-01 "},
            [("A1", "created_at 1995-12-31")],
        ),
        # a column listed twice crashed S003 on a duplicate projection
        (
            "S003",
            "deals",
            "deal_id,amount\nD1,100\nD2,\nD3,\n",
            {"columns": {"deals": ["amount", "amount"]}},
            [("deals.amount", "fill rate 33.3% (min 95%)")],
        ),
        # the detail showed a min_fill of 0.955 as "min 96%"
        (
            "S003",
            "deals",
            "deal_id,amount\nD1,100\nD2,\n",
            {"min_fill": 0.955, "columns": {"deals": ["amount"]}},
            [("deals.amount", "fill rate 50.0% (min 95.5%)")],
        ),
    ],
)
def test_settings_the_config_accepts_run(
    tmp_path: Path,
    code: str,
    table: str,
    rows: str,
    settings: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    (tmp_path / f"{table}.csv").write_text(rows)
    config = {
        "version": 1,
        "sources": {table: {"path": f"{table}.csv"}},
        "rules": {"settings": {code: settings}},
    }
    (tmp_path / "revops.yaml").write_text(yaml.safe_dump(config))
    dataset = load_dataset(load_config(tmp_path / "revops.yaml"), DEFAULT_AS_OF)
    report = run_rules(dataset, [RULES[code]])
    assert report.records.select("record_id", "detail").rows() == expected
