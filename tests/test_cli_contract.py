"""The CLI contract of CLI.md and DECISIONS: global options, usage errors, crashed rules,
`--quiet -o`, `--ignore ALL`, `rules` JSON and `-o` file handling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from revops_cli import cli

Write = Callable[[str, str | bytes], Path]
runner = CliRunner()

CONFIG = "version: 1\nsources:\n  owners: {path: owners.csv}\n"
OWNERS = "owner_id,name,team,is_active\nO1,Ann,Sales,true\nO2,Bob,Sales,false\n"


@pytest.fixture
def config(write: Write) -> Path:
    write("owners.csv", OWNERS)
    return write("revops.yaml", CONFIG)


def invoke(*argv: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(argv))
    return result.exit_code, result.stdout, result.stderr


def audit_json(config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = invoke("audit", "-c", str(config), "--as-of", "2024-10-01", "-f", "json", *args)
    parsed: dict[str, Any] = json.loads(out)
    return code, parsed


# item 8: --ignore ALL (D35)


def test_ignore_all_on_the_cli_runs_no_rule_and_exits_0(config: Path) -> None:
    code, doc = audit_json(config, "--ignore", "ALL")
    assert (code, doc["summary"]["rules_run"], doc["rules"]) == (0, 0, [])


def test_config_codes_are_trimmed_and_case_folded_as_the_config_check_reads_them(
    write: Write,
) -> None:
    # 'o002 ' passed the check (it strips), then matched no rule: the run checked nothing
    write("owners.csv", OWNERS)
    config = write(
        "revops.yaml", CONFIG + "rules: {select: ['o002 ', ' s00'], ignore: [' s006']}\n"
    )
    _, doc = audit_json(config)
    assert [r["code"] for r in doc["rules"]] == ["O002", "S001", "S002", "S003", "S004", "S005"]


@pytest.mark.parametrize(
    ("token", "hint"),
    [
        ("DOO1", " (did you mean 'D001'?)"),  # letter O for the digit 0
        ("S00l", " (did you mean 'S001'?)"),  # letter l for the digit 1
        ("E", " (the families are A, B, D, F, I, L, O, R, S, T, U, V)"),
    ],
)
def test_an_unknown_code_or_family_gets_a_suggestion(config: Path, token: str, hint: str) -> None:
    code, _, err = invoke("audit", "-c", str(config), "--select", token)
    assert (code, err) == (
        2,
        f"error: --select: unknown rule or family '{token}'{hint} (`revops rules` lists every "
        "code)\n",
    )


@pytest.mark.parametrize("given", ["20241001", "2024-W40-2", "2024-275"])
def test_as_of_is_a_calendar_date_written_in_full(config: Path, given: str) -> None:
    # Python's fromisoformat takes these too, but the help and the message say YYYY-MM-DD
    assert invoke("audit", "-c", str(config), "--as-of", given) == (
        2,
        "",
        f"error: --as-of: '{given}' is not a date (write it as YYYY-MM-DD)\n",
    )


@pytest.mark.parametrize("command", [["rules"], ["init", "."], ["explain", "D001"]])
def test_a_bad_as_of_is_bad_usage_in_every_command(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a global option (CLI.md): `rules` and `init` read no day, but accepted any text
    monkeypatch.chdir(tmp_path)  # `-o -` is a file named '-' for `rules`
    assert invoke(*command, "--as-of", "2026-13-01", "-o", "-") == (
        2,
        "",
        "error: --as-of: '2026-13-01' is not a date (write it as YYYY-MM-DD)\n",
    )


def test_ignore_all_in_the_config_runs_no_rule_even_under_cli_select(write: Write) -> None:
    write("owners.csv", OWNERS)
    config = write("revops.yaml", CONFIG + "rules: {ignore: [ALL]}\n")
    code, doc = audit_json(config, "--select", "S")
    assert (code, doc["summary"]["rules_run"]) == (0, 0)


# D23: --output always holds the full document, also with --quiet on a clean run

CLEAN = "4 rules run, 50 skipped: 0 findings (0 error, 0 warning, 0 info) on 0 records; "


def test_quiet_clean_audit_still_writes_the_output_file_over_a_stale_one(
    config: Path, tmp_path: Path
) -> None:
    target = tmp_path / "report.txt"
    target.write_text("yesterday's findings\n", encoding="utf-8")
    argv = ("audit", "-c", str(config), "--as-of", "2024-10-01", "-q", "-o", str(target))
    assert invoke(*argv) == (0, "", "")
    assert target.read_text(encoding="utf-8") == CLEAN + "revenue at risk 0.00 USD\n"


def test_quiet_failing_audit_writes_the_samples_to_the_output_file(
    write: Write, tmp_path: Path
) -> None:
    write("owners.csv", OWNERS + "O1,Dup,Sales,true\n")
    config = write("revops.yaml", CONFIG)
    target = tmp_path / "report.txt"
    argv = ("audit", "-c", str(config), "--as-of", "2024-10-01", "-q", "-o", str(target))
    assert invoke(*argv)[0] == 1
    text = target.read_text(encoding="utf-8")
    assert "\n  O1  " in text  # the S004 sample, not only the summary
    # one of each is singular
    assert ": 1 finding (1 error, 0 warning, 0 info) on 1 record; " in text


# -o: the file mode of a plain open, and no temporary file left behind on failure


def test_output_file_gets_the_umask_mode(config: Path, tmp_path: Path) -> None:
    import os

    mask = os.umask(0o027)
    try:
        target = tmp_path / "validate.json"
        assert invoke("validate", "-c", str(config), "-f", "json", "-o", str(target))[0] == 0
    finally:
        os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_rewritten_output_keeps_its_mode(config: Path, tmp_path: Path) -> None:
    # a `chmod 600` report came back 0644 from the nightly run: the rename replaced it
    target = tmp_path / "validate.json"
    target.write_text("yesterday\n")
    target.chmod(0o600)
    assert invoke("validate", "-c", str(config), "-f", "json", "-o", str(target))[0] == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text(encoding="utf-8").startswith("{")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_read_only_output_is_not_replaced(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "validate.json"
    target.write_text("keep\n")
    target.chmod(0o444)
    code, _, err = invoke("validate", "-c", str(config), "-f", "json", "-o", str(target))
    assert (code, err) == (
        2,
        f"error: {target}: cannot write the output: Permission denied "
        "(check the file's permissions)\n",
    )
    assert target.read_text() == "keep\n"


def test_output_paths_that_name_no_file(config: Path, tmp_path: Path) -> None:
    # `-o new/` wrote a file named `new`; a name too long read as "a loop of symbolic links"
    code, _, err = invoke("validate", "-c", str(config), "-o", str(tmp_path / "new") + "/")
    assert code == 2 and "new/ names a folder: give the path of a file to write" in err
    assert not (tmp_path / "new").exists()
    long = tmp_path / ("a" * 300 + ".json")
    assert invoke("validate", "-c", str(config), "-o", str(long)) == (
        2,
        "",
        f"error: {long}: File name too long (choose another path)\n",
    )


def test_failed_output_write_removes_its_temporary_file(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    code, _, err = invoke("validate", "-c", str(config), "-o", str(target))
    assert (code, err) == (2, f"error: {target}: is a folder (give the path of a file to write)\n")

    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)  # the rename onto the target fails
    code, _, err = invoke("validate", "-c", str(config), "-o", str(tmp_path / "v.txt"))
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'v.txt'}: cannot write the output: Permission denied "
        "(check the folder's permissions and the free space)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "owners.csv", "revops.yaml"]


def revops_into(stdout: Path, mode: str, *args: str, env: dict[str, str] | None = None) -> int:
    """The exit code of `revops ARGS` run in the folder of `stdout` with its stdout on that file
    opened in `mode` ("a" is the shell's >>, "w" its >)."""
    with stdout.open(mode) as stream:
        argv = [sys.executable, "-m", "revops_cli", *args]
        environment = {**os.environ, **(env or {})}
        return subprocess.run(
            argv, stdout=stream, env=environment, cwd=stdout.parent, check=False
        ).returncode


def test_an_output_named_by_an_open_descriptor_is_written_through_it(
    config: Path, tmp_path: Path
) -> None:
    # `revops ... -o /dev/stdout >> log.txt` replaced the log by a rename (its earlier lines lost)
    log = tmp_path / "log.txt"
    log.write_text("earlier run\n")
    assert revops_into(log, "a", "rules", "-f", "csv", "-o", "/dev/stdout") == 0
    lines = log.read_text().splitlines()
    assert lines[:3] == ["earlier run", "code,name,severity,tables,params", lines[2]]
    assert lines[2].startswith("S001,required-column-missing,error,")
    # in UTF-8 whatever the locale's encoding (a latin-1 stdout crashed on the table's lines)
    latin = {"PYTHONIOENCODING": "latin-1"}
    assert revops_into(log, "w", "validate", "-c", str(config), "-o", "/dev/stdout", env=latin) == 0
    assert "owners" in log.read_text(encoding="utf-8")
    # -o and --findings may both name stdout, also when it is a file
    argv = ["audit", "-c", str(config), "--as-of", "2024-10-01", "-f", "csv"]
    argv += ["-o", "/dev/stdout", "--findings", "/dev/stdout", "--fail-on", "never"]
    assert revops_into(log, "w", *argv) == 0
    assert log.read_text().startswith("code,severity,table,record_id,detail,revenue_at_risk\n")
    # init -o /dev/stdout is init -o -: the config alone, its paths from the working folder
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "owners.csv").write_text("owner_id,name\nO1,Ana\n")
    assert revops_into(log, "w", "init", str(tmp_path / "x"), "-q", "-o", "/dev/stdout") == 0
    text = log.read_text()
    assert text.startswith("# revops config written by `revops init`")
    assert "wrote" not in text and 'path: "x/owners.csv"' in text


