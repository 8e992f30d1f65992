"""`revops report` as one self-contained HTML page: a jinja2 template with autoescaping, inline CSS
and the charts as inline SVG. Nothing on the page refers to the network."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from revops_cli import __version__
from revops_cli.report.page import Page, currency_symbol

TEMPLATE = "report.html.j2"


def render_report_html(page: Page) -> str:
    """The page; every value is escaped by the template, the SVG by matplotlib."""
    _private_matplotlib_folder()
    from revops_cli.report.charts import render_chart  # matplotlib: after its folder is set

    environment = Environment(
        loader=PackageLoader("revops_cli.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["code_spans"] = code_spans
    symbol = currency_symbol(page.currency)
    # matplotlib writes the SVG and escapes its text; Markup keeps jinja2 from escaping it again
    charts = {
        chart.kind: Markup(render_chart(chart, symbol))
        for chart in page.charts
        if chart.note is None
    }
    return environment.get_template(TEMPLATE).render(page=page, charts=charts, version=__version__)


def code_spans(text: str) -> Markup:
    """Escaped text whose `backtick` spans (config keys in the rules' fix texts) become <code>."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _private_matplotlib_folder() -> None:
    """matplotlib makes ~/.config/matplotlib and writes a font cache to ~/.cache/matplotlib when it
    loads. A run writes nothing but what it is asked to, so unless MPLCONFIGDIR names a folder,
    matplotlib gets a temporary one, removed when the run ends (rebuilding the cache costs about
    0.3 s)."""
    if "MPLCONFIGDIR" in os.environ or "matplotlib" in sys.modules:
        return
    try:
        folder = tempfile.mkdtemp(prefix="revops-matplotlib-")
    except OSError:
        return  # no temporary folder: matplotlib falls back as it would
    os.environ["MPLCONFIGDIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
