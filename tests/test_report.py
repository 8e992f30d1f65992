"""`revops report`: the HTML page and its Markdown twin, from one audit and one metrics run."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from toy import TOY, toy_dataset, toy_metric
from typer.testing import CliRunner

from revops_cli import cli
from revops_cli.checks import RULES
from revops_cli.errors import InputError
from revops_cli.metrics.series import month_ends, monthly_mrr
from revops_cli.report import output
from revops_cli.report.chart_data import ChartData
from revops_cli.report.charts import clean_svg, compact_money, render_chart
from revops_cli.report.metrics import display, display_change
from revops_cli.report.quality import grade, shown_share
from revops_cli.results import Unit

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ["-c", str(ROOT / "config.example.yaml"), "--as-of", "2026-10-01", "--period", "2026-Q3"]
CHARTS = ("waterfall", "trend", "funnel", "owners", "families", "risk")
SCRIPT = "<script>alert(1)</script>"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "report.html"
    code, out, err = invoke("report", *SAMPLE, "-o", str(path))
    assert (code, out, err) == (0, "", "")  # exit 0 although the sample has error findings
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_md() -> str:
    code, out, _ = invoke("report", *SAMPLE, "--format", "md")
    assert code == 0
    return out


@pytest.fixture(scope="module")
def sample_metrics() -> dict[str, Any]:
    code, out, _ = invoke("metrics", *SAMPLE, "--format", "json")
    assert code == 0
    document: dict[str, Any] = json.loads(out)
    return document


def shown_values(document: dict[str, Any]) -> Iterator[str]:
    """Every value, previous value and change of `metrics --format json`, as the renderer shows
    them (one per element of the list and map metrics)."""
    currency = document["currency"]
    for key, entry in document["metrics"].items():
        unit, value, previous = Unit(entry["unit"]), entry["value"], entry["previous"]
        if value is None:
            continue
        if isinstance(value, list):  # stage_conversion
            before = {(r["from_stage"], r["to_stage"]): r["rate"] for r in previous or []}
            pairs = [(r["rate"], before.get((r["from_stage"], r["to_stage"]))) for r in value]
        elif isinstance(value, dict):  # marketing_spend_by_channel
            pairs = [(v, (previous or {}).get(k)) for k, v in value.items()]
        else:
            pairs = [(value, previous)]
        assert pairs, key
        for current, earlier in pairs:
            yield display(current, unit, currency)
            yield display(earlier, unit, currency)
            if change := display_change(current, earlier, unit):
                yield change


def test_the_page_shows_every_value_of_metrics_json(
    sample_html: str, sample_metrics: dict[str, Any]
) -> None:
    values = list(shown_values(sample_metrics))
    assert len(values) > 200
    missing = [v for v in values if escape(v) not in sample_html]
    assert missing == []
    for key in sample_metrics["metrics"]:
        assert f"<td>{key}" in sample_html, key  # computed or in the "not computed" table


def test_the_markdown_shows_every_value_of_metrics_json(
    sample_md: str, sample_metrics: dict[str, Any]
) -> None:
    assert [v for v in shown_values(sample_metrics) if escape(v) not in sample_md] == []
    for title in ("# RevOps report 2026-Q3", "## Headline", "## Records to fix first"):
        assert title in sample_md
    assert "## MRR movements of the period" in sample_md
    assert "| end | $331,175.32 |" in sample_md  # the waterfall's data as a table
    assert "<svg" not in sample_md


def test_every_chart_is_inline_svg(sample_html: str) -> None:
    assert sample_html.count("<svg") == len(CHARTS)
    for kind in CHARTS:
        figure = re.search(rf'<figure class="chart" id="{kind}">(.*?)</figure>', sample_html, re.S)
        assert figure is not None, kind
        assert '<svg viewBox="' in figure.group(1)
        assert 'role="img"' in figure.group(1)


def test_nothing_refers_to_the_network(sample_html: str) -> None:
    lowered = sample_html.lower()
    assert "http://" not in lowered
    assert "https://" not in lowered
    assert "//" not in re.sub(r"<!--.*?-->", "", lowered).replace("://", "")  # no //host URL
    for reference in ("<script", '<link rel="stylesheet', "@import", "<img", "<iframe", "src="):
        assert reference not in lowered
    assert re.findall(r"url\((?!#)", lowered) == []  # only in-page references such as url(#id)
    assert '<link rel="icon" href="data:,">' in sample_html  # no favicon request either


def test_the_page_is_small_responsive_and_printable(sample_html: str) -> None:
    assert len(sample_html.encode("utf-8")) < 2_000_000
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in sample_html
    assert "@media (max-width: 600px)" in sample_html
    assert "@media print" in sample_html


def test_the_header_names_config_period_as_of_and_sources(sample_html: str) -> None:
    assert "config.example.yaml" in sample_html
    assert "2026-Q3 → 2026-07-01..2026-09-30" in sample_html
    assert "compared with 2026-Q2 (2026-04-01..2026-06-30, previous)" in sample_html
    assert "<strong>As of:</strong> 2026-10-01" in sample_html
    assert "deals: 286 rows" in sample_html
    assert "invoices: 1,021 rows" in sample_html


def test_headline_shows_the_audit_summary(sample_html: str) -> None:
    code, out, _ = invoke("audit", *SAMPLE[:4], "--format", "json", "--fail-on", "never")
    summary = json.loads(out)["summary"]
    assert code == 0
    assert f'<div class="value">{summary["findings"]:,}</div>' in sample_html
    at_risk = display(summary["revenue_at_risk"], Unit.CURRENCY, "USD")
    assert f'<div class="value">{at_risk}</div>' in sample_html
    for label in ("ARR", "Net new MRR", "NRR", "GRR", "Win rate", "LTV:CAC", "Forecast accuracy"):
        assert f'<div class="label">{label}</div>' in sample_html


def test_grades_and_records_to_fix(sample_html: str) -> None:
    grades = re.findall(r"<td>(\w+)</td>\s*<td><span class=\"grade grade-([A-F])\">", sample_html)
    assert len(grades) == 10  # one per loaded table
    assert ("owners", "C") in grades  # 2 of 12 flagged: 16.67 %
    records = re.search(r'<section class="records">(.*?)</section>', sample_html, re.S)
    assert records is not None
    at_risk = [float(v.replace(",", "")) for v in re.findall(r"\$([\d,]+\.\d\d)</td>", records[1])]
    assert len(at_risk) == 15
    assert at_risk == sorted(at_risk, reverse=True)
    assert "D004 deal-stuck-in-stage" in records[1]
    assert "<code>per_stage: {&#34;Contract Sent&#34;: 60}</code>" in records[1]  # the fix text


@pytest.mark.parametrize(
    ("share", "letter"),
    [(0.0, "A"), (0.0499, "A"), (0.05, "B"), (0.1499, "B"), (0.15, "C"), (0.3, "D"), (0.5, "F")],
)
def test_grade_thresholds(share: float, letter: str) -> None:
    assert grade(share) == letter


# --- output and exit codes -----------------------------------------------------------------------


def toy(*args: str, period: str = "2024-Q3") -> tuple[int, str, str]:
    """`revops report` of the METRICS.md toy data (fast), with more options."""
    common = ["-c", str(TOY / "revops.yaml"), "--as-of", "2024-10-05"]
    return invoke("report", *common, *(("-p", period) if period else ()), *args)


@pytest.mark.parametrize(
    ("count", "rows", "shown"),
    [(57, 100, "57.00 %"), (1, 22, "4.54 %"), (4_998, 100_000, "4.99 %"), (0, 5, "0.00 %")],
)
def test_shares_are_shown_rounded_down(count: int, rows: int, shown: str) -> None:
    # 57 of 100 read 56.99 % when the float 0.57 x 10,000 was floored
    assert shown_share(count, rows) == shown


def test_stdout_without_output() -> None:
    code, out, _ = toy()
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    assert out.rstrip().endswith("</html>")


def test_output_is_written_atomically_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.chdir(folder)
    writes: list[Path] = []
    real = output.write_atomic

    def spy(path: Path, text: str) -> None:
        writes.append(path)
        real(path, text)

    monkeypatch.setattr(output, "write_atomic", spy)
    assert toy("-o", "r.md", "-f", "md") == (0, "", "")
    assert writes == [Path("r.md")]
    assert [p.name for p in folder.iterdir()] == ["r.md"]
    assert (folder / "r.md").read_text(encoding="utf-8").startswith("# RevOps report 2024-Q3")


def test_the_html_report_leaves_no_matplotlib_cache_behind(tmp_path: Path) -> None:
    # matplotlib wrote ~/.cache/matplotlib and made ~/.config/matplotlib: outside --output
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    env.update(HOME=str(home), TMPDIR=str(scratch), XDG_CACHE_HOME="", XDG_CONFIG_HOME="")
    argv = [sys.executable, "-m", "revops_cli", "report", "-c", str(TOY / "revops.yaml")]
    argv += ["--as-of", "2024-10-05", "-p", "2024-Q3", "-q", "-o", str(tmp_path / "r.html")]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert list(home.iterdir()) == []
    assert list(scratch.iterdir()) == []  # the run's own matplotlib folder is gone too


def test_output_follows_a_link_and_writes_a_pipe_in_place(tmp_path: Path) -> None:
    # renaming a temporary file onto the path would replace a link with a file, and a device or
    # a named pipe (`-o /dev/null` as root replaced /dev/null itself)
    target = tmp_path / "target.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    output.write_atomic(link, "one\n")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "one\n"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()), daemon=True)
    reader.start()
    output.write_atomic(pipe, "two\n")
    reader.join(timeout=10)
    assert received == ["two\n"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    with pytest.raises(InputError, match="is a folder"):
        output.write_atomic(tmp_path, "three\n")


@pytest.mark.parametrize(
    ("period", "args", "message"),
    [
        ("2024-Q5", (), "error: --period: '2024-Q5' is not a period"),
        ("2024-Q3", ("-o", "/nonexistent/r.html"), "error: /nonexistent/r.html: the output folder"),
        ("2024-Q3", ("-c", "/nonexistent.yaml"), "error: /nonexistent.yaml"),
    ],
)
def test_setup_problems_are_exit_2(period: str, args: tuple[str, ...], message: str) -> None:
    code, out, err = toy(*args, period=period)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


def test_a_bug_is_exit_3_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from revops_cli.report import page

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(page, "build_page", boom)
    code, _, err = toy()
    assert code == 3
    assert err.startswith("internal error: RuntimeError: boom (this is a bug; run again with ")
    assert len(err.strip().splitlines()) == 1


def test_a_crashing_rule_is_shown_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: object) -> None:
        raise RuntimeError("rule bug")

    monkeypatch.setitem(RULES, "S006", replace(RULES["S006"], check=crash))
    code, out, _ = toy("-f", "md")
    assert code == 3  # D2: the whole report, then exit 3
    assert "S006 empty-table: RuntimeError: rule bug" in out


def test_compare_none_has_no_previous_values() -> None:
    code, out, _ = toy("-f", "md", "--compare", "none")
    assert code == 0
    assert "| mrr | $730.00 | - |  |" in out
    assert "compared with" not in out


# --- escaping ------------------------------------------------------------------------------------


def toy_named(
    write: Callable[[str, str | bytes], Path], owner: str, deals: Sequence[str] = ()
) -> Path:
    """The toy data with owner O1 named `owner`, a name for every deal, and `deals` rows added
    (deal_id, ..., owner_id, name); its config."""
    for source in TOY.iterdir():
        write(source.name, source.read_text(encoding="utf-8"))
    owners = (TOY / "owners.csv").read_text(encoding="utf-8")
    write("owners.csv", owners.replace("Alice Example", owner))
    lines = (TOY / "deals.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",name", *(f"{line},Deal {i}" for i, line in enumerate(lines[1:]))]
    write("deals.csv", "\n".join([*rows, *deals]) + "\n")
    return write("revops.yaml", (TOY / "revops.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def hostile(write: Callable[[str, str | bytes], Path]) -> Path:
    """The toy data with an owner and a deal named like HTML, the deal past due (D002)."""
    deal = f'D9,new_business,open,9000,USD,2024-06-01,2024-09-01,50,O1,"{SCRIPT}"'
    return toy_named(write, f"{SCRIPT} $5 & co", [deal])


def test_names_holding_html_are_escaped_everywhere(hostile: Path) -> None:
    base = ["report", "-c", str(hostile), "--as-of", "2024-10-05", "-p", "2024-Q3"]
    code, html, _ = invoke(*base)
    assert code == 0
    assert "<script" not in html.lower()
    owners_svg = re.search(
        r'<figure class="chart" id="owners">\s*<h3>[^<]*</h3>\s*(<svg.*?</svg>)', html, re.S
    )
    assert owners_svg is not None
    # in the chart (matplotlib's SVG text; "$" is not mathtext) and in its data table
    assert "&lt;script&gt;alert(1)&lt;/script&gt; $5 &amp; co (O1)</text>" in owners_svg[1]
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt; $5 &amp; co (O1)</td>" in html
    assert "D9</code><br>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in html  # records to fix
    code, md, _ = invoke(*base, "-f", "md")
    assert code == 0
    assert "<script" not in md.lower()
    assert "deals D9 (&lt;script&gt;alert(1)&lt;/script&gt;)" in md


def test_markdown_shows_names_as_written_never_as_markup(
    write: Callable[[str, str | bytes], Path],
) -> None:
    # a deal named like a remote image, an owner like a link, a name with a carriage return:
    # escaped, they stay text (no image is loaded, the table row stays one row)
    deals = [
        'D9,new_business,open,9000,USD,2024-06-01,2024-09-01,50,O1,"![p](http://e/p.png)"',
        'D8,new_business,open,800,USD,2024-06-01,2024-09-02,50,O1,"two\rlines"',
    ]
    config = toy_named(write, "[o2](https://evil.example/x) *a*", deals)
    base = ["report", "-c", str(config), "--as-of", "2024-10-05", "-p", "2024-Q3", "-f", "md"]
    code, md, _ = invoke(*base)
    assert code == 0
    assert "deals D9 (\\!\\[p\\](http://e/p.png))" in md
    assert "| \\[o2\\](https://evil.example/x) \\*a\\* (O1) |" in md
    assert "deals D8 (two lines)" in md and "\r" not in md
    assert "| mrr_start |" in md  # an underscore inside a word starts nothing: left bare


def test_a_long_or_unusual_owner_name_prints_no_warning_and_is_cut_in_the_chart(
    write: Callable[[str, str | bytes], Path],
) -> None:
    # matplotlib warned on stderr (a glyph missing from its font, no room for the bars) even
    # with -q; the chart now shows 39 characters and an ellipsis, the table the whole name
    name = "日本語" + "y" * 300
    config = toy_named(write, name)
    code, html, err = invoke(
        "report", "-q", "-c", str(config), "--as-of", "2024-10-05", "-p", "2024-Q3"
    )
    assert (code, err) == (0, "")
    owners_svg = re.search(r'<figure class="chart" id="owners">.*?</svg>', html, re.S)
    assert owners_svg is not None
    assert f">{name[:39]}…</text>" in owners_svg[0]
    assert f"<td>{name} (O1)</td>" in html


def test_a_table_that_did_not_load_is_listed_and_graded_f(
    write: Callable[[str, str | bytes], Path],
) -> None:
    # deals holds only its header (S006) and subscriptions one row: the grade table and the
    # sources named subscriptions alone, graded A, while an error sat on deals
    write("deals.csv", "deal_id,status,amount,close_date\n")
    write(
        "subs.csv",
        "subscription_id,customer_id,status,amount,interval,start_date,end_date\n"
        "S1,C1,active,100,month,2024-01-01,\n",
    )
    config = write(
        "revops.yaml",
        "version: 1\nsources:\n  deals: {path: deals.csv}\n  subscriptions: {path: subs.csv}\n",
    )
    code, md, _ = invoke(
        "report", "-c", str(config), "--as-of", "2024-10-05", "-p", "2024-Q3", "-f", "md"
    )
    assert code == 0
    assert "- Sources: deals (not loaded), subscriptions (1 row)" in md
    assert "| deals | F | 0 | 0 | - | S006 empty-table: 1 |" in md  # no record: no share
    assert "| subscriptions | A | 1 | 0 | 0.00 % |  |" in md


def test_records_to_fix_rank_by_the_largest_basis_amount(
    write: Callable[[str, str | bytes], Path],
) -> None:
    # d1 (-500) and d2 (0) are orphans (D001, pipeline) with a bad amount (D006, no basis): d1
    # is at risk -500, its D001 amount, not D006's 0, so it ranks after d2, as in the headline
    write(
        "deals.csv",
        "deal_id,account_id,status,amount,close_date,name\n"
        "d1,,open,-500,2026-12-01,Alpha\nd2,,open,0,2026-12-01,Beta\n",
    )
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    code, md, _ = invoke(
        "report", "-c", str(config), "--as-of", "2026-10-01", "-p", "2026-Q3", "-f", "md"
    )
    assert code == 0
    assert "| 1 | deals d2 (Beta) | error | $0.00 |" in md
    assert "| 3 | deals d1 (Alpha) | error | -$500.00 |" in md  # after S003 on account_id


def test_a_global_format_the_report_cannot_write_is_a_usage_error() -> None:
    # `revops --format json report` wrote HTML and exited 0; after the command it was exit 2
    code, out, err = invoke("--format", "json", "report", *SAMPLE)
    assert (code, out) == (2, "")
    assert "'json' is not one of 'html', 'md'" in err


# --- the parts ------------------------------------------------------------------------------------


def test_month_ends() -> None:
    assert month_ends(date(2026, 9, 30), 3) == (
        date(2026, 7, 31),
        date(2026, 8, 31),
        date(2026, 9, 30),
    )
    assert month_ends(date(2024, 3, 15), 2) == (date(2024, 2, 29), date(2024, 3, 15))
    assert month_ends(date(1, 1, 20), 12) == (date(1, 1, 20),)


def test_the_series_ends_on_the_mrr_and_customers_metrics() -> None:
    series = monthly_mrr(toy_dataset(), date(2024, 9, 30))
    assert len(series.points) == 12
    assert series.points[0].day == date(2023, 10, 31)
    last, before = series.points[-1], series.points[-4]
    assert last.mrr == toy_metric("mrr").current.value
    assert last.customers == toy_metric("customers").current.value
    assert before.mrr == toy_metric("mrr_start").current.value  # 2024-06-30 = O


def test_a_chart_without_data_says_why(write: Callable[[str, str | bytes], Path]) -> None:
    write("deals.csv", "deal_id,amount\nD1,5\n")
    config = write("revops.yaml", "version: 1\nsources:\n  deals: {path: deals.csv}\n")
    code, out, _ = invoke("report", "-c", str(config), "--as-of", "2024-10-05", "-p", "2024-Q3")
    assert code == 0
    assert "<svg" not in out
    assert re.findall(r"Not available: ([^<]*)", out) == [
        "mrr_start: missing_table:subscriptions",
        "missing_table:subscriptions",
        "stage_conversion: missing_column:deals.close_date",
        "no owner_id on deals or leads",
        "no finding",
        "no revenue at risk",
    ]


def test_charts_are_deterministic_and_namespaced() -> None:
    chart = ChartData(
        "risk",
        "Revenue at risk by rule",
        ("R001 a", "D002 <b>&"),
        {"revenue at risk": (2000.0, 500.0)},
        {"revenue at risk": ("$2,000.00", "$500.00")},
    )
    svg = render_chart(chart, "$")
    assert svg == render_chart(chart, "$")
    assert svg.startswith('<svg viewBox="')
    assert "xmlns" not in svg and "<metadata" not in svg and "http" not in svg
    assert "D002 &lt;b&gt;&amp;</text>" in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("chart-risk-") for i in ids)
    refs = re.findall(r'(?:url\(#|href="#)([^)"]+)', svg)
    assert set(refs) <= set(ids)


def test_clean_svg_keeps_the_drawing() -> None:
    raw = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="10pt" height="5pt" viewBox="0 0 10 5" xmlns="http://www.w3.org/2000/svg" '
        'version="1.1">\n <metadata>x</metadata>\n <g id="a" clip-path="url(#p1)">'
        '<use xlink:href="#m1"/></g>\n</svg>\n'
    )
    assert clean_svg(raw, "c", 'A "title"') == (
        '<svg viewBox="0 0 10 5" role="img" aria-label="A &quot;title&quot;">'
        '<g id="c-a" clip-path="url(#c-p1)"><use xlink:href="#c-m1"/></g>\n</svg>\n'
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "$0"), (950, "$950"), (1500, "$1.5k"), (331175.32, "$331k"), (-2.5e6, "-$2.5M")],
)
def test_compact_money(value: float, shown: str) -> None:
    assert compact_money(value, "$") == shown


def test_the_template_ships_with_the_package() -> None:
    template = resources.files("revops_cli.report") / "templates" / "report.html.j2"
    assert template.is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"report/templates/*.j2"' in pyproject  # package data of the wheel


def test_json_has_no_infinity_or_nan() -> None:
    # JSON has no Infinity or NaN: a reader refuses a document that holds them
    document = {"a": float("inf"), "b": [float("nan"), 1.5], "c": {"d": -float("inf")}}
    assert json.loads(output.to_json(document)) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


def test_records_to_fix_compare_amounts_in_cents_and_shares_round_down(
    write: Callable[[str, str | bytes], Path],
) -> None:
    # A1: 32,400 USD with an unmapped stage (S005, error). B2: 30,000 EUR at 1.08, which is
    # 32,400.000000000004 once converted, past due (D002, warning). Shown alike, the error
    # ranks first. 1 of the 22 leads is flagged: 4.5454 % is shown rounded down, 4.54 %, so
    # that a share just under a grade's limit never reads as the limit.
    write(
        "deals.csv",
        "deal_id,stage,amount,currency,created_at,close_date,last_activity_at\n"
        "A1,Legal Review,32400,USD,2024-09-01,2024-12-20,2024-10-04\n"
        "B2,Prospect,30000,EUR,2024-09-01,2024-09-30,2024-10-04\n",
    )
    leads = "lead_id,email,status,created_at,last_activity_at\n" + "".join(
        f"L{i},l{i}@acme.example,working,2024-09-01,2024-10-04\n" for i in range(21)
    )
    write("leads.csv", leads + "L21,test@acme.example,working,2024-09-01,2024-10-04\n")
    config = write(
        "revops.yaml",
        "version: 1\ncurrency: {base: USD, rates: {EUR: 1.08}}\nsources:\n"
        "  deals:\n    path: deals.csv\n"
        "    values: {status: {won: [Closed Won], lost: [Closed Lost], open: [Prospect]}}\n"
        "  leads: {path: leads.csv}\n",
    )
    code, md, err = invoke(
        "report", "-c", str(config), "--as-of", "2024-10-05", "-p", "2024-Q3", "-f", "md"
    )
    assert code == 0, err
    ranked = [line.split(" | ")[1:3] for line in md.splitlines() if line.startswith("| 1 |")]
    ranked += [line.split(" | ")[1:3] for line in md.splitlines() if line.startswith("| 2 |")]
    assert ranked == [["deals A1", "error"], ["deals B2", "warning"]]
    assert "| leads | A | 22 | 1 | 4.54 % |" in md
