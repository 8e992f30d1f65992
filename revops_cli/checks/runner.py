"""Run the selected rules and turn what they flag into findings, ranked by severity and money."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip
from revops_cli.checks.registry import RULES, Rule
from revops_cli.checks.slippage import NEEDS_HISTORY
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
        return any(t.upper() == "ALL" or code.startswith(t.upper()) for t in tokens)

    return [
        rule
        for code, rule in sorted(RULES.items())
        if matches(code, chosen)
        and not matches(code, [t for t in config_ignore if t.upper() != "ALL"])
        and not matches(code, [t for t in ignore if t.upper() != "ALL"])
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
    """Run `rules` over `dataset`; a rule that crashes is reported with status error."""
    ctx = Context(dataset, deal_history)
    outcomes: list[RuleOutcome] = []
    findings: list[Finding] = []
    records: list[pl.DataFrame] = []
    for rule in rules:
        if on_rule is not None:
            on_rule(rule)
        params, override = rule_settings(rule, dataset.config.rules.settings)
        severity = override or rule.severity
        out = Collector()
        try:
            with out.part():
                rule.check(ctx, params, out)
        # a crashing rule must not stop the others (CHECKS.md); a panic inside polars is a
        # BaseException, not an Exception
        except (Exception, pl.exceptions.PanicException) as exc:
            outcomes.append(
                RuleOutcome(
                    rule.code, rule.name, severity, RuleState.ERROR, f"{type(exc).__name__}: {exc}"
                )
            )
            continue
        if not out.parts:
            reason = "; ".join(dict.fromkeys(out.skipped)) or None
            state = RuleState.SKIPPED if out.skipped else RuleState.PASS
            outcomes.append(RuleOutcome(rule.code, rule.name, severity, state, reason))
            continue
        rule_findings, rule_records = _findings(rule, out, override, samples)
        findings.extend(rule_findings)
        records.append(rule_records)
        state = RuleState.FAIL if rule_findings else RuleState.PASS
        reason = (
            ("skipped parts: " + "; ".join(dict.fromkeys(out.skipped))) if out.skipped else None
        )
        outcomes.append(RuleOutcome(rule.code, rule.name, severity, state, reason))
    findings.sort(key=lambda f: (-f.severity.rank, -f.revenue_at_risk, -f.count, f.code, f.table))
    frame = pl.concat(records) if records else pl.DataFrame(schema=RECORD_COLUMNS)
    return AuditReport(
        as_of=dataset.as_of,
        currency=dataset.config.currency.base,
        rules=tuple(outcomes),
        findings=tuple(findings),
        records=frame,
    )


def _findings(
    rule: Rule, out: Collector, override: Severity | None, samples: int
) -> tuple[list[Finding], pl.DataFrame]:
    """One finding per (table, severity) with distinct records (DECISIONS D3)."""
    findings: list[Finding] = []
    frames: list[pl.DataFrame] = []
    checked: dict[str, int] = {}
    for part in out.parts:
        checked[part.table] = max(checked.get(part.table, 0), part.checked)
        flagged = part.flagged
        if "severity" not in flagged.columns:
            flagged = flagged.with_columns(pl.lit(rule.severity.value).alias("severity"))
        if override is not None:
            flagged = flagged.with_columns(pl.lit(override.value).alias("severity"))
        frames.append(flagged.with_columns(pl.lit(part.table).alias("table")))
    per_record = _per_record(pl.concat(frames)).with_columns(
        pl.col("detail").replace("", None),
        pl.col("revenue_at_risk").fill_null(0.0),
        pl.lit(rule.code).alias("code"),
    )
    for (table, severity), group in per_record.group_by("table", "severity", maintain_order=True):
        table, severity = str(table), Severity(str(severity))
        count = group.height
        shown = group.sort(["revenue_at_risk", "record_id"], descending=[True, False]).head(samples)
        findings.append(
            Finding(
                code=rule.code,
                name=rule.name,
                severity=severity,
                table=table,
                count=count,
                checked=max(checked.get(table, 0), count),
                revenue_at_risk=float(group["revenue_at_risk"].sum()),
                message=rule.message.format(n=count, table=table),
                samples=tuple(
                    Sample(str(r), d)
                    for r, d in zip(shown["record_id"], shown["detail"], strict=True)
                ),
            )
        )
    return findings, per_record.select(list(RECORD_COLUMNS))


SMALL = 10_000  # flagged rows up to which the plain group-by is the cheaper way


def _per_record(flagged: pl.DataFrame) -> pl.DataFrame:
    """One line per (table, severity, record), in order of first appearance: its details joined,
    its largest basis amount (a credit or negative amount puts nothing at risk).

    Most records are flagged once. Only those whose triple repeats (found by a hash of it, then
    grouped exactly) go through the group-by, which costs seconds on a million flagged rows.
    """
    keys = ("table", "severity", "record_id")
    at_risk = pl.col("amount").fill_null(0.0).clip(lower_bound=0.0)
    joined = pl.col("detail").drop_nulls().unique(maintain_order=True).str.join("; ")
    if flagged.height <= SMALL:  # a few polars calls fewer: most rules flag a handful of rows
        return flagged.group_by(keys, maintain_order=True).agg(
            joined, at_risk.max().alias("revenue_at_risk")
        )
    indexed = flagged.with_row_index("_i").with_columns(pl.struct(keys).hash().alias("_h"))
    repeated = indexed.group_by("_h").len().filter(pl.col("len") > 1)["_h"]
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


def select_and_run(
    dataset: Dataset,
    select: Sequence[str] | None,
    ignore: Sequence[str],
    samples: int = SAMPLES,
    on_rule: Callable[[Rule], None] | None = None,
    deal_history: pl.DataFrame | None = None,
) -> AuditReport:
    """The rules chosen by the CLI and the config, run over `dataset`.

    Without run history (`deal_history` None) the rules that need it are left out unless named
    by their code, so that the audit reports exactly the rules of version 1 (DECISIONS D20).
    """
    rules_config = dataset.config.rules
    chosen = select_rules(select, ignore, rules_config.select, rules_config.ignore)
    if deal_history is None:
        named = {t.strip().upper() for t in (select or rules_config.select)}
        chosen = [r for r in chosen if r.code not in NEEDS_HISTORY or r.code in named]
    return run_rules(dataset, chosen, samples, on_rule, deal_history)


__all__ = ["Skip", "run_rules", "select_and_run", "select_rules"]
