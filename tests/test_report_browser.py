"""The HTML report in a real browser: headless Chromium loads the sample report, offline, and takes
a screenshot at desktop and phone width without a console message. Run alone with
`python -m pytest -m browser`; skipped where no chromium binary is found."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revops_cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ["-c", str(ROOT / "config.example.yaml"), "--as-of", "2026-10-01", "--period", "2026-Q3"]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any host name fails to resolve
)
# Chromium logs every console message (errors, warnings, uncaught exceptions) as INFO:CONSOLE.
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?[:\]].*|Uncaught .*")


def chromium() -> str | None:
    found = os.environ.get("REVOPS_CHROMIUM") or shutil.which("chromium")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    return found


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium() is None, reason="no chromium binary (apt-get install chromium)"),
]


def screenshot(page: Path, png: Path, size: str, profile: Path) -> list[str]:
    """Load `page` and write a screenshot; the console messages Chromium logged."""
    binary = chromium()
    assert binary is not None
    command = [
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size}",
        f"--screenshot={png}",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return CONSOLE.findall(done.stderr)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "report.html"
    result = CliRunner().invoke(cli.app, ["report", *SAMPLE, "-o", str(path)])
    assert result.exit_code == 0, result.stderr
    return path


@pytest.mark.parametrize(("name", "size"), [("desktop", "1280,4000"), ("phone", "390,6000")])
def test_the_sample_report_renders_without_console_errors(
    sample_page: Path, tmp_path: Path, name: str, size: str
) -> None:
    png = tmp_path / f"report-{name}.png"
    assert screenshot(sample_page, png, size, tmp_path / "profile") == []
    assert png_size(png) == tuple(int(v) for v in size.split(","))
    assert png.stat().st_size > 50_000  # a page with charts, not a blank one
    keep = os.environ.get("REVOPS_SCREENSHOTS")
    if keep:  # e.g. REVOPS_SCREENSHOTS=/tmp to look at them
        shutil.copy(png, Path(keep) / png.name)


def test_the_check_sees_console_errors(tmp_path: Path) -> None:
    """The detector above is not blind: a page that logs an error fails it."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
        "<script>console.error('boom'); missing();</script></body></html>",
        encoding="utf-8",
    )
    messages = screenshot(page, tmp_path / "bad.png", "400,300", tmp_path / "profile")
    assert len(messages) == 2
    assert '"boom"' in messages[0]
    assert "Uncaught ReferenceError: missing is not defined" in messages[1]
