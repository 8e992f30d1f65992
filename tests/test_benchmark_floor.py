"""benchmarks/floor.py: the benchmark's floor counts the typed cells that did not type."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _floor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("floor", ROOT / "benchmarks" / "floor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_floor_counts_failed_typed_cells(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        "deals.csv",
        """
        deal_id,stage,amount,close_date,created_at
        D1,Won,100.5,2024-03-01,2024-01-01T10:00:00
        D2,TBD,TBD,2024-13-01,2024-01-02T10:00:00
        D3,,,,
        D4,Open,7,2024-04-01,n/a
        """,
    )
    config = write("revops.yaml", "sources:\n  deals:\n    path: deals.csv\n")
    floor = _floor()
    # TBD (amount), 2024-13-01 (close_date), n/a (created_at); the empty cells and the text
    # column `stage` are not failures
    assert floor.main([str(config)]) == 0
    assert capsys.readouterr().out == "3\n"
    assert floor.main([str(config), "--skip", "deals.amount", "--skip=deals.created_at"]) == 0
    assert capsys.readouterr().out == "1\n"
