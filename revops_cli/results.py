"""Plain result records handed from the library to the renderers: severities, findings, reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import polars as pl


class Severity(StrEnum):
    """How bad a finding is; `rank` orders them (error first)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class RuleState(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class Sample:
    """One flagged record shown as an example."""

    record_id: str
    detail: str | None


@dataclass(frozen=True)
class Finding:
    """What one rule found in one table at one severity (DECISIONS D3)."""

    code: str
    name: str
    severity: Severity
    table: str
    count: int  # distinct flagged records
    checked: int  # records the rule looked at
    revenue_at_risk: float
    message: str
    samples: tuple[Sample, ...]

    @property
    def ratio(self) -> float:
        return self.count / self.checked if self.checked else 0.0


@dataclass(frozen=True)
class RuleOutcome:
    """Whether a selected rule passed, failed, was skipped or crashed, and why."""

    code: str
    name: str
    severity: Severity
    status: RuleState
    reason: str | None = None


@dataclass(frozen=True)
class BaselineResult:
    suppressed: int
    new: int
    resolved: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class AuditReport:
    """Everything `revops audit` found, before any rendering."""

    as_of: date
    currency: str
    rules: tuple[RuleOutcome, ...]
    findings: tuple[Finding, ...]  # ordered: severity, revenue at risk, count
    # one row per flagged record: code, severity, table, record_id, detail, revenue_at_risk
    records: pl.DataFrame
    baseline: BaselineResult | None = None
