"""Run the selected rules and turn what they flag into findings, ranked by severity and money."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from revops_cli.checks.context import Collector, Context, Part, Skip
from revops_cli.checks.registry import RULES, Rule
from revops_cli.checks.slippage import NEEDS_HISTORY
from revops_cli.config import RulesConfig
from revops_cli.load.dataset import Dataset
from revops_cli.results import (
    AuditReport,
    Finding,
    RuleOutcome,
    RuleState,
    Sample,
    Severity,
)

SAMPLES = 5
WORKERS = 2  # rules run at a time
RECORD_COLUMNS = {
    "code": pl.String,
    "severity": pl.String,
    "table": pl.String,
    "record_id": pl.String,
    "detail": pl.String,
    "revenue_at_risk": pl.Float64,
}


def select_rules(
    select: Sequence[str] | None,
    ignore: Sequence[str],
    config_select: Sequence[str],
    config_ignore: Sequence[str],
) -> list[Rule]:
    """(CLI select, else config select) - config ignore - CLI ignore (DECISIONS D35)."""
    chosen = select if select else config_select

    def matches(code: str, tokens: Iterable[str]) -> bool:
        words = [t.strip().upper() for t in tokens]
        return any(w == "ALL" or (w and code.startswith(w)) for w in words)

    return [
        rule
        for code, rule in sorted(RULES.items())
        if matches(code, chosen) and not matches(code, config_ignore) and not matches(code, ignore)
    ]


def rule_settings(
    rule: Rule, settings: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], Severity | None]:
    """The rule's parameters with the config's overrides, and its severity override."""
    own = dict(settings.get(rule.code, {}))
    severity = own.pop("severity", None)
    return {**rule.params, **own}, Severity(severity) if severity else None


def run_rules(
    dataset: Dataset,
    rules: Sequence[Rule],
    samples: int = SAMPLES,
    on_rule: Callable[[Rule], None] | None = None,
    deal_history: pl.DataFrame | None = None,
) -> AuditReport:
    """Run `rules` over `dataset`; a rule that crashes is reported with status error.

    What the rules flag is gathered into one frame and turned into findings in one pass: per
    rule, that would cost a dozen polars calls per rule, most of the run on a small dataset.
    """
    ctx = Context(dataset, deal_history)
    settings = dataset.config.rules.settings
    outcomes: list[RuleOutcome] = []
    frames: list[pl.LazyFrame] = []
    checked: dict[tuple[str, str], int] = {}
    # Two rules run at a time: many polars string kernels use one core, so a second rule keeps
    # the other core busy. Each rule has its own Collector; what rules share (the Context's
    # cached frames) is computed once and only read after that. Results are taken in order.
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    try:
        chosen = [(rule, *rule_settings(rule, settings)) for rule in rules]
        running = [pool.submit(_check, ctx, rule, params) for rule, params, _ in chosen]
        for (rule, _, override), future in zip(chosen, running, strict=True):
            if on_rule is not None:
                on_rule(rule)
            outcome, parts = _outcome(rule, override, future.result())
            outcomes.append(outcome)
            for part in parts:
                key = (rule.code, part.table)
                checked[key] = max(checked.get(key, 0), part.checked)
                if not part.flagged.is_empty():
                    frames.append(_tagged(rule, part.table, part.flagged, override))
    finally:  # an interrupt must not wait for the rules not yet started
        pool.shutdown(cancel_futures=True)
    records = _records(frames)
    findings = _findings(records, {r.code: r for r in rules}, checked, samples)
    findings.sort(key=lambda f: (-f.severity.rank, -f.revenue_at_risk, -f.count, f.code, f.table))
    return AuditReport(
        as_of=dataset.as_of,
        currency=dataset.config.currency.base,
        rules=tuple(outcomes),
        findings=tuple(findings),
        records=records,
        configured=frozenset(dataset.loads),
    )


def _check(ctx: Context, rule: Rule, params: Mapping[str, Any]) -> Collector | BaseException:
    out = Collector(absent=lambda exc: ctx.ds.absent_column(exc, rule.tables))
    try:
        with out.part():
            rule.check(ctx, params, out)
    # a crashing rule must not stop the others (CHECKS.md); a panic inside polars is a
    # BaseException, not an Exception
    except (Exception, pl.exceptions.PanicException) as exc:
        return exc
    return out


def _outcome(
    rule: Rule, override: Severity | None, out: Collector | BaseException
) -> tuple[RuleOutcome, list[Part]]:
    """Whether the rule crashed, was skipped, passed or failed, and the parts it flagged."""
    severity = override or rule.severity
    if isinstance(out, BaseException):
        crash = f"{type(out).__name__}: {out}"
        trace = "".join(traceback.format_exception(out))
        return RuleOutcome(rule.code, rule.name, severity, RuleState.ERROR, crash, trace), []
    if not out.parts:
        reason = "; ".join(dict.fromkeys(out.skipped)) or None
        state = RuleState.SKIPPED if out.skipped else RuleState.PASS
        return RuleOutcome(rule.code, rule.name, severity, state, reason), []
    state = RuleState.FAIL if any(not p.flagged.is_empty() for p in out.parts) else RuleState.PASS
    skipped = ("skipped parts: " + "; ".join(dict.fromkeys(out.skipped))) if out.skipped else None
    return RuleOutcome(rule.code, rule.name, severity, state, skipped), out.parts


def _tagged(
    rule: Rule, table: str, flagged: pl.DataFrame, override: Severity | None
) -> pl.LazyFrame:
    """A part's flagged rows with the rule's code, the table and the severity of each row
    (lazy: the parts are collected in one query, not one each)."""
    severity = pl.lit((override or rule.severity).value)
    if override is None and "severity" in flagged.columns:
        severity = pl.col("severity")
    return flagged.lazy().select(
        pl.lit(rule.code).alias("code"),
        pl.lit(table).alias("table"),
        severity.alias("severity"),
        "record_id",
        "detail",
        "amount",
    )


def _records(frames: list[pl.LazyFrame]) -> pl.DataFrame:
    """One line per (rule, table, severity, record): RECORD_COLUMNS, in order of first flag."""
    if not frames:
        return pl.DataFrame(schema=RECORD_COLUMNS)
    return (
        _per_record(pl.concat(frames).collect())
        .with_columns(pl.col("detail").replace("", None), pl.col("revenue_at_risk").fill_null(0.0))
        .select(list(RECORD_COLUMNS))
    )


def _findings(
    records: pl.DataFrame,
    rules: Mapping[str, Rule],
    checked: Mapping[tuple[str, str], int],
    samples: int,
) -> list[Finding]:
    """One finding per (rule, table, severity) with distinct records (DECISIONS D3); its
    samples are the records with the most revenue at risk, then the smallest ids."""
    groups = records.group_by("code", "table", "severity", maintain_order=True).agg(
        pl.len().alias("count"),
        pl.col("revenue_at_risk").sum(),
        # a record without an id (a row whose key is empty) sorts first, as nulls do
        pl.struct("record_id", "detail", "revenue_at_risk")
        .bottom_k_by(
            ["revenue_at_risk", pl.col("record_id").fill_null("")],
            k=min(samples, records.height),  # polars takes k as a 32-bit count
            reverse=[True, False],
        )
        .alias("shown"),
    )
    findings: list[Finding] = []
    for code, table, severity, count, revenue, shown in groups.iter_rows():
        rule = rules[code]
        shown = sorted(shown, key=lambda s: (-s["revenue_at_risk"], s["record_id"] or ""))
        findings.append(
            Finding(
                code=code,
                name=rule.name,
                severity=Severity(severity),
                table=table,
                count=count,
                checked=max(checked.get((code, table), 0), count),
                revenue_at_risk=float(revenue),
                message=rule.message.format(n=count, table=table),
                samples=tuple(Sample(str(s["record_id"]), s["detail"]) for s in shown),
            )
        )
    return findings


SMALL = 10_000  # flagged rows up to which the plain group-by is the cheaper way


def _per_record(flagged: pl.DataFrame) -> pl.DataFrame:
    """One line per (code, table, severity, record), in order of first appearance: its details
    joined, its largest basis amount (CHECKS.md: the sum of the records' basis amounts, a
    negative amount, such as a credit, included as it is).

    Most records are flagged once. Only those whose key repeats (found by a hash of it, then
    grouped exactly) go through the group-by, which costs seconds on a million flagged rows.
    """
    keys = ("code", "table", "severity", "record_id")
    at_risk = pl.col("amount").fill_null(0.0)
    joined = pl.col("detail").drop_nulls().unique(maintain_order=True).str.join("; ")
    if flagged.height <= SMALL:  # a few polars calls fewer: most rules flag a handful of rows
        return flagged.group_by(keys, maintain_order=True).agg(
            joined, at_risk.max().alias("revenue_at_risk")
        )
    indexed = flagged.with_row_index("_i").with_columns(pl.struct(keys).hash().alias("_h"))
    ordered = indexed.get_column("_h").sort()  # sorting integers beats a group-by of them
    repeated = ordered.filter(ordered == ordered.shift(1))
    multi = pl.col("_h").is_in(repeated.implode())
    once = indexed.filter(~multi).select(
        "_i", *keys, pl.col("detail").cast(pl.String), at_risk.alias("revenue_at_risk")
    )
    grouped = (
        indexed.filter(multi)
        .group_by(keys)
        .agg(pl.col("_i").min(), joined, at_risk.max().alias("revenue_at_risk"))
        .select(once.columns)
    )
    return pl.concat([once, grouped]).sort("_i").drop("_i")


def chosen_rules(
    config: RulesConfig, select: Sequence[str] | None, ignore: Sequence[str], history: bool
) -> list[Rule]:
    """The rules the CLI and the config choose.

    Without run history the rules that need it are left out unless named by their code, so
    that the audit reports exactly the rules of version 1 (DECISIONS D20).
    """
    chosen = select_rules(select, ignore, config.select, config.ignore)
    if not history:
        named = {t.strip().upper() for t in (select or config.select)}
        chosen = [r for r in chosen if r.code not in NEEDS_HISTORY or r.code in named]
    return chosen


def select_and_run(
    dataset: Dataset,
    select: Sequence[str] | None,
    ignore: Sequence[str],
    samples: int = SAMPLES,
    on_rule: Callable[[Rule], None] | None = None,
    deal_history: pl.DataFrame | None = None,
) -> AuditReport:
    """The rules chosen by the CLI and the config (`chosen_rules`), run over `dataset`; the
    rules that need run history run only with `deal_history`."""
    chosen = chosen_rules(dataset.config.rules, select, ignore, deal_history is not None)
    return run_rules(dataset, chosen, samples, on_rule, deal_history)


__all__ = ["Skip", "chosen_rules", "run_rules", "select_and_run", "select_rules"]
