"""The CLI contract of CLI.md and DECISIONS: global options, usage errors, crashed rules,
`--quiet -o`, `--ignore ALL`, `rules` JSON and `-o` file handling."""

from __future__ import annotations

import json
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


def test_ignore_all_in_the_config_runs_no_rule_even_under_cli_select(write: Write) -> None:
    write("owners.csv", OWNERS)
    config = write("revops.yaml", CONFIG + "rules: {ignore: [ALL]}\n")
    code, doc = audit_json(config, "--select", "S")
    assert (code, doc["summary"]["rules_run"]) == (0, 0)
