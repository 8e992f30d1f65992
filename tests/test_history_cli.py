"""Run history through the CLI: new and resolved findings between two runs of the sample data,
D011 end to end, `history` and `trend` output, the report's trend charts, options and errors."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from revops_cli import cli
from revops_cli.errors import RevopsError
from revops_cli.history import SCHEMA_VERSION, open_store
from revops_cli.results import MetricResult, MetricValue, Unit
from tests.test_history_store import audit_report, metrics_report, run

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-10-01"
runner = CliRunner()
Write = Callable[[str, str | bytes], Path]


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The sample data and config copied to tmp_path, with `history: runs.sqlite` set."""
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    config = tmp_path / "revops.yaml"
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    config.write_text(text + "\nhistory: runs.sqlite\n", encoding="utf-8")
    return config


def set_close_dates(deals: Path, dates: dict[str, str]) -> None:
    with deals.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        row[6] = dates.get(row[0], row[6])  # "Close Date"
    with deals.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)


def audit_json(config: Path, *args: str | Path) -> dict[str, Any]:
    code, out, err = invoke("audit", "-c", config, "--as-of", AS_OF, "-f", "json", *args)
    assert code == 1, err
    document: dict[str, Any] = json.loads(out)
    return document


def test_a_rule_the_previous_audit_left_out_marks_its_records_neither_new_nor_recurring(
    sample: Path,
) -> None:
    code, _, err = invoke("audit", "-c", sample, "--as-of", AS_OF, "--select", "D002")
    assert code == 0, err
    findings = sample.parent / "findings.csv"
    second = audit_json(sample, "--findings", findings)
    assert second["since_previous"]["new"] == 0  # D002 flags the same; the others did not run
    marks = {
        f["code"]: {s["since_previous"] for s in f["samples"]}
        for f in second["findings"]
        if f["code"] in ("D001", "D002")
    }
    assert marks == {"D001": {None}, "D002": {"recurring"}}
    lines = findings.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(",since_previous")
    d001 = [line for line in lines if line.startswith("D001,")]
    assert d001 and all(line.endswith(",") for line in d001)
    assert all(line.endswith(",recurring") for line in lines if line.startswith("D002,"))


