"""The allocator settings reach polars' jemalloc in a real run, and the user's own still win."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars  # noqa: F401  (loaded, as in most test processes)
import pytest

from revops_cli.allocator import ENV, SETTINGS, tune_allocator

ROOT = Path(__file__).resolve().parent.parent


def test_the_users_options_come_last_so_they_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "polars")  # as in a fresh process
    environ = {ENV: "dirty_decay_ms:0,"}
    tune_allocator(environ)
    assert environ[ENV] == (
        "narenas:1,oversize_threshold:0,muzzy_decay_ms:0,dirty_decay_ms:3000,dirty_decay_ms:0"
    )
    fresh: dict[str, str] = {}
    tune_allocator(fresh)
    assert fresh == {ENV: SETTINGS}


def test_nothing_changes_once_polars_is_loaded() -> None:
    environ = {ENV: "narenas:4"}
    tune_allocator(environ)
    assert environ == {ENV: "narenas:4"}


def _jemalloc_options(tmp_path: Path, own: str) -> str:
    """jemalloc's own report of its options at the end of a real audit run (stats_print)."""
    env = dict(os.environ, **{ENV: own})
    output = tmp_path / "a.json"
    command = ["audit", "-c", "config.example.yaml", "--as-of", "2026-10-01", "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-m", "revops_cli", *command, "-o", str(output), "--fail-on", "never"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert output.stat().st_size > 0
    return done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="polars allocates with jemalloc on Linux")
def test_a_run_sets_the_options_before_polars_loads(tmp_path: Path) -> None:
    report = _jemalloc_options(tmp_path, "stats_print:true")
    if "opt.narenas" not in report:  # another allocator: the settings do not apply
        pytest.skip("this polars build does not allocate with jemalloc")
    assert "opt.narenas: 1\n" in report
    assert "opt.oversize_threshold: 0\n" in report
    assert "opt.dirty_decay_ms: 3000 " in report
    assert "opt.muzzy_decay_ms: 0 " in report
    own = _jemalloc_options(tmp_path, "stats_print:true,dirty_decay_ms:700")
    assert "opt.dirty_decay_ms: 700 " in own
    assert "opt.narenas: 1\n" in own
