"""The report's charts as inline SVG, drawn with matplotlib's SVG backend: no browser, no network.

Text stays text (`svg.fonttype: none`), so the page stays small and searchable, and matplotlib
escapes it as XML. Output is deterministic: a fixed hash salt, no date, and element ids prefixed per
chart so that several charts can share one HTML page. The XML prolog, the RDF metadata and the
namespace declarations are dropped: inline SVG in HTML5 needs none of them, and they are URLs.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from revops_cli.report.chart_data import ChartData

BLUE, GREEN, RED, AMBER, GREY, TEAL = (
    "#2f6fb0",
    "#2e9e6a",
    "#d1495b",
    "#e0a030",
    "#9aa5b1",
    "#5bb0c9",
)
SEVERITY_COLORS = {"error": RED, "warning": AMBER, "info": TEAL}
STYLE: dict[Any, Any] = {  # rcParams keys; matplotlib types them as a Literal of every key
    "svg.fonttype": "none",
    "svg.hashsalt": "revops-report",
    "text.parse_math": False,  # a "$" in a name is text, not mathtext
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GREY,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e4e7eb",
    "xtick.color": "#52606d",
    "ytick.color": "#52606d",
    "legend.frameon": False,
}
WIDTH = 6.0  # inches; the page scales the SVG to its column (about 500 px on a desktop)


LABEL_CHARACTERS = 40  # a longer name is cut in the chart; its table shows it whole
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def render_chart(chart: ChartData, symbol: str) -> str:
    """The chart as an `<svg>` element for an HTML page.

    Labels are cut to LABEL_CHARACTERS and control characters become spaces: a name of hundreds
    of characters left no room for the bars. matplotlib's warnings (a glyph missing from the
    font, a layout that does not fit) are not printed: a scheduled run's output is the report.
    """
    draw = DRAWINGS[chart.kind]
    chart = replace(chart, labels=tuple(_label(label) for label in chart.labels))
    with matplotlib.rc_context(STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure = Figure(figsize=(WIDTH, _height(chart)), layout="constrained")
        draw(figure, chart, symbol)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return clean_svg(buffer.getvalue(), f"chart-{chart.kind}", chart.title)


def _label(text: str) -> str:
    text = CONTROL.sub(" ", text)
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


def _height(chart: ChartData) -> float:
    if chart.kind in ("waterfall", "trend", "findings_trend", "metric_trend"):
        return 3.0
    return 0.8 + 0.28 * max(len(chart.labels), 3)


def clean_svg(text: str, prefix: str, title: str) -> str:
    """matplotlib's SVG document as an inline element: no prolog, metadata, namespaces or fixed
    size, ids made unique to the chart, and a title for screen readers."""
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r"\s*<defs>\s*<style[^>]*>.*?</style>\s*</defs>", "", text, flags=re.DOTALL)
    head, _, body = text.partition(">")
    head = re.sub(r'\s(?:xmlns(?::\w+)?|width|height|version)="[^"]*"', "", head)
    body = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', body)
    body = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", body)
    body = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', body)
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return f'{head} role="img" aria-label="{label}">{body.strip()}\n'


# --- axis helpers --------------------------------------------------------------------------------


def compact_money(value: float, symbol: str) -> str:
    """$1.2M, $350k, $900: axis ticks, not figures (the tables carry the exact values)."""
    sign, size = ("-" if value < 0 else ""), abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{sign}{symbol}{size / limit:.3g}{suffix}"
    return f"{sign}{symbol}{size:.0f}"


def _money_axis(axis: Axes, symbol: str, which: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _pos: compact_money(v, symbol))
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def _numbers(values: Sequence[float | None]) -> list[float]:
    return [v or 0.0 for v in values]


def _bar_labels(axis: Axes, bars: BarContainer, labels: Sequence[str]) -> None:
    axis.bar_label(bars, labels=list(labels), padding=3, fontsize=8, color="#323f4b")


# --- the drawings --------------------------------------------------------------------------------


def _waterfall(figure: Figure, chart: ChartData, symbol: str) -> None:
    """Opening and closing MRR as full bars, each movement floating from the running total."""
    axis = figure.add_subplot()
    amounts = _numbers(chart.values["MRR"])
    bottoms, heights, colors = [], [], []
    running = 0.0
    last = len(amounts) - 1
    for i, amount in enumerate(amounts):
        if i in (0, last):
            bottoms.append(0.0)
            heights.append(amount)
            colors.append(BLUE)
            running = amount
            continue
        bottoms.append(running if amount >= 0 else running + amount)
        heights.append(abs(amount))
        colors.append(GREEN if amount >= 0 else RED)
        running += amount
    bars = axis.bar(chart.labels, heights, bottom=bottoms, color=colors, width=0.6)
    _bar_labels(axis, bars, chart.shown["MRR"])
    _money_axis(axis, symbol)
    axis.grid(axis="x", visible=False)
    # the movements are small next to the balances: start the axis below the lowest level
    lowest = min(min(bottoms[1:-1], default=0.0), heights[0], heights[-1])
    highest = max(b + h for b, h in zip(bottoms, heights, strict=True))
    if lowest > 0:
        axis.set_ylim(bottom=max(0.0, lowest - (highest - lowest)), top=highest * 1.05)


def _trend(figure: Figure, chart: ChartData, symbol: str) -> None:
    """MRR as a line (left axis) over the paying customers as bars (right axis)."""
    axis = figure.add_subplot()
    months = [date.fromisoformat(label).strftime("%b %y") for label in chart.labels]
    counts = axis.twinx()
    counts.bar(months, _numbers(chart.values["customers"]), color="#d9e2ec", width=0.6)
    counts.set_ylabel("customers", color="#52606d")
    counts.grid(visible=False)
    counts.spines["right"].set_visible(True)
    axis.set_zorder(counts.get_zorder() + 1)
    axis.patch.set_visible(False)
    mrr = _numbers(chart.values["MRR"])
    axis.plot(months, mrr, color=BLUE, marker="o", linewidth=2, markersize=4)
    axis.annotate(
        chart.shown["MRR"][-1],
        (len(mrr) - 1, mrr[-1]),
        textcoords="offset points",
        xytext=(0, 8),
        ha="right",
        fontsize=8,
        color=BLUE,
    )
    axis.set_ylim(bottom=0, top=max(mrr or [1.0]) * 1.15 or 1.0)
    _money_axis(axis, symbol)
    axis.set_ylabel("MRR", color=BLUE)
    axis.tick_params(axis="x", labelrotation=45)


def _funnel(figure: Figure, chart: ChartData, _symbol: str) -> None:
    """Deals that reached each stage, first stage on top, with the rate from the stage before."""
    axis = figure.add_subplot()
    reached = _numbers(chart.values["deals"])
    bars = axis.barh(chart.labels, reached, color=BLUE, height=0.6)
    labels = [
        f"{n}  ({rate} of previous)" if rate else n
        for n, rate in zip(chart.shown["deals"], chart.shown["conversion"], strict=True)
    ]
    _bar_labels(axis, bars, labels)
    axis.invert_yaxis()
    axis.margins(x=0.35)
    axis.set_xlabel("deals")
    axis.grid(axis="y", visible=False)


def _owners(figure: Figure, chart: ChartData, symbol: str) -> None:
    """Bookings (left) and win rate (right) per owner, sharing the owner axis."""
    money, rate = figure.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    bars = money.barh(chart.labels, _numbers(chart.values["bookings"]), color=BLUE, height=0.6)
    _bar_labels(money, bars, chart.shown["bookings"])
    _money_axis(money, symbol, which="x")
    money.margins(x=0.3)
    money.invert_yaxis()
    money.set_title("Bookings")
    rates = _numbers(chart.values["win rate"])
    bars = rate.barh(chart.labels, rates, color=GREEN, height=0.6)
    _bar_labels(rate, bars, chart.shown["win rate"])
    rate.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    rate.set_xlim(0, 1.35)
    rate.set_title("Win rate")
    for axis in (money, rate):
        axis.grid(axis="y", visible=False)


def _families(figure: Figure, chart: ChartData, _symbol: str) -> None:
    """Flagged records per rule family, stacked by severity."""
    axis = figure.add_subplot()
    left = [0.0] * len(chart.labels)
    for severity, values in chart.values.items():
        counts = _numbers(values)
        total = sum(counts)
        axis.barh(
            chart.labels,
            counts,
            left=left,
            height=0.6,
            color=SEVERITY_COLORS.get(severity, GREY),
            label=f"{severity} ({total:,.0f})",
        )
        left = [a + b for a, b in zip(left, counts, strict=True)]
    for y, total in enumerate(left):
        axis.annotate(
            f"{total:,.0f}",
            (total, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axis.invert_yaxis()
    axis.margins(x=0.1)
    axis.set_xlabel("findings")
    axis.grid(axis="y", visible=False)
    axis.legend(loc="lower right")


def _risk(figure: Figure, chart: ChartData, symbol: str) -> None:
    """Revenue at risk per rule, largest first."""
    axis = figure.add_subplot()
    values = chart.values["revenue at risk"]
    bars = axis.barh(chart.labels, _numbers(values), color=RED, height=0.6)
    _bar_labels(axis, bars, chart.shown["revenue at risk"])
    _money_axis(axis, symbol, which="x")
    axis.invert_yaxis()
    axis.margins(x=0.3)
    axis.grid(axis="y", visible=False)


def _run_axis(axis: Axes, labels: Sequence[str]) -> None:
    """One tick per run or period: positions, not categories, so that equal labels stay apart."""
    axis.set_xticks(range(len(labels)), labels=list(labels), rotation=45, ha="right")
    axis.grid(axis="x", visible=False)


def _findings_trend(figure: Figure, chart: ChartData, _symbol: str) -> None:
    """Flagged records of each stored audit, stacked by severity; the last bar is this run."""
    axis = figure.add_subplot()
    positions = list(range(len(chart.labels)))
    bottom = [0.0] * len(positions)
    for severity, values in chart.values.items():
        counts = _numbers(values)
        axis.bar(
            positions,
            counts,
            bottom=bottom,
            width=0.6,
            color=SEVERITY_COLORS.get(severity, GREY),
            label=severity,
        )
        bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
    _run_axis(axis, chart.labels)
    axis.set_ylabel("findings")
    axis.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3)  # above the bars


def _metric_trend(figure: Figure, chart: ChartData, symbol: str) -> None:
    """One metric per stored period as a line (periods without a value are left out)."""
    axis = figure.add_subplot()
    ((name, values),) = chart.values.items()
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    axis.plot(
        [i for i, _ in points],
        [v for _, v in points],
        color=BLUE,
        marker="o",
        linewidth=2,
        markersize=4,
    )
    last = points[-1][0]
    axis.annotate(
        chart.shown[name][last],
        points[-1],
        textcoords="offset points",
        xytext=(0, 8),
        ha="right",
        fontsize=8,
        color=BLUE,
    )
    _run_axis(axis, chart.labels)
    axis.set_ylim(bottom=0, top=max(v for _, v in points) * 1.15 or 1.0)
    _money_axis(axis, symbol)
    axis.set_ylabel(name, color=BLUE)


DRAWINGS: dict[str, Callable[[Figure, ChartData, str], None]] = {
    "waterfall": _waterfall,
    "trend": _trend,
    "funnel": _funnel,
    "owners": _owners,
    "families": _families,
    "risk": _risk,
    "findings_trend": _findings_trend,
    "metric_trend": _metric_trend,
}
