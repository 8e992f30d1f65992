"""`revops report --format md`: the page's content as Markdown, for Slack or a wiki.

The charts are left out; each one's data follows its title as a table. Every value is text: HTML
is escaped, so that a name such as `<script>` reads as text where Markdown passes HTML through,
and so is Markdown's own punctuation, so that a deal named `![x](http://...)` shows as written
instead of loading an image. Only the fix texts, written by revops with code spans, are kept.
"""

from __future__ import annotations

from revops_cli.report.audit import counted
from revops_cli.report.output import md_table, md_text
from revops_cli.report.page import Page


def render_report_md(page: Page) -> str:
    sources = ", ".join(
        f"{s.table} ({counted(s.rows, 'row')})" if s.loaded else f"{s.table} (not loaded)"
        for s in page.sources
    )
    parts = [
        f"# {md_text(page.title)}\n",
        f"- Config: {md_text(page.config)}\n- As of: {page.as_of}\n"
        f"- Currency: {md_text(page.currency)}\n- Period: {md_text(page.period)}\n"
        f"- Sources: {md_text(sources)}\n",
    ]
    if page.crashed:
        lines = "\n".join(f"- {md_text(line)}" for line in page.crashed)
        parts.append(f"**Some rules crashed (a bug; run `revops audit --debug`):**\n\n{lines}\n")
    kpis = [(k.label, k.value, k.previous, k.change, k.note) for k in page.kpis]
    parts.append(
        "## Headline\n\n"
        + md_table(("figure", "value", "previous", "change", "note"), kpis)
        + f"\n{md_text(page.audit_line)}\n"
    )
    for chart in page.charts:
        body = (
            md_table(chart.header, chart.rows)
            if chart.note is None
            else f"Not available: {md_text(chart.note)}\n"
        )
        parts.append(f"## {md_text(chart.title)}\n\n{body}")
    grades = [
        (g.table, g.grade, f"{g.rows:,}", f"{g.flagged:,}", g.share, "; ".join(g.worst))
        for g in page.grades
    ]
    parts.append(
        "## Data-quality grade by table\n\n"
        "Share of each table's records flagged: A under 5 %, B under 15 %, C under 30 %, "
        "D under 50 %, else F.\n\n"
        + md_table(("table", "grade", "records", "flagged", "share", "worst rules"), grades)
    )
    records = [
        (
            i,
            f"{r.table} {r.record_id}" + (f" ({r.name})" if r.name else ""),
            r.severity,
            r.at_risk,
            " / ".join(f"{x.code} {x.name}: {x.detail}".rstrip(": ") for x in r.issues),
            " / ".join(x.fix for x in r.issues),
        )
        for i, r in enumerate(page.records, start=1)
    ]
    parts.append(
        "## Records to fix first\n\nRanked by revenue at risk, then severity.\n\n"
        + md_table(
            ("#", "record", "severity", "at risk", "what is wrong", "what to do"),
            records,
            markdown=(5,),
        )
        if records
        else "## Records to fix first\n\nNo record is flagged."
    )
    for family in page.families:
        rows = [(m.label, m.value, m.previous, m.change) for m in family.rows]
        parts.append(
            f"## {md_text(family.name)}\n\n"
            + md_table(("metric", "value", "previous", "change"), rows)
        )
    if page.not_computed:
        parts.append(
            "## Not computed\n\n" + md_table(("metric", "status", "reason"), page.not_computed)
        )
    return "\n".join(parts)
