"""Hostile input and unattended runs (issue 7), through the real CLI.

Every bad input ends as one line on stderr with exit 2 (naming the file, row or key and the fix)
or as a finding (exit 0/1); never a traceback, never a hang, never a changed input. Each test
writes its files under tmp_path and drives `revops` through typer's CliRunner.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
import random
import string
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from revops_cli import cli
from revops_cli.config import load_config
from revops_cli.load.dataset import load_dataset

Write = Callable[[str, str | bytes], Path]
runner = CliRunner()

AS_OF = "2024-10-01"
EXPORT_HINT = "(export the data as CSV (File > Save as > CSV UTF-8))"
ENCODING_HINT = "(set `encoding:` for this source in the config (for example cp1252 or latin-1))"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ACCOUNTS = "sources: {accounts: {path: a.csv}}\n"
DEALS = """
sources:
  deals:
    path: d.csv
    columns: {deal_id: id, stage: stage, amount: amount, close_date: close}
    values: {status: {won: [won], lost: [lost]}}
"""


# --- helpers -------------------------------------------------------------------------------------


def revops(*args: str | Path) -> Result:
    """Run `revops ARGS` in-process and check that it ended the way CLI.md allows."""
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert_no_traceback(result)
    return result


def assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def with_config(config: Path, command: str, *args: str | Path) -> Result:
    return revops(command, "-c", config, "--as-of", AS_OF, *args)


def setup_error(result: Result) -> str:
    """The one stderr line of an exit-2 run (stdout empty)."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def validate_table(config: Path, table: str) -> dict[str, Any]:
    result = with_config(config, "validate", "-f", "json")
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    entry: dict[str, Any] = json.loads(result.stdout)["tables"][table]
    return entry


def audit_json(config: Path, *args: str, exit_code: int | None = None) -> dict[str, Any]:
    result = with_config(config, "audit", "-f", "json", *args)
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    if exit_code is not None:
        assert result.exit_code == exit_code
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def finding(document: dict[str, Any], code: str) -> dict[str, Any]:
    found = [f for f in document["findings"] if f["code"] == code]
    assert len(found) == 1, [f["code"] for f in document["findings"]]
    entry: dict[str, Any] = found[0]
    return entry


def metrics_json(config: Path, period: str = "2024-Q3") -> dict[str, Any]:
    result = with_config(config, "metrics", "--period", period, "-f", "json")
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    values: dict[str, Any] = json.loads(result.stdout)["metrics"]
    return values


def garbage(size: int, seed: int, low: int = 0) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(low, 256) for _ in range(size))


