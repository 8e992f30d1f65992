"""Baselines: findings already known are reported as such and do not fail the run.

A fingerprint is (code, table, record_id). Note that `table:row N` ids of keyless tables change when
an export is re-ordered (DECISIONS D28), so their baseline entries do too.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from revops_cli.errors import InputError
from revops_cli.results import AuditReport, BaselineResult, Severity

BASELINE_VERSION = 1
Fingerprint = tuple[str, str, str]
FAIL_ON = ("error", "warning", "info", "never")


MAX_BASELINE_BYTES = 1 << 28  # 256 MiB: a baseline of four million findings


def read_baseline(path: Path) -> frozenset[Fingerprint]:
    """The fingerprints listed in a baseline file written by `--write-baseline`."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BASELINE_BYTES + 1)  # a device such as /dev/zero never ends
        if len(data) > MAX_BASELINE_BYTES:
            raise ValueError("too large")
        document = json.loads(data.decode("utf-8"))
        entries = document["entries"]
        return frozenset((str(e["code"]), str(e["table"]), str(e["record_id"])) for e in entries)
    except FileNotFoundError:
        raise InputError(
            f"{path}: baseline file not found", "write one with --write-baseline"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        raise InputError(
            f"{path}: is not a revops baseline file", "write one with --write-baseline"
        ) from None


def baseline_document(report: AuditReport) -> dict[str, Any]:
    """The current findings as a baseline: {schema_version, entries: [{code, table, record_id}]}."""
    records = (
        report.records.select("code", "table", "record_id")
        .unique()
        .sort(["code", "table", "record_id"])
    )
    return {"schema_version": BASELINE_VERSION, "entries": records.to_dicts()}


def apply_baseline(report: AuditReport, known: frozenset[Fingerprint]) -> AuditReport:
    """Mark which flagged records the baseline covers; list the entries that no longer occur."""
    current = report.records.select("code", "table", "record_id").unique()
    listed = pl.DataFrame(
        sorted(known),
        schema={"code": pl.String, "table": pl.String, "record_id": pl.String},
        orient="row",
    )
    covered = current.join(listed, on=["code", "table", "record_id"], how="semi")
    # an entry is resolved only when its rule checked its table and no longer flags it: the
    # rules left out (--select, --ignore), skipped or crashed, and the parts skipped for a
    # table that is not loaded (D30), say nothing about their entries
    cover = report.coverage()
    unchecked = pl.DataFrame(
        [(code, table) for code, tables in cover.items() for table in tables],
        schema={"code": pl.String, "table": pl.String},
        orient="row",
    )
    resolved = (
        listed.filter(pl.col("code").is_in(list(cover)))
        .join(unchecked, on=["code", "table"], how="anti")
        .join(current, on=["code", "table", "record_id"], how="anti")
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


def is_failing(report: AuditReport, fail_on: str) -> bool:
    """True when a record not covered by the baseline is flagged at or above `fail_on`."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    records = report.records
    if "known" in records.columns:
        records = records.filter(~pl.col("known"))
    ranks = {s.value: s.rank for s in Severity}
    return (
        bool(
            records.select(
                (pl.col("severity").replace_strict(ranks, return_dtype=pl.Int64) >= threshold).any()
            ).item()
        )
        if records.height
        else False
    )