def test_new_and_resolved_between_two_runs_of_the_sample(sample: Path) -> None:
    deals = sample.parent / "sample_data" / "hubspot_deals.csv"
    original = deals.read_text(encoding="utf-8")
    first = audit_json(sample)
    assert first["since_previous"] is None  # nothing stored before
    assert first["summary"]["records_affected"] == 124
    assert {s["since_previous"] for f in first["findings"] for s in f["samples"]} == {"new"}

    # plant a fix (D002: the deal 3 days overdue now closes in the future) and a new problem
    set_close_dates(deals, {"8847087271": "2026-10-28", "8844196871": "2026-09-01"})
    findings = sample.parent / "findings.csv"
    second = audit_json(sample, "--findings", findings)
    assert second["since_previous"] == {
        "new": 1,
        "resolved": 1,
        "previous_as_of": AS_OF,
        "resolved_records": ["D002:deals:8847087271"],
    }
    (d002,) = [f for f in second["findings"] if f["code"] == "D002"]
    marks = {s["record_id"]: s["since_previous"] for s in d002["samples"]}
    assert marks == {"8847648865": "recurring", "8846241267": "recurring", "8844196871": "new"}
    lines = findings.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(",revenue_at_risk,since_previous")
    assert [line for line in lines if line.endswith(",new")] == [
        "D002,warning,deals,8844196871,30 days overdue,5760.00,new"
    ]

    deals.write_text(original, encoding="utf-8")  # undo both: the problems trade places
    code, out, _ = invoke("audit", "-c", sample, "--as-of", AS_OF, "--fail-on", "never")
    assert code == 0
    summary = out.strip().splitlines()[-1]
    assert summary.endswith(f"; since the previous run (as of {AS_OF}): +1 new, -1 resolved")
    assert "  8847087271  3 days overdue  [new]" in out

    code, out, _ = invoke("history", "-c", sample, "-f", "json", "--as-of", AS_OF)
    document = json.loads(out)
    # CLI.md: every JSON document has the common fields; history loads no source
    assert (document["command"], document["as_of"], document["tables"]) == ("history", AS_OF, {})
    assert document["config"] == str(sample)
    runs = document["runs"]
    assert [(r["run_id"], r["command"], r["exit_code"], r["findings"]) for r in runs] == [
        (3, "audit", 0, 124),
        (2, "audit", 1, 124),
        (1, "audit", 1, 124),
    ]
    assert (sample.parent / "runs.sqlite").is_file()  # `history:` is relative to the config
    # JSON carries the whole sha256 of the config file, for a program to compare
    assert runs[0]["config_hash"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    code, out, _ = invoke("history", "-c", sample, "-f", "md", "--as-of", AS_OF)
    assert f"| {runs[0]['config_hash'][:12]} |" in out

    # the report adds the two trend charts, with this run as the last point
    code, out, _ = invoke(
        "report",
        "-c",
        sample,
        "--as-of",
        AS_OF,
        "-p",
        "2026-Q3",
        "-f",
        "md",
        "--history-keep",
        "30",
    )
    assert code == 0
    assert "## Findings over the last 4 audits" in out
    assert "## ARR by quarter, from the run history\n\n|  | ARR |\n|---|---|\n| 2026-Q3 | $" in out
    code, out, _ = invoke("report", "-c", sample, "--as-of", AS_OF, "-p", "2026-Q3")
    assert 'id="findings_trend"' in out and 'id="metric_trend"' in out
    assert out.count("<svg") == 8


def test_new_and_resolved_count_only_what_both_runs_checked(sample: Path) -> None:
    audit_json(sample)  # every rule
    # a run of V001 alone checks nothing else: no other record is resolved ...
    only = audit_json(sample, "--select", "V001", "--fail-on", "warning")["since_previous"]
    assert (only["new"], only["resolved"]) == (0, 0)
    # ... and the next full run finds nothing new: the V001-only run did not check the others
    again = audit_json(sample)["since_previous"]
    assert (again["new"], again["resolved"]) == (0, 0)
    # the contacts lose their key header: leads is not loaded (S001), so its parts are skipped
    # and none of its records is resolved; S001's own record is new
    contacts = sample.parent / "sample_data" / "hubspot_contacts.csv"
    text = contacts.read_text(encoding="utf-8")
    contacts.write_text(text.replace('"Record ID"', '"Contact ID"', 1), encoding="utf-8")
    broken = audit_json(sample)["since_previous"]
    assert [r for r in broken["resolved_records"] if ":leads:" in r] == []
    assert broken["new"] == 1


def test_a_history_the_run_cannot_write_stops_it_before_the_report(
    tmp_path: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a read-only file (or mount) failed only when the run was recorded, after its report
    # was printed and its exit code lost; the store is now opened read-only to show it
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    write("deals.csv", DEALS_HEADER + "A,open,100,2026-12-01\n")
    history = tmp_path / "h.sqlite"
    assert invoke("audit", "-c", config, "--as-of", AS_OF, "--history", history, "-q")[0] == 0
    connect = sqlite3.connect

    def read_only(path: Path, **kwargs: Any) -> sqlite3.Connection:
        return connect(f"file:{path}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr("revops_cli.history.store.sqlite3.connect", read_only)
    code, out, err = invoke("audit", "-c", config, "--as-of", AS_OF, "--history", history)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {history}: cannot use the run history: attempt to write a readonly database "
        "(check the path and its permissions)\n"
    )
    assert invoke("history", "--history", history, "-f", "csv")[0] == 0  # reading still works


def test_a_run_that_fails_leaves_no_new_history_file(tmp_path: Path, write: Write) -> None:
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    write("deals.csv", DEALS_HEADER + "A,open,100,2026-12-01\n")
    history = tmp_path / "h.sqlite"
    code, _, _ = invoke("metrics", "-c", config, "-p", "2026-Q9", "--history", history)
    assert code == 2 and not history.exists()  # a bad period: nothing recorded, no empty store
    code, _, _ = invoke(
        "audit", "-c", config, "--baseline", tmp_path / "no.json", "--history", history
    )
    assert code == 2 and not history.exists()
    assert invoke("audit", "-c", config, "--as-of", AS_OF, "--history", history, "-q")[0] == 0
    code, _, _ = invoke("metrics", "-c", config, "-p", "2026-Q9", "--history", history)
    assert code == 2 and history.exists()  # a history with runs stays


def test_a_rule_run_with_other_parts_skipped_resolves_nothing(tmp_path: Path, write: Write) -> None:
    # D001 reports dangling account ids on deals; without the accounts table that part is
    # skipped (D30), so D1 is not fixed, whatever the table of its record says. The same holds
    # for a baseline written by the first run.
    write("deals.csv", "deal_id,account_id,status,amount,close_date\nD1,A9,open,100,2026-12-01\n")
    write("accounts.csv", "account_id,name\nA1,Acme\n")
    both = write(
        "both.yaml",
        "version: 1\nsources:\n  deals: {path: deals.csv}\n  accounts: {path: accounts.csv}\n",
    )
    alone = write("alone.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    history, baseline = tmp_path / "h.sqlite", tmp_path / "b.json"
    args = ("--as-of", AS_OF, "--select", "D001", "--fail-on", "never", "-f", "json")
    invoke("audit", "-c", both, *args, "--history", history, "--write-baseline", baseline)
    _, out, _ = invoke("audit", "-c", alone, *args, "--history", history, "--baseline", baseline)
    document = json.loads(out)
    assert document["rules"][0]["reason"] == "skipped parts: missing_table:accounts"
    assert (
        document["since_previous"]["resolved"],
        document["summary"]["baseline"]["resolved"],
    ) == (
        0,
        [],
    )


def audited_deals(tmp_path: Path, write: Write, rows: str) -> tuple[Path, Path]:
    """A config of deals `rows` and its run history after one audit (exit 0, nothing on stderr)."""
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    write("deals.csv", DEALS_HEADER + rows)
    history = tmp_path / "h.sqlite"
    code, _, err = invoke("audit", "-c", config, "--as-of", AS_OF, "--history", history, "-q")
    assert (code, err) == (0, "")
    return config, history


@pytest.mark.parametrize(
    ("code", "files", "dropped", "record"),
    [
        # O001's accounts part reads the open deals: without deals it checks customer accounts
        # only, so A1 (no owner, an open deal) is not fixed
        (
            "O001",
            {
                "deals.csv": "deal_id,account_id,status,owner_id\nD1,A1,open,O1\n",
                "accounts.csv": "account_id,name,owner_id,lifecycle_stage\nA1,Acme,,lead\n",
            },
            "deals",
            "O001:accounts:A1",
        ),
        # S006 reports each configured table: one dropped from the config was not fixed
        (
            "S006",
            {
                "deals.csv": "deal_id,amount\nD1,5\n",
                "invoices.csv": "invoice_id,customer_id,amount,issued_at\n",
            },
            "invoices",
            "S006:invoices:invoices",
        ),
    ],
)
def test_a_table_dropped_between_runs_resolves_none_of_its_records(
    tmp_path: Path, write: Write, code: str, files: dict[str, str], dropped: str, record: str
) -> None:
    for name, text in files.items():
        write(name, text)
    tables = [Path(name).stem for name in files]
    sources = "".join(f"  {t}: {{path: {t}.csv}}\n" for t in tables)
    kept = "".join(f"  {t}: {{path: {t}.csv}}\n" for t in tables if t != dropped)
    both = write("both.yaml", "version: 1\nsources:\n" + sources)
    fewer = write("fewer.yaml", "version: 1\nsources:\n" + kept)
    history, baseline = tmp_path / "h.sqlite", tmp_path / "b.json"
    args = ("--as-of", AS_OF, "--select", code, "--fail-on", "never", "-f", "json")
    _, out, _ = invoke(
        "audit", "-c", both, *args, "--history", history, "--write-baseline", baseline
    )
    assert record in {
        f"{code}:{f['table']}:{s['record_id']}"
        for f in json.loads(out)["findings"]
        for s in f["samples"]
    }
    _, out, _ = invoke("audit", "-c", fewer, *args, "--history", history, "--baseline", baseline)
    document = json.loads(out)
    assert document["since_previous"]["resolved_records"] == []
    assert document["summary"]["baseline"]["resolved"] == []


def test_history_and_trend_never_write_over_the_store_they_read(
    tmp_path: Path, write: Write
) -> None:
    _, history = audited_deals(tmp_path, write, "A,open,100,2026-12-01\n")
    before = history.read_bytes()
    for command in (("history",), ("trend", "--rule", "D002")):
        code, _, err = invoke(*command, "--history", history, "-o", history)
        assert (code, err.split(" name ")[0]) == (2, "error: --output and --history")
    assert history.read_bytes() == before


def test_a_rule_of_per_table_parts_compares_the_tables_both_runs_checked(
    tmp_path: Path, write: Write
) -> None:
    # S003 checks each table on its own: adding accounts between the runs changes its skipped
    # parts, but the deals part ran both times, so the filled deals.amount is resolved
    write("deals.csv", "deal_id,account_id,owner_id,amount,close_date\nD1,A1,O1,,2026-12-01\n")
    write("accounts.csv", "account_id,domain,owner_id\nA1,a.example,O1\n")
    alone = write("alone.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    history, baseline = tmp_path / "h.sqlite", tmp_path / "b.json"
    args = ("--as-of", AS_OF, "--select", "S003", "--fail-on", "never", "-f", "json")
    invoke("audit", "-c", alone, *args, "--history", history, "--write-baseline", baseline)
    write("deals.csv", "deal_id,account_id,owner_id,amount,close_date\nD1,A1,O1,5,2026-12-01\n")
    both = write(
        "both.yaml",
        "version: 1\nsources:\n  deals: {path: deals.csv}\n  accounts: {path: accounts.csv}\n",
    )
    _, out, _ = invoke("audit", "-c", both, *args, "--history", history, "--baseline", baseline)
    document = json.loads(out)
    assert document["since_previous"]["resolved_records"] == ["S003:deals:deals.amount"]
    assert document["summary"]["baseline"]["resolved"] == ["S003:deals:deals.amount"]


def test_the_previous_run_is_the_latest_up_to_the_as_of_day(sample: Path) -> None:
    for day in ("2026-10-01", "2026-11-15"):
        invoke("audit", "-c", sample, "--as-of", day, "-q", "--fail-on", "never")
    _, out, _ = invoke("audit", "-c", sample, "--as-of", "2026-10-02", "-f", "json")
    assert json.loads(out)["since_previous"]["previous_as_of"] == "2026-10-01"  # not 11-15
    # the report's findings chart shows the audits up to its day, in day order
    _, out, _ = invoke("report", "-c", sample, "--as-of", "2026-10-03", "-p", "2026-Q3", "-f", "md")
    chart = out.split("## Findings over the last ", 1)[1].split("\n## ", 1)[0]
    assert chart.startswith("3 audits")
    assert [line.split(" | ")[0] for line in chart.splitlines() if line.startswith("| 2026")] == [
        "| 2026-10-01",
        "| 2026-10-02",
        "| 2026-10-03",
    ]
    # and the ARR chart the periods up to its own: Q2's report shows no stored Q3
    _, out, _ = invoke("report", "-c", sample, "--as-of", "2026-10-03", "-p", "2026-Q2", "-f", "md")
    arr = out.split("## ARR by quarter, from the run history", 1)[1].split("\n## ", 1)[0]
    assert "| 2026-Q2 |" in arr and "2026-Q3" not in arr


def test_the_arr_chart_of_a_half_keeps_to_stored_periods_as_long(sample: Path) -> None:
    # H1 and the year start on the same day: the year took H1's place in the half's chart
    for period in ("2026-H1", "2025-H2", "2026"):
        invoke("metrics", "-c", sample, "--as-of", "2026-10-03", "-p", period, "-q")
    _, out, _ = invoke("report", "-c", sample, "--as-of", "2026-10-03", "-p", "2026-H2", "-f", "md")
    arr = out.split("## ARR by period, from the run history", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ")[0] for line in arr.splitlines() if line.startswith("| 202")]
    assert rows == ["| 2025-H2", "| 2026-H1", "| 2026-H2"]


def test_an_open_deal_without_an_id_is_stored_by_its_record_id(
    tmp_path: Path, write: Write
) -> None:
    _, history = audited_deals(tmp_path, write, "A,open,100,2026-12-01\n,open,200,2026-12-15\n")
    with sqlite3.connect(history) as db:
        rows = db.execute("SELECT deal_id, close_date FROM open_deals ORDER BY 1").fetchall()
    assert rows == [("A", "2026-12-01"), ("deals:row 2", "2026-12-15")]


DEALS_HEADER = "deal_id,status,amount,close_date\n"


def test_d011_through_the_cli(tmp_path: Path, write: Write) -> None:
    """Without history D011 is left out unless named, and then skipped; with a history, a deal
    pushed at three nights in a row is flagged on the fourth."""
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    write("deals.csv", DEALS_HEADER + "slipping,open,900,2026-10-01\nsteady,open,100,2026-12-01\n")
    code, out, _ = invoke("audit", "-c", config, "--as-of", AS_OF, "-f", "json", "--select", "D")
    assert "D011" not in {r["code"] for r in json.loads(out)["rules"]}
    code, out, _ = invoke("audit", "-c", config, "--as-of", AS_OF, "-f", "json", "--select", "D011")
    assert code == 0
    assert json.loads(out)["rules"] == [
        {
            "code": "D011",
            "name": "close-date-slipped",
            "severity": "warning",
            "status": "skipped",
            "reason": "no_history",
        }
    ]
    store = tmp_path / "h.sqlite"
    for night, close in enumerate(("2026-10-01", "2026-10-15", "2026-11-01", "2026-11-15")):
        write(
            "deals.csv", DEALS_HEADER + f"slipping,open,900,{close}\nsteady,open,100,2026-12-01\n"
        )
        day = (date(2026, 10, 1) + timedelta(days=night)).isoformat()
        args = ("audit", "-c", config, "--as-of", day, "-f", "json", "--history", store)
        document = json.loads(invoke(*args, "--select", "D011")[1])
        assert document["rules"][0]["status"] == ("fail" if night == 3 else "pass")
    assert document["findings"][0]["samples"] == [
        {
            "record_id": "slipping",
            "detail": "pushed 3 times: 2026-10-01 -> 2026-11-15",
            "since_previous": "new",
        }
    ]
    assert document["findings"][0]["revenue_at_risk"] == 900.0


def test_the_flag_wins_over_the_config_key(tmp_path: Path, write: Write) -> None:
    (tmp_path / "sub").mkdir()
    config = write(
        "conf/revops.yaml",
        "version: 1\nhistory: ../sub/h.sqlite\nsources:\n  deals: {path: ../deals.csv}\n",
    )
    write("deals.csv", DEALS_HEADER + "a,open,1,2026-12-01\n")
    assert invoke("metrics", "-c", config, "--as-of", AS_OF, "-p", "2026-Q3")[0] == 0
    assert (tmp_path / "sub" / "h.sqlite").is_file()
    other = tmp_path / "other.sqlite"
    with open_store(other) as db:  # a run recorded 10 days ago, pruned by --history-keep 5
        db.record(run(recorded_at=datetime.now(UTC) - timedelta(days=10)))
    args = ("audit", "-c", config, "--as-of", AS_OF, "--history", other, "--history-keep", "5")
    assert invoke(*args)[0] == 0
    with sqlite3.connect(tmp_path / "sub" / "h.sqlite") as db:
        assert db.execute("SELECT command FROM runs").fetchall() == [("metrics",)]
    with sqlite3.connect(other) as db:
        assert db.execute("SELECT run_id, command, exit_code FROM runs").fetchall() == [
            (2, "audit", 0)
        ]
        assert db.execute("SELECT COUNT(*) FROM open_deals").fetchone() == (1,)
    code, _, err = invoke("history", "-c", config, "--history", tmp_path / "none.sqlite")
    assert (code, err) == (
        2,
        f"error: {tmp_path / 'none.sqlite'}: no run history here (run `revops audit --history "
        "PATH` first, or check the path)\n",
    )


def test_a_newer_store_stops_the_run_with_one_line(tmp_path: Path, write: Write) -> None:
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    write("deals.csv", DEALS_HEADER + "a,open,1,2026-12-01\n")
    store = tmp_path / "future.sqlite"
    with sqlite3.connect(store) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    code, out, err = invoke("audit", "-c", config, "--as-of", AS_OF, "--history", store)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {store}: run history has schema version 8, newer than this revops 0.1.0 knows "
        "(3) (upgrade revops, or pass --history a new file)\n"
    )


def test_config_key_typo_suggests_history(write: Write) -> None:
    write("deals.csv", DEALS_HEADER)
    config = write(
        "revops.yaml", "version: 1\nhistroy: h.sqlite\nsources:\n  deals: {path: deals.csv}\n"
    )
    code, _, err = invoke("audit", "-c", config)
    assert code == 2
    assert "histroy: unknown key (did you mean 'history'?)" in err


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Four audits (D002 flagged 1, 3, 2, 2 records) and metrics for three quarters and a month."""
    path = tmp_path / "h.sqlite"
    now = datetime.now(UTC)
    with open_store(path) as db:
        for i, (day, count) in enumerate(
            ((date(2026, 8, 30), 1), (date(2026, 9, 10), 3), (date(2026, 9, 30), 2))
        ):
            ids = [f"D{n}" for n in range(count)]
            db.record(
                run(
                    as_of=day, recorded_at=now - timedelta(days=3 - i), audit=audit_report(day, ids)
                )
            )
        db.record(
            run(
                as_of=date(2026, 10, 1),
                recorded_at=now,
                audit=audit_report(date(2026, 10, 1), ["D0", "D1"]),
            )
        )
        for day, start, end, label, arr in (
            (date(2026, 4, 2), date(2026, 1, 1), date(2026, 3, 31), "2026-Q1", 100.0),
            (date(2026, 7, 2), date(2026, 4, 1), date(2026, 6, 30), "2026-Q2", 150.0),
            (date(2026, 9, 2), date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", 170.0),  # partial
            (date(2026, 10, 2), date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", 125.0),  # final
            (date(2026, 10, 2), date(2026, 9, 1), date(2026, 9, 30), "2026-09", 125.0),
        ):
            db.record(
                run(as_of=day, recorded_at=now, metrics=metrics_report(day, start, end, label, arr))
            )
    return path


def test_trend_of_a_rule(store: Path) -> None:
    code, out, _ = invoke("trend", "--history", store, "--rule", "d002", "-f", "csv")
    assert (code, out) == (
        0,
        "as_of,run_id,status,count,revenue_at_risk\n"
        "2026-08-30,1,fail,1,100.00\n"
        "2026-09-10,2,fail,3,300.00\n"
        "2026-09-30,3,fail,2,200.00\n"
        "2026-10-01,4,fail,2,200.00\n",
    )
    code, out, _ = invoke("trend", "--history", store, "--rule", "D002", "-f", "json")
    document = json.loads(out)
    assert (document["rule"], document["sparkline"], len(document["points"])) == ("D002", "▁█▅▅", 4)
    code, out, _ = invoke("trend", "--history", store, "--rule", "D002", "--period-kind", "month")
    assert code == 0
    assert "rule D002: flagged records in the latest run of each month\n▁██  3 points" in out
    assert [line.split("│")[1].strip() for line in out.splitlines() if "│ 2026" in line] == [
        "2026-08",
        "2026-09",
        "2026-10",
    ]


def test_trend_of_a_metric(store: Path) -> None:
    code, out, _ = invoke("trend", "--history", store, "--metric", "ARR", "-f", "json")
    points = json.loads(out)["points"]
    assert [(p["period"], p["value"], p["as_of"]) for p in points] == [
        ("2026-Q1", 100.0, "2026-04-02"),
        ("2026-Q2", 150.0, "2026-07-02"),
        ("2026-Q3", 125.0, "2026-10-02"),  # the latest run's value for the period
    ]
    assert json.loads(out)["sparkline"] == "▁█▅"
    code, out, _ = invoke("trend", "--history", store, "--metric", "arr", "--period-kind", "month")
    assert code == 0 and "│ 2026-09 │ 2026-09-01 │ 2026-09-30 │ 125.00 │" in out
    assert out.rstrip().endswith("  1 point")  # one stored month: not "1 points"
    code, out, _ = invoke("trend", "--history", store, "--metric", "stage_conversion", "-f", "csv")
    assert out.splitlines()[1].startswith(
        '2026-Q1,2026-01-01,2026-03-31,"[{""from_stage"": ""a"", ""to_stage"": ""won""'
    )


def test_csv_rounds_money_and_metric_values_as_the_metrics_csv_does(tmp_path: Path) -> None:
    """D19 display rounding: the stored float 331175.31500000006 is 331175.32 in CSV and
    Markdown alike, and a run's revenue at risk has two places."""
    path = tmp_path / "h.sqlite"
    day = date(2026, 10, 1)
    with open_store(path) as db:
        db.record(run(as_of=day, audit=audit_report(day, ["D1"])))
        report = metrics_report(day, date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", 331175.315)
        db.record(run(as_of=day, metrics=report))
    code, out, _ = invoke("trend", "--history", path, "--metric", "arr", "-f", "csv")
    assert (code, out.splitlines()[1]) == (
        0,
        "2026-Q3,2026-07-01,2026-09-30,331175.32,ok,,false,2026-10-01,2",
    )
    code, out, _ = invoke("trend", "--history", path, "--metric", "arr", "-f", "md")
    assert "| 331,175.32 |" in out
    code, out, _ = invoke("history", "--history", path, "-f", "csv")
    assert out.splitlines()[2] == (
        f"1,{out.splitlines()[2].split(',')[1]},audit,2026-10-01,0.1.0,abc,0,1,1,100.00,"
    )


def test_trend_csv_writes_a_fraction_as_the_metrics_csv_does(tmp_path: Path) -> None:
    """A fraction as a percentage with 2 places (METRICS §1.1): 120 / 610 is 19.67, not 0.1967."""
    path = tmp_path / "h.sqlite"
    day = date(2026, 10, 1)
    report = metrics_report(day, date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", 1.0)
    rate = MetricValue("win_rate", Unit.FRACTION, "sales", MetricResult(120 / 610), None, False)
    with open_store(path) as db:
        db.record(run(as_of=day, metrics=replace(report, metrics=(*report.metrics, rate))))
    code, out, _ = invoke("trend", "--history", path, "--metric", "win_rate", "-f", "csv")
    assert (code, out.splitlines()[1].split(",")[3]) == (0, "19.67")
    code, out, _ = invoke("trend", "--history", path, "--metric", "win_rate", "-f", "md")
    assert "| 19.67 % |" in out


def test_history_lists_runs_newest_first(store: Path) -> None:
    code, out, _ = invoke("history", "--history", store, "--limit", "2", "-f", "csv")
    lines = out.splitlines()
    assert lines[0] == (
        "run_id,recorded_at,command,as_of,version,config_hash,exit_code,findings,"
        "records_affected,revenue_at_risk,period"
    )
    assert [line.split(",")[0] for line in lines[1:]] == ["9", "8"]
    assert lines[1].endswith(",audit,2026-10-02,0.1.0,abc,0,,,,2026-09")
    code, out, _ = invoke("history", "--history", store, "-f", "md")
    assert code == 0 and out.count("\n| ") == 9  # a row per run, under the header


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: trend: pass exactly one of --rule CODE and --metric KEY\n"),
        (
            ("--rule", "D002", "--metric", "arr"),
            "error: trend: pass exactly one of --rule CODE and --metric KEY\n",
        ),
        (
            ("--rule", "D0O2"),
            "error: --rule: unknown rule 'D0O2' (did you mean 'D002'?) "
            "(`revops rules` lists every code)\n",
        ),
        (
            ("--metric", "ar"),
            "error: --metric: unknown metric 'ar' (did you mean 'arr'?) "
            "(METRICS.md lists every metric key)\n",
        ),
    ],
)
def test_trend_usage_errors(store: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = invoke("trend", "--history", store, *args)
    assert (code, err) == (2, message)


@pytest.mark.parametrize(
    "args", [("history",), ("trend", "--rule", "D002"), ("trend", "--metric", "arr")]
)
def test_a_damaged_stored_value_is_one_line_exit_2(store: Path, args: tuple[str, ...]) -> None:
    # a history edited by hand: a date that does not parse was a crash (exit 3)
    with sqlite3.connect(store) as db:
        db.execute("UPDATE runs SET as_of = 'garbage' WHERE run_id = 3")
        db.execute("UPDATE runs SET as_of = 'garbage' WHERE run_id = 7")
    code, out, err = invoke(*args, "--history", store)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {store}: the run history holds a value revops cannot read (Invalid isoformat "
        "string: 'garbage') (pass --history a new file, or restore this one from a backup)\n"
    )


def test_explain_d011() -> None:
    entry = json.loads(invoke("explain", "D011", "-f", "json")[1])
    assert (entry["name"], entry["severity"], entry["basis"], entry["params"]) == (
        "close-date-slipped",
        "warning",
        "pipeline",
        {"max_pushes": 3},
    )
    assert entry["why"] and entry["example"] and entry["fix"]


@pytest.mark.parametrize("foreign", [True, False])
def test_a_database_revops_did_not_make_is_left_alone(tmp_path: Path, foreign: bool) -> None:
    # `history` (read only) turned any SQLite file, or an empty one, into a run history
    path = tmp_path / "other.db"
    if foreign:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE notes (x)")
        db.close()
    else:
        path.write_bytes(b"")
    before = path.read_bytes()
    code, _, err = invoke("history", "--history", path)
    assert code == 2
    assert err == (
        f"error: {path}: is not a revops run history (point --history at a new file, "
        "or at one that revops audit wrote)\n"
    )
    assert path.read_bytes() == before
    if foreign:  # a run that records refuses it too; an empty file it may make a history
        with pytest.raises(RevopsError, match="not a revops run history"):
            open_store(path)
        assert path.read_bytes() == before


def test_a_stage_missing_from_the_header_stores_the_run_without_open_deals(
    sample: Path,
) -> None:
    # the deals' stage mapped to a header the file lacks (S001): no status, so no open deal to
    # store for D011; capturing them raised ColumnNotFoundError (exit 3, nothing stored)
    import yaml

    config = yaml.safe_load(sample.read_text(encoding="utf-8"))
    config["sources"]["deals"].setdefault("columns", {})["stage"] = "No Such Stage"
    sample.write_text(yaml.safe_dump(config), encoding="utf-8")
    out = sample.parent / "audit.json"
    code, _, err = invoke("audit", "-c", sample, "--as-of", AS_OF, "-f", "json", "-o", out)
    assert (code, err) == (1, "")
    with sqlite3.connect(sample.parent / "runs.sqlite") as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM open_deals").fetchone() == (0,)