def xlsx_bytes() -> bytes:
    """A minimal Office Open XML workbook (a zip archive, as Excel writes it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        archive.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet/>')
    return buffer.getvalue()


def alias_bomb(levels: int, fan_out: int) -> list[str]:
    """YAML lines of a "billion laughs": each anchor lists the previous one `fan_out` times."""
    lines = ["  l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for level in range(1, levels):
        items = ", ".join([f"*l{level - 1}"] * fan_out)
        lines.append(f"  l{level}: &l{level} [{items}]")
    return lines


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_spreadsheet_safe(text: str) -> None:
    """No text cell starts with a formula character (numbers such as -5.0 stay numbers)."""
    for cell in csv_cells(text):
        assert not (cell.startswith(FORMULA_PREFIXES) and not is_number(cell)), repr(cell)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- files ---------------------------------------------------------------------------------------


def test_missing_source_file_is_exit_2(write: Write, tmp_path: Path) -> None:
    config = write("revops.yaml", ACCOUNTS)
    line = setup_error(with_config(config, "audit"))
    assert line == (
        f"error: {config}: sources.accounts.path: file not found: {tmp_path / 'a.csv'} "
        "(paths are relative to the config file)"
    )


def test_source_that_is_a_folder_is_exit_2(write: Write, tmp_path: Path) -> None:
    (tmp_path / "a.csv").mkdir()
    config = write("revops.yaml", ACCOUNTS)
    line = setup_error(with_config(config, "audit"))
    assert line.startswith(
        f"error: {config}: sources.accounts.path: {tmp_path / 'a.csv'} is a folder, not a CSV file"
    )


def test_source_that_is_a_folder_says_how_to_fix_it(write: Write, tmp_path: Path) -> None:
    (tmp_path / "a.csv").mkdir()
    config = write("revops.yaml", ACCOUNTS)
    line = setup_error(with_config(config, "audit"))
    # every other exit-2 line ends with the fix in parentheses, e.g. "(point ... at a file)"
    assert line.endswith(")"), line


def assert_empty_table(config: Path) -> None:
    document = audit_json(config, exit_code=1)  # S006 is an error
    s006 = finding(document, "S006")
    assert (s006["table"], s006["count"]) == ("accounts", 1)
    assert s006["samples"] == [{"record_id": "accounts", "detail": "no data rows"}]
    assert document["tables"] == {}  # not loaded
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["loaded"]) == (0, False)


def test_empty_file_is_s006(write: Write) -> None:
    write("a.csv", b"")
    assert_empty_table(write("revops.yaml", ACCOUNTS))


def test_header_only_file_is_s006(write: Write) -> None:
    write("a.csv", b"account_id,name,created_at\r\n")
    assert_empty_table(write("revops.yaml", ACCOUNTS))


def test_utf8_bom_is_dropped_from_the_first_header(write: Write) -> None:
    write("a.csv", "\ufeffaccount_id,created_at\n001,Müller\n".encode())
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert entry["columns"] == {"account_id": "account_id", "created_at": "created_at"}
    assert entry["unmapped_headers"] == []
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["Müller"]}}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_read(write: Write, codec: str) -> None:
    write("a.csv", "\ufeffaccount_id,created_at\r\n001,Müller €\r\n".encode(codec))
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert (entry["rows"], entry["delimiter"]) == (1, ",")
    assert entry["columns"] == {"account_id": "account_id", "created_at": "created_at"}
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["Müller €"]}}


@pytest.mark.parametrize("codec", ["cp1252", "utf-16", "utf-16-le", "utf-32"])
def test_a_utf8_bom_wins_over_the_configured_encoding(write: Write, codec: str) -> None:
    # with a UTF-16 encoding the header was read as UTF-16 first: account_id, the required
    # column, was not found, and the run stopped with exit 2
    write("a.csv", "\ufeffaccount_id,created_at\n001,Zoë José\n".encode())
    config = write("revops.yaml", f"sources: {{accounts: {{path: a.csv, encoding: {codec}}}}}")
    entry = validate_table(config, "accounts")
    assert entry["columns"] == {"account_id": "account_id", "created_at": "created_at"}
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["Zoë José"]}}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read_with_the_encoding_option(write: Write, codec: str) -> None:
    write("a.csv", "account_id,created_at\r\n001,Müller €\r\n".encode(codec))
    config = write("revops.yaml", f"sources: {{accounts: {{path: a.csv, encoding: {codec}}}}}")
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["delimiter"]) == (1, ",")
    assert entry["columns"] == {"account_id": "account_id", "created_at": "created_at"}
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["Müller €"]}}


def test_blank_lines_before_the_header_are_skipped(write: Write) -> None:
    write("a.csv", b"\r\n  \n\naccount_id,created_at\n001,soon\n\n002,2024-01-01\n")
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert (entry["rows"], entry["ragged_rows"]) == (2, [])
    assert entry["columns"] == {"account_id": "account_id", "created_at": "created_at"}
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["soon"]}}


def test_a_file_of_blank_lines_is_s006(write: Write) -> None:
    write("a.csv", b"\n  \r\n\n")
    assert_empty_table(write("revops.yaml", ACCOUNTS))


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("cp1252", "Müller € \u2013 \u201cZürich\u201d"), ("latin-1", "Gödel, Señor")],
)
def test_legacy_encoding_with_the_encoding_option(write: Write, encoding: str, text: str) -> None:
    write("a.csv", f'account_id,created_at\n1,"{text}"\n'.encode(encoding))
    config = write("revops.yaml", f"sources: {{accounts: {{path: a.csv, encoding: {encoding}}}}}")
    entry = validate_table(config, "accounts")
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": [text]}}


def test_decode_failure_names_the_row_and_the_encoding_option(write: Write) -> None:
    path = write("a.csv", "account_id,name\n1,ok\n2,Müller\n3,ok\n".encode("latin-1"))
    config = write("revops.yaml", ACCOUNTS)
    for command in ("validate", "audit"):
        line = setup_error(with_config(config, command))
        assert line == f"error: {path}: row 2 is not valid utf-8 (byte 0xfc) {ENCODING_HINT}"


def test_semicolon_delimiter_is_detected(write: Write) -> None:
    write("a.csv", "account_id;name;created_at\n1;Acme, Inc;2024-13-01\n2;Beta;2024-01-01\n")
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert (entry["delimiter"], entry["rows"], entry["ragged_rows"]) == (";", 2, [])
    assert list(entry["columns"]) == ["account_id", "name", "created_at"]
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["2024-13-01"]}}


def test_tab_delimiter_is_detected(write: Write) -> None:
    write("a.csv", "account_id\tname\tcreated_at\r\n1\tA; B, C\tsoon\r\n2\tBeta\t2024-01-01\r\n")
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert (entry["delimiter"], entry["rows"], entry["ragged_rows"]) == ("\t", 2, [])
    assert list(entry["columns"]) == ["account_id", "name", "created_at"]
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["soon"]}}


def test_quoted_newlines_stay_inside_their_cell(write: Write) -> None:
    content = (
        'account_id,created_at,name\nA1,"two\nlines",x\nA2,2024-01-01,"a\r\nb, ""c"""\n'
        'A3,2024-01-02,"\n\n"\n'
    )
    write("a.csv", content)
    config = write("revops.yaml", ACCOUNTS)
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["ragged_rows"]) == (3, [])
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["two\nlines"]}}
    s002 = finding(audit_json(config, "--select", "S002"), "S002")
    assert [s["record_id"] for s in s002["samples"]] == ["accounts.created_at"]


