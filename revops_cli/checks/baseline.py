"""Baselines: findings already known are reported as such and do not fail the run.

A fingerprint is (code, table, record_id). Note that `table:row N` ids of keyless tables change when
an export is re-ordered (DECISIONS D28), so their baseline entries do too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from revops_cli.checks.registry import per_table
from revops_cli.errors import InputError
from revops_cli.results import AuditReport, BaselineResult, Finding, Severity, comparable

BASELINE_VERSION = 1
Fingerprint = tuple[str, str, str]
FAIL_ON = ("error", "warning", "info", "never")


MAX_BASELINE_BYTES = 1 << 28  # 256 MiB: a baseline of four million findings


@dataclass(frozen=True)
class Baseline:
    """A baseline file: its fingerprints, and what the audit that wrote it checked (for each rule
    that ran, the tables of its skipped parts; None in a file written before revops kept it)."""

    entries: frozenset[Fingerprint]
    coverage: dict[str, frozenset[str]] | None = None


def read_baseline(path: Path) -> Baseline:
    """The fingerprints listed in a baseline file written by `--write-baseline`."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BASELINE_BYTES + 1)  # a device such as /dev/zero never ends
        if len(data) > MAX_BASELINE_BYTES:
            raise ValueError("too large")
        document = json.loads(data.decode("utf-8"))
        entries = document["entries"]
        listed = frozenset((str(e["code"]), str(e["table"]), str(e["record_id"])) for e in entries)
        ran = document.get("rules")
        if ran is None:
            return Baseline(listed)
        if not all(isinstance(tables, list) for tables in ran.values()):
            raise ValueError("rules: each value is a list of tables")
        return Baseline(listed, {str(c): frozenset(map(str, t)) for c, t in ran.items()})
    except FileNotFoundError:
        raise InputError(
            f"{path}: baseline file not found", "write one with --write-baseline"
        ) from None
    except (
        OSError,
        UnicodeDecodeError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
    ):
        raise InputError(
            f"{path}: is not a revops baseline file", "write one with --write-baseline"
        ) from None


def baseline_document(report: AuditReport) -> dict[str, Any]:
    """The current findings as a baseline: {schema_version, entries: [{code, table, record_id}]}
    (D34), and `rules`: each rule that ran, with the tables of its skipped parts, so that a later
    run resolves an entry only when its rule checked the same."""
    records = (
        report.records.select("code", "table", "record_id")
        .unique()
        .sort(["code", "table", "record_id"])
    )
    ran = {code: sorted(skipped) for code, skipped in sorted(report.coverage().items())}
    return {"schema_version": BASELINE_VERSION, "entries": records.to_dicts(), "rules": ran}


def apply_baseline(report: AuditReport, baseline: Baseline) -> AuditReport:
    """Mark which flagged records the baseline covers; list the entries that no longer occur."""
    known = baseline.entries
    current = report.records.select("code", "table", "record_id").unique()
    listed = pl.DataFrame(
        sorted(known),
        schema={"code": pl.String, "table": pl.String, "record_id": pl.String},
        orient="row",
    )
    covered = current.join(listed, on=["code", "table", "record_id"], how="semi")
    # an entry is resolved only when its rule checked the same as in the audit that wrote the
    # baseline and no longer flags it: a rule left out (--select, --ignore), skipped or crashed,
    # or run with other parts skipped (D30: D001 without accounts does not look for dangling
    # ids, which it reports on deals) says nothing about its entries. A baseline written before
    # revops kept what it checked is compared rule by rule: the rule ran, its table not skipped.
    cover = report.coverage()
    if baseline.coverage is not None:
        before = baseline.coverage
        pairs = listed.select("code", "table").unique().rows()
        alike = [(c, t) for c, t in pairs if comparable(before, cover, c, t, per_table(c))]
        frame = pl.DataFrame(alike, schema={"code": pl.String, "table": pl.String}, orient="row")
        resolvable = listed.join(frame, on=["code", "table"], how="semi")
    else:
        skipped = pl.DataFrame(
            [(code, table) for code, tables in cover.items() for table in tables],
            schema={"code": pl.String, "table": pl.String},
            orient="row",
        )
        resolvable = listed.filter(pl.col("code").is_in(list(cover))).join(
            skipped, on=["code", "table"], how="anti"
        )
    # a record of a table the config no longer names was not fixed (S001, S002 and S006 report
    # on each configured table and have no part for the others)
    resolved = resolvable.filter(pl.col("table").is_in(list(report.configured))).join(
        current, on=["code", "table", "record_id"], how="anti"
    )
    result = BaselineResult(
        suppressed=covered.height,
        new=current.height - covered.height,
        resolved=tuple(resolved.sort(["code", "table", "record_id"]).iter_rows()),
        known=frozenset(covered.iter_rows()),
    )
    records = report.records.join(
        listed.with_columns(pl.lit(True).alias("known")),
        on=["code", "table", "record_id"],
        how="left",
    ).with_columns(pl.col("known").fill_null(False))
    return replace(report, baseline=result, records=records)


def failing(report: AuditReport, fail_on: str) -> tuple[Finding, ...]:
    """The findings with a record that the baseline does not cover at or above `fail_on`: the
    ones that fail the run (exit 1)."""
    if fail_on == "never":
        return ()
    records = _failing_records(report, fail_on)
    keys = set(records.select("code", "table", "severity").unique().rows())
    return tuple(f for f in report.findings if (f.code, f.table, f.severity.value) in keys)


def is_failing(report: AuditReport, fail_on: str) -> bool:
    """True when a record not covered by the baseline is flagged at or above `fail_on`."""
    if fail_on == "never":
        return False
    return not _failing_records(report, fail_on).is_empty()


def _failing_records(report: AuditReport, fail_on: str) -> pl.DataFrame:
    records = report.records
    if "known" in records.columns:
        records = records.filter(~pl.col("known"))
    ranks = {s.value: s.rank for s in Severity}
    rank = pl.col("severity").replace_strict(ranks, return_dtype=pl.Int64)
    return records.filter(rank >= Severity(fail_on).rank)
