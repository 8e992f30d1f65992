"""The one-way layering of STYLE.md: a module never imports a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "revops_cli"

# Lower number = lower layer. A module may import its own layer or any lower one.
LAYERS = {
    "errors": 0,
    "schema": 0,
    "results": 0,
    "periods": 0,
    "formats": 0,
    "allocator": 0,
    "frames": 0,
    "presets": 1,
    "config": 1,
    "load": 2,
    "checks": 3,
    "metrics": 3,
    "history": 4,
    "report": 5,
    "cli": 6,
    "__main__": 7,
    "__init__": 7,
}
UI_LIBRARIES = {"rich": ("report", "cli"), "typer": ("cli",)}


def _layer_of(module: str) -> str:
    return module.split(".")[0]


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found.append((".".join(parts), path))
    return found


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v))
def test_no_upward_import(module: str, path: Path) -> None:
    own = LAYERS[_layer_of(module)]
    for name in _imports(path):
        if name.startswith("revops_cli."):
            target = _layer_of(name.removeprefix("revops_cli."))
            assert LAYERS[target] <= own, f"{module} imports {name}: a higher layer"
        top = name.split(".")[0]
        if top in UI_LIBRARIES:
            assert _layer_of(module) in UI_LIBRARIES[top], f"{module} imports {top}"


def test_every_module_has_a_layer() -> None:
    assert {_layer_of(m) for m, _ in _modules()} <= set(LAYERS)


def test_the_walk_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from revops_cli.cli import app\nimport revops_cli.report.output\n")
    assert _imports(bad) == ["revops_cli.cli", "revops_cli.report.output"]