def test_ragged_rows_are_reported_and_the_rest_is_loaded(write: Write) -> None:
    write(
        "a.csv",
        "account_id,name,created_at\nA1,a,2024-01-01\nA2,b,2024-01-02,extra\nA3\nA4,d,later\n",
    )
    config = write("revops.yaml", ACCOUNTS)
    s002 = finding(audit_json(config, "--select", "S002", exit_code=0), "S002")
    assert s002["count"] == 3  # D28: the failing column plus two ragged rows
    assert s002["samples"] == [
        {"record_id": "accounts.created_at", "detail": "1 unparseable: 'later'"},
        {"record_id": "accounts:row 2", "detail": "wrong number of fields"},
        {"record_id": "accounts:row 3", "detail": "wrong number of fields"},
    ]
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["loaded"], entry["ragged_rows"]) == (4, True, [2, 3])


def test_a_quote_inside_an_unquoted_field_is_text(write: Write) -> None:
    # polars refuses this file; Python's csv module reads it as RFC 4180 readers do
    write("a.csv", 'account_id,name,created_at\nA1,5" screen,later\n\nA2,"b, inc",2024-01-02,x\n')
    config = write("revops.yaml", ACCOUNTS)
    s002 = finding(audit_json(config, "--select", "S002", exit_code=0), "S002")
    assert s002["samples"] == [
        {"record_id": "accounts.created_at", "detail": "1 unparseable: 'later'"},
        {"record_id": "accounts:row 2", "detail": "wrong number of fields"},
    ]
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["ragged_rows"]) == (2, [2])
    accounts = load_dataset(load_config(config), date(2024, 10, 1)).tables["accounts"]
    # row 2 has a field too many: reported, not loaded
    assert accounts.select("_row", "account_id", "name").rows() == [(1, "A1", '5" screen')]


def test_an_unclosed_quote_runs_to_the_end_of_the_file(write: Write) -> None:
    write("a.csv", 'account_id,name,created_at\nA1,"open,2024-01-01\nA2,b,2024-01-02\n')
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert (entry["rows"], entry["ragged_rows"]) == (1, [1])


def test_unit_separator_in_a_cell_is_not_a_ragged_row(write: Write) -> None:
    write("a.csv", 'account_id,name,created_at\nA1,"a\x1fb",2024-01-01\nA2,b,2024-01-02\n')
    entry = validate_table(write("revops.yaml", ACCOUNTS), "accounts")
    assert (entry["rows"], entry["ragged_rows"]) == (2, [])


def test_unit_separator_in_the_header_is_not_an_internal_error(write: Write) -> None:
    write("a.csv", "account_id,name\x1f\nA1,Acme\n")
    result = with_config(write("revops.yaml", ACCOUNTS), "audit")
    assert result.exit_code in (0, 1, 2), result.stderr