def test_a_descriptor_on_a_file_is_that_file_for_the_other_outputs_and_the_inputs(
    config: Path, tmp_path: Path
) -> None:
    # `-o /dev/stdout --findings out.json > out.json` lost the report; `-o /dev/stdout >>
    # owners.csv` appended the report to an input
    argv = ["audit", "-c", str(config), "--as-of", "2024-10-01", "-f", "json", "-o", "/dev/stdout"]
    out = tmp_path / "out.json"
    assert revops_into(out, "w", *argv, "--findings", str(out)) == 2
    owners = tmp_path / "owners.csv"
    before = owners.read_text()
    assert revops_into(owners, "a", *argv) == 2
    assert owners.read_text() == before


def test_dev_fd_of_a_descriptor_opened_to_append_keeps_what_it_held(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("earlier run\n")
    with log.open("a") as stream:
        argv = [sys.executable, "-m", "revops_cli", "rules", "-f", "csv"]
        argv += ["-o", f"/dev/fd/{stream.fileno()}"]
        assert subprocess.run(argv, pass_fds=(stream.fileno(),), check=False).returncode == 0
    assert log.read_text().splitlines()[:2] == ["earlier run", "code,name,severity,tables,params"]


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm")
def test_a_regular_file_under_dev_is_replaced_not_appended_to() -> None:
    folder = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        target = folder / "rules.csv"
        for _ in range(2):
            assert runner.invoke(cli.app, ["rules", "-f", "csv", "-o", str(target)]).exit_code == 0
        assert target.read_text().count("code,name,severity,tables,params") == 1
    finally:
        shutil.rmtree(folder)


def test_an_unreadable_export_or_config_names_the_fix(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = Path.open
    refused: set[Path] = set()

    def guarded(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path in refused:
            raise PermissionError(13, "Permission denied")
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    for path, what in [(tmp_path / "owners.csv", "file"), (config, "config")]:
        refused.add(path)
        code, _, err = invoke("validate", "-c", str(config))
        assert code == 2
        assert err == (
            f"error: {path}: cannot read the {what}: Permission denied "
            "(check the file's permissions)\n"
        )


# a crashed rule (D2, CLI.md exit 3): the full report, one line on stderr, --debug the traceback

URL = "https://github.com/revops-cli/revops/issues"


@pytest.fixture
def crashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from revops_cli.checks import RULES

    def broken_check(*_: object) -> None:
        raise ValueError("Invalid isoformat string: 'not a date'")

    for code in ("S006", "O001"):
        monkeypatch.setitem(RULES, code, replace(RULES[code], check=broken_check))


@pytest.mark.usefixtures("crashing")
def test_a_crashed_rule_writes_the_report_then_one_line_on_stderr_and_exit_3(
    config: Path,
) -> None:
    code, out, err = invoke("audit", "-c", str(config), "--as-of", "2024-10-01", "-f", "json")
    assert code == 3
    rules = {r["code"]: r for r in json.loads(out)["rules"]}
    assert rules["S006"]["reason"] == "ValueError: Invalid isoformat string: 'not a date'"
    assert err == (
        "internal error: rules O001, S006 crashed (this is a bug; run again with --debug for the "
        f"traceback and report it at {URL})\n"
    )


@pytest.mark.usefixtures("crashing")
def test_a_crashed_rule_with_debug_prints_each_traceback(config: Path) -> None:
    argv = ("audit", "-c", str(config), "--as-of", "2024-10-01", "--select", "S006", "--debug")
    code, out, err = invoke(*argv)
    assert code == 3
    assert "S006 crashed: ValueError: Invalid isoformat string: 'not a date'" in out
    lines = err.splitlines()
    assert lines[0] == f"internal error: rule S006 crashed (this is a bug; report it at {URL})"
    assert lines[1] == "S006: Traceback (most recent call last):"
    assert "in broken_check" in err
    assert lines[-1] == "ValueError: Invalid isoformat string: 'not a date'"


@pytest.mark.usefixtures("crashing")
def test_a_crashed_rule_in_report_is_said_on_stderr(config: Path, tmp_path: Path) -> None:
    argv = ("report", "-c", str(config), "--as-of", "2024-10-01", "-p", "2024-Q3", "-f", "md")
    code, _, err = invoke(*argv, "-o", str(tmp_path / "page.md"))
    assert code == 3
    assert err.startswith("internal error: rules O001, S006 crashed (this is a bug; run again")


# the progress bar: on a terminal only, plain with --no-color, over the selected rules only


class Terminal:
    """A stderr that says it is a terminal and keeps what is written to it."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        raise OSError("no file descriptor")


def progress_output(monkeypatch: pytest.MonkeyPatch, no_color: bool, total: int) -> str:
    import sys

    from revops_cli.checks import RULES
    from revops_cli.formats import OutputFormat

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    common = cli.Common(None, None, OutputFormat.TABLE, None, False, no_color, False)
    with cli.rule_progress(common, total) as advance:
        assert advance is not None
        advance(RULES["L001"])
    return "".join(terminal.written)


def test_the_progress_bar_is_coloured_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b[3" in progress_output(monkeypatch, no_color=False, total=1)


def test_no_color_takes_the_colour_out_of_the_progress_bar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    shown = progress_output(monkeypatch, no_color=True, total=2)
    assert re.search(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])m", shown) is None
    assert "50%" in shown  # one of the two selected rules


def test_the_progress_total_counts_the_selected_rules_only(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    totals: list[int] = []
    real = cli.rule_progress

    def spy(common: cli.Common, total: int) -> Any:
        totals.append(total)
        return real(common, total)

    monkeypatch.setattr(cli, "rule_progress", spy)
    invoke("audit", "-c", str(config), "--as-of", "2024-10-01", "--select", "L001,S00")
    assert totals == [7]


# global options (CLI.md, D35 --debug): accepted by every command, and before the command name

GLOBALS = ("--as-of", "2024-10-01", "-q", "--no-color", "--debug")


@pytest.mark.parametrize(
    "argv",
    [
        ("rules", "-f", "json"),
        ("explain", "D001", "-f", "json"),
        ("explain", "win_rate", "-f", "json"),
        ("validate", "-f", "json"),
    ],
)
def test_every_global_option_is_accepted_after_the_command(
    config: Path, argv: tuple[str, ...]
) -> None:
    code, out, err = invoke(*argv, "-c", str(config), *GLOBALS)
    assert (code, err) == (0, "")
    json.loads(out)


@pytest.mark.parametrize(
    "argv",
    [
        ("rules",),
        ("explain", "D001"),
        ("validate",),
        ("audit", "--select", "S006"),
        ("metrics", "-p", "2024-Q3"),
    ],
)
def test_every_global_option_is_accepted_before_the_command(
    config: Path, argv: tuple[str, ...]
) -> None:
    code, out, err = invoke("-c", str(config), *GLOBALS, "-f", "json", *argv)
    assert (code, err) == (0, "")
    json.loads(out)


def test_init_accepts_every_global_option(write: Write, tmp_path: Path) -> None:
    write("exports/owners.csv", OWNERS)
    argv = ("init", str(tmp_path / "exports"), "-o", "-", "-c", "x.yaml", "-f", "json", *GLOBALS)
    code, out, err = invoke(*argv)
    assert (code, err) == (0, "")  # --quiet: no table of recognised files on stderr
    assert "owners:" in out


def test_init_output_before_the_command_is_the_config_to_write(
    write: Write, tmp_path: Path
) -> None:
    write("exports/owners.csv", OWNERS)
    target = tmp_path / "mine.yaml"
    code, _, _ = invoke("-o", str(target), "init", str(tmp_path / "exports"))
    assert code == 0
    assert "owners:" in target.read_text(encoding="utf-8")


def test_a_value_after_the_command_wins_over_one_before_it(config: Path, tmp_path: Path) -> None:
    before = ("-c", str(tmp_path / "missing.yaml"), "--as-of", "2020-01-01", "-f", "md")
    code, out, _ = invoke(
        *before, "validate", "-c", str(config), "--as-of", "2024-10-01", "-f", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert (doc["config"], doc["as_of"]) == (str(config), "2024-10-01")


def test_an_option_before_the_command_applies_to_it(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "v.json"
    code, out, _ = invoke("-c", str(config), "-f", "json", "-o", str(target), "validate")
    assert (code, out) == (0, "")
    assert json.loads(target.read_text(encoding="utf-8"))["command"] == "validate"


def test_report_takes_a_global_format_md_before_the_command(config: Path) -> None:
    argv = ("-f", "md", "report", "-c", str(config), "--as-of", "2024-10-01", "-p", "2024-Q3")
    code, out, _ = invoke(*argv)
    assert code == 0 and out.startswith("# ")


# bad usage: one line on stderr, exit 2, no usage block and no box (CLI.md)


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ("metrics",),
            "error: Missing option '--period' / '-p' (see revops metrics --help)",
        ),
        (
            ("audit", "--fail-on", "bogus"),
            "error: Invalid value for '--fail-on': 'bogus' is not one of 'error', 'warning', "
            "'info', 'never' (see revops audit --help)",
        ),
        (("audit", "--bogus"), "error: No such option: --bogus (see revops audit --help)"),
        (
            ("audit", "--samples", "x"),
            "error: Invalid value for '--samples': Input should be a valid integer, unable to "
            "parse string as an integer (see revops audit --help)",
        ),
        (
            ("rules", "-f", "xml"),
            "error: Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'json', "
            "'csv', 'md' (see revops rules --help)",
        ),
        (("explain",), "error: Missing argument 'code' (see revops explain --help)"),
        (("bogus",), "error: No such command 'bogus' (see revops --help)"),
        (("--as-of",), "error: Option '--as-of' requires an argument (see revops --help)"),
    ],
)
def test_bad_usage_is_one_line_on_stderr_and_exit_2(argv: tuple[str, ...], line: str) -> None:
    assert invoke(*argv) == (2, "", line + "\n")


def test_help_still_shows_the_usage() -> None:
    code, out, err = invoke("metrics", "--help")
    assert (code, err) == (0, "")
    assert "Usage: revops metrics [OPTIONS]" in out and "--period" in out


@pytest.mark.parametrize(
    "argv", [(), ("audit",), ("metrics",), ("init",), ("history",), ("report",), ("explain",)]
)
def test_help_shows_no_value_after_a_flag(argv: tuple[str, ...]) -> None:
    # typer 0.29 wrote `--quiet -q <bool>`, as if the flag took a value (`--quiet true` is a
    # usage error)
    code, out, _ = invoke(*argv, "--help")
    assert code == 0
    assert "<bool>" not in out and "--help" in out


def test_a_path_the_system_refuses_is_a_setup_error(tmp_path: Path) -> None:
    # a file name over 255 bytes raised OSError from the first check of the path (exit 3)
    long = tmp_path / ("b" * 300)
    result = runner.invoke(cli.app, ["init", str(tmp_path), "-o", str(long)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {long}: File name too long (check the path)\n"


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_reader_that_stops_early_leaves_the_exit_code_as_it_was(config: Path, fmt: str) -> None:
    # `revops audit ... | head -1`: the pipe closes under the output. json exited 3 ("a bug"),
    # the table 1 ("look at the data"); O2 is inactive but owns nothing: a clean run, exit 0
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    argv = ["audit", "-c", str(config), "--as-of", "2024-10-01", "-f", fmt]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "revops_cli", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


# cron: stdout and stderr as a scheduler may leave them


def shell(command: str, folder: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`revops` run by sh in `folder` (REVOPS stands for it), for redirections such as >&-."""
    revops = f"{sys.executable} -m revops_cli"
    done = subprocess.run(
        ["sh", "-c", command.replace("REVOPS", revops)],
        cwd=folder,
        env={**os.environ, **(env or {})},
        capture_output=True,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_a_closed_stdout_is_a_setup_error_and_a_closed_stderr_changes_nothing(
    write: Write, tmp_path: Path
) -> None:
    write("owners.csv", OWNERS + "O1,Dup,Sales,true\n")  # S004: exit 1
    write("revops.yaml", CONFIG)
    # both were exit 3, "internal error: AttributeError" on Python's None for a closed stream
    assert shell("REVOPS audit --as-of 2024-10-01 >&-", tmp_path) == (
        2,
        "",
        "error: cannot write the output to stdout: it is closed (redirect stdout or use -o)\n",
    )
    code, out, _ = shell("REVOPS audit --as-of 2024-10-01 2>&-", tmp_path)
    assert code == 1 and "S004" in out
    assert shell("REVOPS audit --as-of 2024-10-01 -q -o a.txt >&- 2>&-", tmp_path)[0] == 1
    assert "S004" in (tmp_path / "a.txt").read_text(encoding="utf-8")


def test_stdout_is_utf8_and_plain_whatever_the_environment(write: Write, tmp_path: Path) -> None:
    write("owners.csv", OWNERS + "Ö1,Zoë,Sales,true\nÖ1,Zoë,Sales,true\n")  # S004 on Ö1
    write("revops.yaml", CONFIG)
    # an ASCII or latin-1 stdout was an internal error on the 'Ö' (exit 3, nothing written);
    # it writes UTF-8, as -o does
    for encoding in ("ascii", "latin-1"):
        env = {"PYTHONIOENCODING": encoding}
        code, out, err = shell("REVOPS audit --as-of 2024-10-01 -f json", tmp_path, env)
        assert (code, err) == (1, "")
        assert json.loads(out)["findings"][0]["samples"][0]["record_id"] == "Ö1"
        code, out, err = shell("REVOPS audit --as-of 2024-10-01", tmp_path, env)
        assert (code, err) == (1, "") and "  Ö1  " in out
    # FORCE_COLOR made rich put bold escapes into -o files and piped output
    colour = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
    command = "REVOPS audit --as-of 2024-10-01 -o t.txt; REVOPS audit --as-of 2024-10-01"
    code, out, _ = shell(command, tmp_path, colour)
    assert code == 1 and "Ö1" in out and "\x1b" not in out
    assert "\x1b" not in (tmp_path / "t.txt").read_text(encoding="utf-8")
