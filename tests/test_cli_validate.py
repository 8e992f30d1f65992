"""`revops validate` through the CLI: exit codes, output formats, errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revops_cli import cli

Write = Callable[[str, str | bytes], Path]
runner = CliRunner()

CONFIG = """
version: 1
sources:
  accounts:
    path: accounts.csv
    columns: {account_id: Id, domain: Website, created_at: Created}
"""
ACCOUNTS = "Id,Name,Website,Created,Notes\n001,Acme,acme.com,2024-01-05,x\n002,Beta,,not a date,y\n"


@pytest.fixture
def config(write: Write) -> Path:
    write("accounts.csv", ACCOUNTS)
    return write("revops.yaml", CONFIG)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_json(config: Path) -> None:
    code, out, err = invoke("validate", "-c", str(config), "--as-of", "2024-10-01", "-f", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert {k: document[k] for k in ("schema_version", "tool", "command", "as_of", "config")} == {
        "schema_version": 1,
        "tool": "revops",
        "command": "validate",
        "as_of": "2024-10-01",
        "config": str(config),
    }
    accounts = document["tables"]["accounts"]
    assert accounts["rows"] == 2
    assert accounts["preset"] is None
    assert accounts["columns"] == {
        "account_id": "Id",
        "name": "Name",
        "domain": "Website",
        "created_at": "Created",
    }
    assert accounts["missing_headers"] == []
    assert accounts["unmapped_headers"] == ["Notes"]
    assert accounts["parse_failures"] == {"created_at": {"count": 1, "samples": ["not a date"]}}


def test_validate_table_output(config: Path) -> None:
    code, out, _ = invoke("validate", "-c", str(config), "--no-color")
    assert code == 0
    assert f"accounts: {config.parent / 'accounts.csv'}: 2 rows, delimiter ','" in out
    assert "headers not mapped: Notes" in out
    assert "not a date" in out


def test_validate_counts_one_row_in_the_singular(write: Write) -> None:
    write("accounts.csv", "Id,Name,Website,Created,Notes\n001,Acme,acme.com,2024-01-05,x\n")
    config = write("revops.yaml", CONFIG)
    code, out, _ = invoke("validate", "-c", str(config), "--no-color")
    assert (code, f"accounts: {config.parent / 'accounts.csv'}: 1 row, delimiter ','" in out) == (
        0,
        True,
    )


def test_validate_csv_output_is_one_row_per_column(config: Path) -> None:
    code, out, _ = invoke("validate", "-c", str(config), "-f", "csv")
    assert code == 0
    # each line ends with its table's row count (CLI.md: validate prints the row counts)
    assert out.splitlines() == [
        "table,column,header,status,parse_failures,samples,rows",
        "accounts,account_id,Id,ok,0,,2",
        "accounts,name,Name,ok,0,,2",
        "accounts,domain,Website,ok,0,,2",
        "accounts,created_at,Created,parse failures,1,not a date,2",
        "accounts,,Notes,not mapped,0,,2",
    ]


def test_validate_csv_lists_what_the_other_formats_note(write: Write) -> None:
    # duplicate headers, ragged rows and values outside the map were in every format but CSV
    write("d.csv", "deal_id,stage,status,stage\nD1,Demo,won,x\nD2,Demo\nD3,Demo,pending,y\n")
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: d.csv}\n")
    code, out, _ = invoke("validate", "-c", str(config), "-f", "csv")
    assert code == 0
    assert out.splitlines()[4:] == [
        "deals,,stage,duplicate header (the first is used),0,,3",
        "deals,,,rows with a wrong number of fields,1,2,3",
        "deals,status,,values not in the `values:` map,1,pending,3",
    ]


def test_validate_notes_count_rows_and_values_in_words(write: Write) -> None:
    # "rows with a wrong number of fields: 2" read as a count of 2; "1 values not in the map"
    write("d.csv", "deal_id,stage,status\nD1,Demo,won\nD2,Demo\nD3,Demo,pending\nD4\n")
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: d.csv}\n")
    code, out, _ = invoke("validate", "-c", str(config), "--no-color")
    assert code == 0
    assert "! 2 rows with a wrong number of fields: rows 2, 4" in out
    assert "! status: 1 value not in the `values:` map: pending" in out


def test_validate_csv_lists_a_table_without_columns_too(write: Write) -> None:
    write("e.csv", "")  # not even a header (S006)
    config = write("revops.yaml", "version: 1\nsources:\n  expenses: {path: e.csv}\n")
    code, out, _ = invoke("validate", "-c", str(config), "-f", "csv")
    assert (code, out.splitlines()[1:]) == (0, ["expenses,,,no data rows,0,,0"])


def test_validate_maps_the_header_of_a_file_without_data_rows(write: Write) -> None:
    # a header alone is S006 (not loaded), but its header is read: the columns it maps, and the
    # mapped header it lacks (S001, as CHECKS.md says of any file's header)
    write("e.csv", "date,category,amount\n")
    config = write(
        "revops.yaml",
        "version: 1\nsources:\n  expenses: {path: e.csv, columns: {channel: Channel}}\n",
    )
    code, out, _ = invoke("validate", "-c", str(config), "-f", "csv")
    assert (code, out.splitlines()[1:]) == (
        0,
        [
            "expenses,,,no data rows,0,,0",
            "expenses,date,date,ok,0,,0",
            "expenses,category,category,ok,0,,0",
            "expenses,amount,amount,ok,0,,0",
            "expenses,channel,Channel,header missing from file,0,,0",
        ],
    )
    code, out, _ = invoke("validate", "-c", str(config), "-f", "json")
    expenses = json.loads(out)["tables"]["expenses"]
    assert (expenses["loaded"], expenses["missing_headers"]) == (False, ["channel"])
    code, out, _ = invoke("audit", "-c", str(config), "--select", "S001,S006", "-f", "json")
    found = {(f["code"], s["record_id"]) for f in json.loads(out)["findings"] for s in f["samples"]}
    assert (code, found) == (1, {("S001", "expenses.channel"), ("S006", "expenses")})


def test_validate_markdown_shows_headers_as_written(write: Write) -> None:
    write("o.csv", "owner_id,<img src=x onerror=alert(1)>,*bold*\nO1,a,b\n")
    config = write("revops.yaml", "version: 1\nsources:\n  owners: {path: o.csv}\n")
    code, out, _ = invoke("validate", "-c", str(config), "-f", "md")
    assert code == 0
    assert "- headers not mapped: &lt;img src=x onerror=alert(1)&gt;, \\*bold\\*\n" in out


def test_output_file_is_written_and_stdout_stays_empty(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    code, out, _ = invoke("validate", "-c", str(config), "-f", "json", "-o", str(target))
    assert (code, out) == (0, "")
    assert json.loads(target.read_text())["tables"]["accounts"]["rows"] == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")] == []


def test_missing_output_folder_is_exit_2(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "out.json"
    code, _, err = invoke("validate", "-c", str(config), "-o", str(target))
    assert code == 2
    assert err == (
        f"error: {target}: the output folder {target.parent} does not exist "
        "(create it or choose another path)\n"
    )


def test_broken_config_prints_one_line_per_problem(write: Write) -> None:
    path = write("bad.yaml", "sources:\n  dealz: {path: x.csv}\n  leads: {paht: l.csv}\n")
    code, out, err = invoke("validate", "-c", str(path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: {path}: sources.dealz: unknown table 'dealz' (did you mean 'deals'?)",
        f"error: {path}: sources.leads.path: required key is missing",
        f"error: {path}: sources.leads.paht: unknown key (did you mean 'path'?)",
    ]
    assert "Traceback" not in err


def test_bad_as_of_is_exit_2(config: Path) -> None:
    code, _, err = invoke("validate", "-c", str(config), "--as-of", "yesterday")
    assert code == 2
    assert err == "error: --as-of: 'yesterday' is not a date (write it as YYYY-MM-DD)\n"


@pytest.mark.parametrize(
    ("command", "day"),
    [("audit", "9999-12-31"), ("audit", "0001-01-05"), ("metrics", "9999-12-01")],
)
def test_an_as_of_at_the_ends_of_the_calendar_is_exit_2(
    config: Path, command: str, day: str
) -> None:
    # the rules and periods reach beyond it (T001: as_of + 1 day, A001: as_of - 365 days), which
    # overflowed into a crashed rule or an internal error (exit 3)
    extra = ("--period", "ytd") if command == "metrics" else ()
    code, out, err = invoke(command, "-c", str(config), "--as-of", day, *extra)
    assert (code, out) == (2, "")
    assert err == (
        f"error: --as-of: {day} is out of range (use a day from 1900-01-01 to 9000-12-31)\n"
    )


def test_config_from_the_environment(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOPS_CONFIG", str(config))
    code, out, _ = invoke("validate", "-f", "json")
    assert code == 0
    assert json.loads(out)["config"] == str(config)


def test_a_bug_is_exit_3_with_one_line(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("revops_cli.load.dataset.load_dataset", broken)
    code, _, err = invoke("validate", "-c", str(config))
    assert code == 3
    assert err == (
        "internal error: RuntimeError: boom (this is a bug; run again with --debug for the "
        f"traceback and report it at {cli.REPORT_URL})\n"
    )
    code, _, err = invoke("validate", "-c", str(config), "--debug")
    assert code == 3
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_unknown_option_is_a_usage_error() -> None:
    code, _, _ = invoke("validate", "--colour")
    assert code == 2


def test_validate_lists_forecast_periods_that_do_not_parse(write: Write) -> None:
    # S002 covers forecasts.period (CHECKS.md), parsed with the --period grammar; validate shows
    # the same failures
    write("f.csv", "period,amount\n2024-Q3,1\nQ3/2024,2\n2024-09-31..2024-10-05,3\nQ3/2024,4\n")
    config = write("revops.yaml", "version: 1\nsources:\n  forecasts: {path: f.csv}\n")
    code, out, _ = invoke("validate", "-c", str(config), "--as-of", "2024-10-01", "-f", "json")
    assert code == 0
    assert json.loads(out)["tables"]["forecasts"]["parse_failures"] == {
        "period": {"count": 3, "samples": ["Q3/2024", "2024-09-31..2024-10-05"]}
    }


def test_config_is_shown_as_given(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CLI.md: `config` is the path as given; pathlib would write './revops.yaml' as 'revops.yaml'
    monkeypatch.chdir(config.parent)
    code, out, _ = invoke("validate", "-c", "./revops.yaml", "-f", "json")
    assert (code, json.loads(out)["config"]) == (0, "./revops.yaml")
    monkeypatch.setenv("REVOPS_CONFIG", "./revops.yaml")
    code, out, _ = invoke("audit", "-f", "json", "--fail-on", "never")
    assert (code, json.loads(out)["config"]) == (0, "./revops.yaml")


def test_a_missing_header_shows_the_header_the_config_names(write: Write) -> None:
    # CLI.md: validate prints the column mapping; the missing one said nothing of "Deal Stage"
    write("d.csv", "deal_id,amount\nD1,5\n")
    path = write("v.yaml", 'sources:\n  deals: {path: d.csv, columns: {stage: "Deal Stage"}}\n')
    code, out, _ = invoke("validate", "-c", str(path), "-f", "csv")
    assert code == 0
    assert "deals,stage,Deal Stage,header missing from file,0,,1" in out.splitlines()


def test_a_rule_on_a_table_of_a_header_alone_says_the_table_is_missing(write: Write) -> None:
    # owners holds only its header and lacks the mapped `Active`: O003 is skipped for the table
    # that did not load (S006), not for the column
    write("o.csv", "owner_id,name\n")
    write("a.csv", "account_id,owner_id\nA1,O1\n")
    config = write(
        "revops.yaml",
        "version: 1\nsources:\n  owners: {path: o.csv, columns: {is_active: Active}}\n"
        "  accounts: {path: a.csv}\n",
    )
    code, out, _ = invoke("audit", "-c", str(config), "--select", "O003", "-f", "json")
    (rule,) = [r for r in json.loads(out)["rules"] if r["code"] == "O003"]
    assert (code, rule["status"], rule["reason"]) == (0, "skipped", "missing_table:owners")