@pytest.mark.parametrize(
    "content",
    [b"account_id,name\rA1,Acme\rA2,Beta\r", b"\rA1,Acme\n"],
    ids=["cr-line-ends", "leading-cr"],
)
def test_bare_carriage_returns_are_not_an_internal_error(write: Write, content: bytes) -> None:
    write("a.csv", content)
    result = with_config(write("revops.yaml", ACCOUNTS), "audit")
    assert result.exit_code in (0, 1, 2), result.stderr


def test_extra_fields_in_the_first_data_row_are_a_ragged_row(write: Write) -> None:
    write("a.csv", "account_id,name\nA1,a,extra\nA2,b\n")
    config = write("revops.yaml", ACCOUNTS)
    s002 = finding(audit_json(config, "--select", "S002", exit_code=0), "S002")
    assert s002["samples"] == [{"record_id": "accounts:row 1", "detail": "wrong number of fields"}]


def test_duplicate_header_names_use_the_first(write: Write) -> None:
    write("a.csv", "account_id,created_at,name,created_at\n1,first,x,2024-01-01\n")
    config = write("revops.yaml", ACCOUNTS)
    entry = validate_table(config, "accounts")
    assert entry["duplicate_headers"] == ["created_at"]
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["first"]}}
    table = with_config(config, "validate", "--no-color")
    assert "duplicate headers (the first is used): created_at" in table.stdout


def test_multi_megabyte_cell(write: Write) -> None:
    big = "lorem ipsum, " * (5 * 1024 * 1024 // 13)  # 5 MB with commas, in one quoted cell
    write("a.csv", f'account_id,name,created_at\nA1,"{big}",not a date\nA2,b,2024-01-01\n')
    config = write("revops.yaml", ACCOUNTS)
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["ragged_rows"]) == (2, [])
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["not a date"]}}
    assert audit_json(config, "--select", "S")["tables"]["accounts"]["rows"] == 2


def test_binary_garbage_is_exit_2(write: Write) -> None:
    path = write("a.csv", garbage(4096, seed=7) + b"\x00")
    line = setup_error(with_config(write("revops.yaml", ACCOUNTS), "audit"))
    assert line == f"error: {path}: is a binary file, not CSV text {EXPORT_HINT}"


def test_binary_garbage_without_nul_bytes_names_the_file(write: Write) -> None:
    path = write("a.csv", garbage(4096, seed=7, low=0x80))  # never valid UTF-8, no NUL
    line = setup_error(with_config(write("revops.yaml", ACCOUNTS), "audit"))
    # D33: a decode failure names the file, the row and the `encoding` option (or: binary, CSV)
    assert str(path) in line and ("encoding" in line or "CSV" in line), line


def test_gzip_is_read_transparently(write: Write) -> None:
    content = b"account_id;created_at\n001;2024-99-01\n002;2024-01-01\n"
    write("a.csv.gz", gzip.compress(content))
    config = write("revops.yaml", "sources: {accounts: {path: a.csv.gz}}")
    entry = validate_table(config, "accounts")
    assert (entry["rows"], entry["delimiter"]) == (2, ";")
    assert entry["parse_failures"] == {"created_at": {"count": 1, "samples": ["2024-99-01"]}}


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_xlsx_given_as_csv_says_to_export_csv(write: Write, name: str) -> None:
    path = write(name, xlsx_bytes())
    config = write("revops.yaml", f"sources: {{accounts: {{path: {name}}}}}")
    line = setup_error(with_config(config, "validate"))
    assert line == f"error: {path}: is an Excel workbook or zip archive, not CSV {EXPORT_HINT}"


# --- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "raw"),
    [
        ("close_date", "2024-02-30"),
        ("close_date", "0000-00-00"),
        ("close_date", "N/A"),
        ("amount", "N/A"),
        ("amount", "$1,2,3"),
        ("amount", "1e309"),
        ("amount", "NaN"),
    ],
)
def test_unparseable_value_is_null_with_s002(write: Write, column: str, raw: str) -> None:
    cells = {"amount": "100", "close_date": "2024-07-10", column: raw}
    write("d.csv", f'id,stage,amount,close\nD1,won,"{cells["amount"]}",{cells["close_date"]}\n')
    config = write("revops.yaml", DEALS)
    s002 = finding(audit_json(config, "--select", "S002", exit_code=0), "S002")
    assert s002["samples"] == [
        {"record_id": f"deals.{column}", "detail": f"1 unparseable: '{raw}'"}
    ]
    # a parse failure is a non-empty raw cell whose loaded value is null
    assert validate_table(config, "deals")["parse_failures"] == {
        column: {"count": 1, "samples": [raw]}
    }
    if column == "amount":  # the won deal of Q3 is counted with a missing amount
        assert metrics_json(config)["bookings"]["inputs"]["won_missing_amount"] == 1


