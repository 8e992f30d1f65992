"""`revops audit` through the CLI: exit codes, JSON shape, baseline, --findings, --quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from revops_cli import cli
from revops_cli.checks import RULES

Write = Callable[[str, str | bytes], Path]
runner = CliRunner()

CONFIG = "version: 1\nsources:\n  deals: {path: deals.csv}\n"
# D1 twice (S004, error; the dropped row is worth 100), "=1+1" twice (S004), amount 'abc' (S002)
DEALS = "deal_id,name,amount\nD1,Acme,100\nD1,Acme,200\n=1+1,Evil,5\n=1+1,Evil,7\nD2,Beta,abc\n"


@pytest.fixture
def config(write: Write) -> Path:
    write("deals.csv", DEALS)
    return write("revops.yaml", CONFIG)


def audit(config: Path, *args: str) -> tuple[int, str, str]:
    argv = ["audit", "-c", str(config), "--as-of", "2024-10-01", "--select", "S", *args]
    result = runner.invoke(cli.app, argv)
    return result.exit_code, result.stdout, result.stderr


def document(config: Path, *args: str) -> dict[str, Any]:
    code, out, _ = audit(config, "-f", "json", *args)
    assert code in (0, 1)
    parsed: dict[str, Any] = json.loads(out)
    return parsed


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        ((), 1),  # S004 is an error
        (("--fail-on", "never"), 0),
        (("--ignore", "S004"), 0),  # only warnings left
        (("--ignore", "S004", "--fail-on", "warning"), 1),
        (("--select", "S006"), 0),
    ],
)
def test_exit_codes(config: Path, args: tuple[str, ...], exit_code: int) -> None:
    assert audit(config, *args)[0] == exit_code


def test_json_document(config: Path) -> None:
    doc = document(config)
    assert doc["command"] == "audit"
    assert doc["tables"] == {"deals": {"path": str(config.parent / "deals.csv"), "rows": 5}}
    assert doc["summary"] == {
        "rules_run": 6,
        "findings": 4,
        "by_severity": {"error": 2, "warning": 2, "info": 0},
        "records_affected": 3,  # deals.amount is flagged by S002 and S003: one record
        "revenue_at_risk": 105.0,  # the dropped rows: D1's first (100) and '=1+1''s first (5)
        "currency": "USD",
        "failed": True,
        "baseline": None,
    }
    s004, s002, s003 = doc["findings"]  # errors first; then equal money and count: by code
    assert s004 == {
        "code": "S004",
        "name": "duplicate-primary-key",
        "severity": "error",
        "table": "deals",
        "count": 2,
        "checked": 5,
        "ratio": 0.4,
        "revenue_at_risk": 105.0,
        "message": "2 deals keys occur on more than one row",
        "samples": [
            {"record_id": "D1", "detail": "2 rows with this key"},
            {"record_id": "=1+1", "detail": "2 rows with this key"},
        ],
    }
    assert (s002["code"], s002["count"], s002["samples"]) == (
        "S002",
        1,
        [{"record_id": "deals.amount", "detail": "1 unparseable: 'abc'"}],
    )
    assert (s003["code"], s003["samples"]) == (
        "S003",
        # 2 of the 3 deduplicated rows have an amount
        [{"record_id": "deals.amount", "detail": "fill rate 66.7% (min 95%)"}],
    )
    assert [(r["code"], r["status"]) for r in doc["rules"]] == [
        ("S001", "pass"),
        ("S002", "fail"),
        ("S003", "fail"),
        ("S004", "fail"),
        ("S005", "pass"),
        ("S006", "pass"),
    ]


def test_baseline_round_trip(config: Path, tmp_path: Path, write: Write) -> None:
    baseline = tmp_path / "baseline.json"
    code, _, _ = audit(config, "--write-baseline", str(baseline), "--fail-on", "never")
    assert code == 0
    entries = json.loads(baseline.read_text())
    assert entries["schema_version"] == 1
    assert {"code": "S004", "table": "deals", "record_id": "D1"} in entries["entries"]
    doc = document(config, "--baseline", str(baseline))
    assert doc["summary"]["baseline"] == {"suppressed": 4, "new": 0, "resolved": []}
    assert doc["summary"]["failed"] is False
    assert audit(config, "--baseline", str(baseline))[0] == 0
    # fix the D1 duplicate and plant a new one: one resolved, one new, and the run fails again
    write("deals.csv", DEALS.replace("D1,Acme,200\n", "D3,Gamma,1\nD3,Gamma,2\n"))
    doc = document(config, "--baseline", str(baseline))
    assert doc["summary"]["baseline"] == {
        "suppressed": 3,
        "new": 1,
        "resolved": ["S004:deals:D1"],
    }
    assert audit(config, "--baseline", str(baseline))[0] == 1
    # a rule left out of this run says nothing about its entries: none of S004's is resolved
    doc = document(config, "--baseline", str(baseline), "--select", "S002,S003")
    assert doc["summary"]["baseline"] == {"suppressed": 2, "new": 0, "resolved": []}


def test_an_output_that_cannot_be_written_stops_the_run_before_any_is_written(
    config: Path, tmp_path: Path
) -> None:
    # the --findings and --write-baseline files were written, then -o failed (exit 2)
    findings, baseline = tmp_path / "f.csv", tmp_path / "b.json"
    missing = tmp_path / "nope" / "out.json"
    code, out, err = audit(
        config, "--findings", str(findings), "--write-baseline", str(baseline), "-o", str(missing)
    )
    assert (code, out) == (2, "")
    assert err == (
        f"error: {missing}: the output folder {missing.parent} does not exist "
        "(create it or choose another path)\n"
    )
    assert not findings.exists() and not baseline.exists()
    code, _, err = audit(config, "--findings", str(tmp_path), "--baseline", str(tmp_path / "x"))
    assert (code, err) == (
        2,
        f"error: {tmp_path}: is a folder (give the path of a file to write)\n",
    )


def test_no_output_may_replace_an_input_of_the_run(config: Path, tmp_path: Path) -> None:
    # -o, --findings and --write-baseline replaced a source export or the config (exit 0)
    deals = tmp_path / "deals.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(deals)
    before = deals.read_bytes(), config.read_bytes()
    for option, path, key in [
        ("-o", deals, "sources.deals.path"),
        ("--findings", config, "the config"),
        ("--write-baseline", link, "sources.deals.path"),
    ]:
        code, out, err = audit(config, option, str(path))
        assert (code, out) == (2, "")
        name = "--output" if option == "-o" else option
        assert err == (
            f"error: {name} names an input of the run, {path} ({key}) "
            "(choose another path: a run never writes over the files it reads)\n"
        )
    for argv in (["validate", "-o", str(deals)], ["metrics", "-p", "2024", "-o", str(config)]):
        result = runner.invoke(cli.app, [*argv, "-c", str(config), "--as-of", "2024-10-01"])
        assert result.exit_code == 2
        assert result.stderr.split(",")[0] == "error: --output names an input of the run"
    assert (deals.read_bytes(), config.read_bytes()) == before


def test_two_outputs_on_one_file_or_a_loop_of_links_stop_the_run(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # '-' below is a file of the working folder
    # --findings onto the run history corrupted it (and exited 0); -o and --findings on one
    # file kept only one of them; a loop of symbolic links was an internal error (exit 3)
    history = tmp_path / "h.sqlite"
    assert audit(config, "--history", str(history), "--fail-on", "never")[0] == 0
    before = history.read_bytes()
    code, out, err = audit(config, "--history", str(history), "--findings", str(history))
    assert (code, out) == (2, "")
    assert err == (
        f"error: --findings and --history name the same file, {history} "
        "(give each output a file of its own)\n"
    )
    assert history.read_bytes() == before
    target = tmp_path / "out.txt"
    code, _, err = audit(config, "-o", str(target), "--findings", str(target))
    assert (code, err.split(" name ")[0]) == (2, "error: --output and --findings")
    # '-' is a file name here (CLI.md gives it the stdout meaning for init only); the baseline
    # is an input, which --write-baseline alone may rewrite
    code, _, err = audit(config, "-o", "-", "--findings", "-")
    assert (code, err.split(" name ")[0]) == (2, "error: --output and --findings")
    baseline = tmp_path / "b.json"
    assert audit(config, "--write-baseline", str(baseline), "--fail-on", "never")[0] == 0
    code, _, err = audit(config, "--baseline", str(baseline), "--findings", str(baseline))
    assert (code, err.split(" name ")[0]) == (2, "error: --findings and --baseline")
    code, _, _ = audit(config, "--baseline", str(baseline), "--write-baseline", str(baseline))
    assert code == 0  # allowed: the baseline covers every finding, and is written again
    assert audit(config, "-o", "/dev/null", "--findings", "/dev/null")[0] == 1  # a device twice
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    code, _, err = audit(config, "-o", str(loop))
    assert (code, err) == (2, f"error: {loop}: is a loop of symbolic links (point it at a file)\n")


def test_baseline_records_are_reported_as_known(config: Path, tmp_path: Path) -> None:
    # CLI.md: findings listed in the baseline "are reported as known": each sample, each
    # --findings row and each table sample says which
    baseline = tmp_path / "baseline.json"
    entries = [{"code": "S004", "table": "deals", "record_id": "D1"}]
    baseline.write_text(json.dumps({"schema_version": 1, "entries": entries}))
    doc = document(config, "--baseline", str(baseline))
    (s004,) = [f for f in doc["findings"] if f["code"] == "S004"]
    assert {s["record_id"]: s["baseline"] for s in s004["samples"]} == {
        "D1": "known",
        "=1+1": "new",
    }
    target = tmp_path / "findings.csv"
    audit(config, "--baseline", str(baseline), "--findings", str(target))
    lines = target.read_text().splitlines()
    assert lines[0].endswith(",revenue_at_risk,baseline")
    assert "S004,error,deals,D1,2 rows with this key,100.00,known" in lines
    assert "S004,error,deals,'=1+1,2 rows with this key,5.00,new" in lines
    _, out, _ = audit(config, "--baseline", str(baseline))
    assert "  D1  2 rows with this key  [known]" in out


def test_baseline_entries_of_a_table_not_loaded_are_not_resolved(
    config: Path, tmp_path: Path, write: Write
) -> None:
    # S004 on accounts and on deals: with the accounts file gone from the config, S004 still
    # runs (on deals) but skips the accounts part (D30), so the accounts entry stays unresolved
    baseline = tmp_path / "baseline.json"
    entries = [
        {"code": "S004", "table": "accounts", "record_id": "A1"},
        {"code": "S004", "table": "deals", "record_id": "D9"},
    ]
    baseline.write_text(json.dumps({"schema_version": 1, "entries": entries}))
    doc = document(config, "--baseline", str(baseline))
    assert doc["summary"]["baseline"]["resolved"] == ["S004:deals:D9"]


def test_a_huge_samples_count_shows_every_record(config: Path) -> None:
    # 2**32 and more overflowed polars' 32-bit k (exit 3); every record fits in the samples
    doc = document(config, "--samples", str(2**63 - 1))
    (s004,) = [f for f in doc["findings"] if f["code"] == "S004"]
    assert sorted(s["record_id"] for s in s004["samples"]) == ["=1+1", "D1"]


def test_findings_file_is_spreadsheet_safe(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "findings.csv"
    audit(config, "--findings", str(target))
    lines = target.read_text().splitlines()
    assert lines[0] == "code,severity,table,record_id,detail,revenue_at_risk"
    assert "S004,error,deals,'=1+1,2 rows with this key,5.00" in lines
    assert "S004,error,deals,D1,2 rows with this key,100.00" in lines


def test_csv_and_markdown_round_as_d19_says(write: Write, tmp_path: Path) -> None:
    # D1's dropped row is worth 2.675 (a float just below 2.675): half away from zero on its
    # shortest repr gives 2.68, not the 2.67 of '{:.2f}'; 1 key of 3 rows is 33.33 %
    write("deals.csv", "deal_id,amount\nD1,2.675\nD1,1\nD2,1\n")
    config = write("revops.yaml", CONFIG)
    target = tmp_path / "findings.csv"
    code, out, _ = audit(config, "--select", "S004", "-f", "csv", "--findings", str(target))
    assert code == 1
    assert out.splitlines()[1:] == [
        "S004,duplicate-primary-key,error,deals,1,3,0.3333,2.68,"
        "1 deals keys occur on more than one row"
    ]
    assert target.read_text().splitlines()[1:] == ["S004,error,deals,D1,2 rows with this key,2.68"]
    _, md, _ = audit(config, "--select", "S004", "-f", "md")
    assert "| error | S004 | duplicate-primary-key | deals | 1 | 33.33 % | 2.68 |" in md


@pytest.mark.parametrize("fmt", ["table", "md", "csv"])
def test_a_huge_amount_is_shown_not_a_crash(write: Write, fmt: str) -> None:
    # 1e26 has more digits than the decimal module's default precision (28): rounding it for
    # display raised InvalidOperation, and the run ended with exit 3
    write("deals.csv", "deal_id,amount\nD1,99999999999999999999999999\nD1,1\n")
    config = write("revops.yaml", CONFIG)
    code, out, err = audit(config, "--select", "S004", "-f", fmt)
    assert (code, err) == (1, "")
    # every format shows the D19 decimal of the float's repr, never 1e+26 nor the float's
    # binary digits (100,000,000,000,000,004,764,729,344 in the table before)
    shown = "100,000,000,000,000,000,000,000,000.00"
    shown = shown.replace(",", "") if fmt == "csv" else shown
    assert shown in out


def test_quiet_prints_nothing_on_a_clean_run(config: Path) -> None:
    assert audit(config, "-q", "--fail-on", "never") == (0, "", "")
    code, out, _ = audit(config, "-q")
    assert code == 1
    assert "S004" in out and "2 rows with this key" not in out


def test_quiet_lists_only_the_rules_that_fail_the_run(config: Path, tmp_path: Path) -> None:
    # D23: the summary and the failing rules. S004 (error) fails the run; the warnings S002 and
    # S003 do not at --fail-on error, but do at --fail-on warning; the summary counts them all
    code, out, _ = audit(config, "-q")
    assert code == 1
    assert "S004" in out and "S002" not in out and "S003" not in out
    assert "4 findings (2 error, 2 warning, 0 info)" in out
    out = audit(config, "-q", "--fail-on", "warning")[1]
    assert "S004" in out and "S002" in out and "S003" in out
    # with S004's and S003's records in a baseline, only S002's record fails the run
    baseline = tmp_path / "baseline.json"
    audit(config, "--select", "S004,S003", "--write-baseline", str(baseline))
    code, out, _ = audit(config, "-q", "--fail-on", "warning", "--baseline", str(baseline))
    assert code == 1
    assert "S002" in out and "S004" not in out and "S003" not in out


def test_unknown_select_code_is_exit_2(config: Path) -> None:
    code, out, err = audit(config, "--select", "L0001")
    assert (code, out) == (2, "")
    assert err == (
        "error: --select: unknown rule or family 'L0001' (did you mean 'L001'?) "
        "(`revops rules` lists every code)\n"
    )


def test_unknown_rule_settings_are_config_errors(write: Write) -> None:
    write("deals.csv", DEALS)
    config = write(
        "revops.yaml",
        CONFIG + "rules:\n  select: [Q]\n  settings:\n    L01: {stale_days: 3}\n"
        "    L001: {stale_dayz: 3, severity: fatal}\n    D003: {stale_days: soon}\n",
    )
    code, _, err = audit(config)
    assert code == 2
    assert err.splitlines() == [
        f"error: {config}: rules.select: unknown rule or family 'Q' "
        "(the families are A, B, D, F, I, L, O, R, S, T, U, V)",
        f"error: {config}: rules.settings.L01: unknown rule 'L01' (did you mean 'L001'?)",
        f"error: {config}: rules.settings.L001.stale_dayz: unknown parameter of L001 "
        "(did you mean 'stale_days'?); parameters: stale_days, severity",
        f"error: {config}: rules.settings.L001.severity: must be error, warning or info "
        "(got 'fatal')",
        f"error: {config}: rules.settings.D003.stale_days: must be a number (got 'soon')",
    ]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
        # a panic inside polars is a BaseException: it must not escape either
        (
            pl.exceptions.PanicException("index out of bounds"),
            "PanicException: index out of bounds",
        ),
    ],
)
def test_a_crashing_rule_is_reported_and_exit_3(
    config: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, reason: str
) -> None:
    def crash(*_: object) -> None:
        raise error

    monkeypatch.setitem(RULES, "S006", replace(RULES["S006"], check=crash))
    code, out, _ = audit(config, "-f", "json")
    assert code == 3
    rules = {r["code"]: r for r in json.loads(out)["rules"]}
    assert rules["S006"]["status"] == "error"
    assert rules["S006"]["reason"] == reason
    assert rules["S004"]["status"] == "fail"


def test_severity_override_applies_to_every_tier(write: Write) -> None:
    write("deals.csv", DEALS)
    config = write("revops.yaml", CONFIG + "rules:\n  settings:\n    S004: {severity: info}\n")
    doc = document(config, "--select", "S004")
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [("S004", "info")]
    assert doc["summary"]["failed"] is False


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000 + "]" * 100_000,  # RecursionError before
        '{"entries": ' + "[" * 50_000,
        '{"schema_version": 1, "entries": [], "rules": [1, 2]}',  # rules not a map: exit 3 before
        '{"schema_version": 1, "entries": [], "rules": {"D001": "deals"}}',  # not a list of tables
    ],
)
def test_a_deeply_nested_baseline_is_not_a_baseline(
    config: Path, write: Write, content: str
) -> None:
    path = write("deep.json", content)
    code, _, err = audit(config, "--baseline", str(path))
    assert code == 2
    assert err == (
        f"error: {path}: is not a revops baseline file (write one with --write-baseline)\n"
    )


def test_history_keep_has_a_ceiling(config: Path, tmp_path: Path) -> None:
    # 800,000 days before now is before year 1: it crashed after the report was printed
    history = str(tmp_path / "h.sqlite")
    code, _, err = audit(config, "--history", history, "--history-keep", "800000")
    assert code == 2
    assert "'--history-keep'" in err and "36500" in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_stdout_is_a_setup_error(config: Path) -> None:
    argv = [sys.executable, "-m", "revops_cli", "audit", "-c", str(config), "--as-of", "2024-10-01"]
    with open("/dev/full", "w") as full:
        done = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == (
        "error: cannot write the output to stdout: No space left on device "
        "(check the disk or use -o)\n"
    )