def test_minus_zero_reads_as_zero(write: Write) -> None:
    write("d.csv", "id,stage,amount,close\nD1,won,-0,2024-07-10\n")
    config = write("revops.yaml", DEALS)
    assert validate_table(config, "deals")["parse_failures"] == {}
    bookings = metrics_json(config)["bookings"]
    assert bookings["inputs"]["won_missing_amount"] == 0
    assert bookings["value"] == 0.0
    assert math.copysign(1.0, bookings["value"]) == 1.0  # +0.0, not -0.0


def test_european_amounts_with_decimal_comma(write: Write) -> None:
    write(
        "d.csv",
        'id,stage,amount,close\nD1,won,"1.234,56",2024-07-10\nD2,won,"1 234,56 €",2024-07-11\n'
        'D3,won,"1\u00a0234,56\u00a0€",2024-07-12\n',
    )
    config = write("revops.yaml", DEALS.replace("path: d.csv", 'path: d.csv\n    decimal: ","'))
    assert validate_table(config, "deals")["parse_failures"] == {}
    values = metrics_json(config)
    assert values["bookings"]["value"] == pytest.approx(3 * 1234.56)
    assert values["avg_deal_size"]["value"] == pytest.approx(1234.56)


# --- config --------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_line_and_column(write: Write) -> None:
    write("a.csv", "account_id\n1\n")
    config = write("revops.yaml", "sources:\n  accounts:\n    path: a.csv\n   columns: x\n")
    line = setup_error(with_config(config, "audit"))
    assert line == (
        f"error: {config}:4:4: YAML syntax error: expected <block end>, but found "
        "'<block mapping start>' (fix the YAML at that line)"
    )


def test_unknown_keys_and_rule_codes_get_suggestions(write: Write) -> None:
    write("a.csv", "account_id\n1\n")
    config = write(
        "revops.yaml",
        """
        currency: {bse: EUR}
        sources:
          accounts: {path: a.csv, delimter: ";"}
        rules:
          ignore: [S0002]
          settings:
            S0004: {severity: info}
        """,
    )
    result = with_config(config, "audit")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: {config}: currency.bse: unknown key (did you mean 'base'?)",
        f"error: {config}: sources.accounts.delimter: unknown key (did you mean 'delimiter'?)",
        f"error: {config}: rules.ignore: unknown rule or family 'S0002' (did you mean 'S002'?)",
        f"error: {config}: rules.settings.S0004: unknown rule 'S0004' (did you mean 'S004'?)",
    ]


def test_a_delimiter_of_more_than_one_byte_is_a_config_error(write: Write) -> None:
    write("a.csv", "account_id§name\n1§x\n")
    config = write("revops.yaml", "version: 1\nsources:\n  accounts: {path: a.csv, delimiter: §}\n")
    line = setup_error(with_config(config, "audit"))
    assert line.startswith(f"error: {config}: sources.accounts.delimiter: ")
    assert "must be one ASCII character" in line


def test_yaml_alias_bomb_is_refused(write: Write) -> None:
    write("a.csv", "account_id\n1\n")
    lines = ["anchors:", *alias_bomb(levels=12, fan_out=10)]  # 111 aliases, 10**12 leaves
    lines += [ACCOUNTS.strip(), "currency: {base: *l11}"]
    config = write("revops.yaml", "\n".join(lines) + "\n")
    line = setup_error(with_config(config, "validate"))
    assert line == (
        f"error: {config}: config's YAML aliases expand to more than 100,000 values "
        "(write the values out instead of using anchors and aliases)"
    )


def test_yaml_alias_bomb_under_the_alias_count_is_refused(write: Write) -> None:
    write("a.csv", "account_id\n1\n")
    # 46 aliases (under the count limit) expanding to 9**6 = 531,441 strings; at 9 levels (73
    # aliases, 9**9 strings) the same config takes gigabytes, so this test stays at 6.
    lines = ["anchors:", *alias_bomb(levels=6, fan_out=9)]
    lines += [ACCOUNTS.strip(), "currency: {base: *l5}"]
    config = write("revops.yaml", "\n".join(lines) + "\n")
    result = with_config(config, "validate")
    assert result.exit_code == 2
    assert max(len(line) for line in result.stderr.splitlines()) < 1000
    assert "alias" in result.stderr


def test_config_over_one_mebibyte_is_refused(write: Write) -> None:
    write("a.csv", "account_id\n1\n")
    config = write("revops.yaml", ACCOUNTS + "#" + "x" * (1024 * 1024) + "\n")
    line = setup_error(with_config(config, "audit"))
    assert line == f"error: {config}: config is larger than 1 MiB (a config is a few KB of YAML)"


@pytest.mark.parametrize("codec", ["latin-1", "utf-16"])
def test_non_utf8_yaml_is_refused(write: Write, codec: str) -> None:
    write("a.csv", "account_id\n1\n")
    config = write("revops.yaml", f"# Société Générale\n{ACCOUNTS}".encode(codec))
    line = setup_error(with_config(config, "audit"))
    assert line == f"error: {config}: config is not UTF-8 (save the config as UTF-8)"


# --- outputs -------------------------------------------------------------------------------------

DUPLICATED = "id,stage,amount,close\nD1,won,100,2024-07-10\nD1,won,200,2024-07-11\n"


def test_outputs_are_written_atomically(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("d.csv", DUPLICATED)
    config = write("revops.yaml", DEALS)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("old report\n")  # replaced whole, never appended to
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        renames.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    targets = {name: out / name for name in ("report.json", "findings.csv", "baseline.json")}
    result = with_config(
        config,
        "audit",
        "-f",
        "json",
        "--output",
        targets["report.json"],
        "--findings",
        targets["findings.csv"],
        "--write-baseline",
        targets["baseline.json"],
    )
    assert (result.exit_code, result.stdout) == (1, "")
    assert sorted(p.name for p in out.iterdir()) == sorted(targets)  # no temporary file left
    assert json.loads(targets["report.json"].read_text())["command"] == "audit"
    assert "S004,error,deals,D1" in targets["findings.csv"].read_text()
    assert json.loads(targets["baseline.json"].read_text())["schema_version"] == 1
    # each file was renamed into place from a temporary file of the same folder
    assert sorted(target for _, target in renames) == sorted(targets.values())
    for source, target in renames:
        assert source.parent == target.parent and source != target


@pytest.mark.parametrize("option", ["--output", "--findings", "--write-baseline"])
def test_missing_output_folder_is_exit_2(write: Write, tmp_path: Path, option: str) -> None:
    write("d.csv", DUPLICATED)
    config = write("revops.yaml", DEALS)
    target = tmp_path / "missing" / "out.txt"
    line = setup_error(with_config(config, "audit", option, target))
    assert line == (
        f"error: {target}: the output folder {target.parent} does not exist "
        "(create it or choose another path)"
    )
    assert not target.parent.exists()


def test_formula_cells_are_escaped_in_every_csv_output(write: Write, tmp_path: Path) -> None:
    deals = [
        "id,stage,amount,close,created",
        'D9,won,7,"\tdate","\rdate"',
        # the first row of a repeated key is dropped before the values are read (SCHEMA.md)
        "=1+1,won,200,2024-07-11,2024-07-01",
        "=1+1,won,100,2024-07-10,=HYPERLINK(evil)",
        "+1,won,2,2024-07-10,2024-07-01",
        "+1,won,1,2024-07-10,+cmd",
        "-1,lost,4,2024-07-10,2024-07-01",
        "-1,lost,3,2024-07-10,-cmd",
        "@SUM(A1),won,6,2024-07-10,2024-07-01",
        "@SUM(A1),won,5,2024-07-10,@cmd",
    ]
    write("d.csv", "\n".join(deals) + "\n")
    write("e.csv", "date,category,amount,=chan\n2024-07-01,marketing,10,=cmd|' /C calc'!A0\n")
    config = write(
        "revops.yaml",
        DEALS.replace("close_date: close}", "close_date: close, created_at: created}")
        + "  expenses: {path: e.csv, columns: {channel: '=chan'}}\n",
    )
    findings = tmp_path / "findings.csv"
    audit_csv = with_config(config, "audit", "-f", "csv", "--findings", findings)
    validate_csv = with_config(config, "validate", "-f", "csv")
    metrics_csv = with_config(config, "metrics", "--period", "2024-Q3", "-f", "csv")
    assert (audit_csv.exit_code, validate_csv.exit_code, metrics_csv.exit_code) == (1, 0, 0)
    outputs = {
        "audit": audit_csv.stdout,
        "findings": findings.read_text(),
        "validate": validate_csv.stdout,
        "metrics": metrics_csv.stdout,
    }
    for name, text in outputs.items():
        assert text.count("\n") > 1, name
        assert_spreadsheet_safe(text)
    # the cells where export data can come first: record ids, headers and raw samples
    record_ids = [row["record_id"] for row in csv.DictReader(io.StringIO(outputs["findings"]))]
    assert {"'=1+1", "'+1", "'-1", "'@SUM(A1)"} <= set(record_ids)
    validate_rows = {
        (row["table"], row["column"]): row
        for row in csv.DictReader(io.StringIO(outputs["validate"]))
    }
    assert validate_rows["deals", "created_at"]["samples"] == (
        "'\rdate, =HYPERLINK(evil), +cmd, -cmd, @cmd"
    )
    assert validate_rows["deals", "close_date"]["samples"] == "'\tdate"
    assert validate_rows["expenses", "channel"]["header"] == "'=chan"
    assert "S004,duplicate-primary-key,error,deals" in outputs["audit"]
    assert "marketing_spend_by_channel[=cmd|' /C calc'!A0]" in outputs["metrics"]


@contextmanager
def writes_forbidden(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every open of a file under `folder` with a mode or flags that could write it."""
    attempts: list[str] = []
    real_open, real_os_open = io.open, os.open
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def inside(file: Any) -> bool:
        if not isinstance(file, str | bytes | os.PathLike):
            return False  # a file descriptor
        return Path(os.fsdecode(file)).resolve().is_relative_to(folder.resolve())

    def spy_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if inside(file) and set(mode) & set("wax+"):
            attempts.append(f"open({file!s}, {mode!r})")
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if inside(path) and flags & write_flags:
            attempts.append(f"os.open({path!s}, {flags:#o})")
        return real_os_open(path, flags, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(io, "open", spy_open)
        patch.setattr("builtins.open", spy_open)
        patch.setattr(os, "open", spy_os_open)
        yield attempts


def test_inputs_are_never_opened_for_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    (inputs / "d.csv").write_text(DUPLICATED + "D2,won,abc,2024-07-12\n")
    (inputs / "a.csv.gz").write_bytes(gzip.compress(b"account_id,name\nA1,Acme\n"))
    (inputs / "e.csv").write_bytes(b"date;category;amount\n2024-07-01;marketing;1,5\n")
    config = inputs / "revops.yaml"
    config.write_text(
        DEALS + "  accounts: {path: a.csv.gz}\n  expenses: {path: e.csv, decimal: ','}\n"
    )
    files = sorted(inputs.iterdir())
    before = {path: sha256(path) for path in files}
    stats = {path: (path.stat().st_mtime_ns, path.stat().st_size) for path in files}
    for path in [*files, inputs]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        with writes_forbidden(inputs, monkeypatch) as attempts:
            runs = [
                with_config(config, "validate", "-f", "json"),
                with_config(
                    config,
                    "audit",
                    "--findings",
                    out / "findings.csv",
                    "--write-baseline",
                    out / "baseline.json",
                    "--output",
                    out / "audit.txt",
                ),
                with_config(config, "audit", "--baseline", out / "baseline.json"),
                with_config(config, "metrics", "--period", "2024-Q3", "-f", "csv"),
            ]
    finally:
        for path in [inputs, *files]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert [r.exit_code for r in runs] == [0, 1, 0, 0], [r.stderr for r in runs]
    assert attempts == []
    assert sorted(inputs.iterdir()) == files
    assert {path: sha256(path) for path in files} == before
    assert {path: (path.stat().st_mtime_ns, path.stat().st_size) for path in files} == stats
    assert sorted(p.name for p in out.iterdir()) == ["audit.txt", "baseline.json", "findings.csv"]


@pytest.mark.parametrize(
    ("command", "target", "args"),
    [
        ("audit", "load", ()),  # before anything ran
        ("metrics", "Common.emit", ("--period", "2024-Q3")),  # after the library ran
    ],
)
def test_internal_error_is_exit_3_and_debug_shows_the_traceback(
    write: Write,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    target: str,
    args: tuple[str, ...],
) -> None:
    write("d.csv", DUPLICATED)
    config = write("revops.yaml", DEALS)

    def broken(*_: object, **__: object) -> None:
        raise KeyError("surprise")

    owner, name = (cli.Common, "emit") if target == "Common.emit" else (cli, target)
    monkeypatch.setattr(owner, name, broken)
    argv = [command, "-c", str(config), "--as-of", AS_OF, *args]
    result = runner.invoke(cli.app, argv)
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == (
        "internal error: KeyError: 'surprise' (this is a bug; run again with --debug for the "
        f"traceback and report it at {cli.REPORT_URL})\n"
    )
    debug = runner.invoke(cli.app, [*argv, "--debug"])
    assert (debug.exit_code, debug.stdout) == (3, "")
    assert debug.stderr.startswith("Traceback (most recent call last):\n")
    assert ", in broken\n" in debug.stderr
    assert debug.stderr.rstrip().endswith("KeyError: 'surprise'")
    assert "internal error" not in debug.stderr


# --- property-based ------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADER = b"id,stage,amount,close\n"


def run_on_source(folder: Path, content: bytes, config_text: str = DEALS) -> Result:
    (folder / "d.csv").write_bytes(content)
    config = folder / "revops.yaml"
    config.write_text(config_text)
    result = runner.invoke(cli.app, ["audit", "-c", str(config), "--as-of", AS_OF, "-q"])
    assert_no_traceback(result)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) >= 1
        assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    return result


@PROPERTY_SETTINGS
@given(with_header=st.booleans(), data=st.binary(max_size=2048))
def test_random_bytes_as_a_csv_never_crash(with_header: bool, data: bytes) -> None:
    content = (HEADER if with_header else b"") + data
    with tempfile.TemporaryDirectory() as folder:
        run_on_source(Path(folder), content)


CSV_TEXT = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + ',,,"""\n\n\r;\t .-$€é'),
    max_size=400,
)


@PROPERTY_SETTINGS
@given(with_header=st.booleans(), text=CSV_TEXT)
def test_random_csv_like_text_never_crashes(with_header: bool, text: str) -> None:
    content = (HEADER if with_header else b"") + text.encode()
    with tempfile.TemporaryDirectory() as folder:
        run_on_source(Path(folder), content)


CELL = st.one_of(
    # without NUL, which makes a binary file
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
    st.sampled_from(
        ["-0", "1e309", "NaN", "inf", "$1,2,3", "(12)", "1.234,56", "0000-00-00", "2024-02-30"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.dates().map(str),
)


@PROPERTY_SETTINGS
@given(rows=st.lists(st.tuples(CELL, CELL), min_size=1, max_size=8), decimal=st.sampled_from(".,"))
def test_random_values_in_typed_columns_never_crash_the_loader(
    rows: list[tuple[str, str]], decimal: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["id", "stage", "amount", "close"])
    for number, (amount, close) in enumerate(rows):
        writer.writerow([f"D{number}", "won", amount, close])
    with tempfile.TemporaryDirectory() as folder:
        config = DEALS.replace("path: d.csv", f"path: d.csv\n    decimal: '{decimal}'")
        result = run_on_source(Path(folder), buffer.getvalue().encode(), config)
        assert result.exit_code in (0, 1), result.stderr  # well-formed CSV always loads
        validate = runner.invoke(
            cli.app, ["validate", "-c", str(Path(folder) / "revops.yaml"), "-f", "json"]
        )
        assert_no_traceback(validate)
        assert validate.exit_code == 0, validate.stderr
        entry = json.loads(validate.stdout)["tables"]["deals"]
        assert (entry["rows"], entry["ragged_rows"]) == (len(rows), [])
        for column, issues in entry["parse_failures"].items():
            assert column in ("amount", "close_date")
            assert 1 <= issues["count"] <= len(rows)


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin")
def test_a_source_piped_on_stdin_is_read_once(tmp_path: Path) -> None:
    # `cat export.csv | revops audit` with `path: /dev/stdin`: the header check read the first
    # 64 KiB of the pipe, and the load found the rest, or nothing. Three rows were 0 (S006), and
    # 2,000 rows lost the deals table altogether while the audit passed.
    rows = "".join(f"D{i},won,{i},2024-07-01\n" for i in range(2000))
    config = tmp_path / "revops.yaml"
    config.write_text(DEALS.replace("path: d.csv", "path: /dev/stdin"))
    argv = [sys.executable, "-m", "revops_cli", "validate", "-c", str(config), "-f", "json"]
    done = subprocess.run(
        argv, input=HEADER.decode() + rows, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tables"]["deals"]["rows"] == 2000
