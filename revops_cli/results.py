"""Plain result records handed from the library to the renderers: severities, findings, reports."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

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
    # the formatted traceback of a crashed rule, for --debug (not part of any output document)
    traceback: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class BaselineResult:
    suppressed: int
    new: int
    resolved: tuple[tuple[str, str, str], ...]
    # the flagged records the baseline lists: reported as known (CLI.md `--baseline`)
    known: frozenset[tuple[str, str, str]] = frozenset()


Fingerprint = tuple[str, str, str]  # (code, table, record_id): a flagged record across runs

# the table of a skipped part, as a rule's reason names it (D30)
SKIPPED_PART = re.compile(r"missing_(?:table|column):([a-z_]+)")


def coverage(outcomes: Iterable[tuple[str, str, str | None]]) -> dict[str, frozenset[str]]:
    """For each rule that ran (status pass or fail) of (code, status, reason), the tables of its
    skipped parts (D30: the reason names them). A rule left out, skipped or crashed is absent."""
    return {
        code: frozenset(SKIPPED_PART.findall(reason or ""))
        for code, status, reason in outcomes
        if status in ("pass", "fail")
    }


def comparable(
    before: dict[str, frozenset[str]],
    now: dict[str, frozenset[str]],
    code: str,
    table: str,
    per_table: bool,
) -> bool:
    """Whether two runs of `coverage` checked the records of `table` alike with rule `code`: it
    ran in both, and (for a rule whose parts each check their own table, `per_table`) the table
    was skipped in neither, or (for any other rule) the same parts were skipped in both. D001
    without accounts does not look for dangling account ids, which it reports on deals: a rule
    whose parts differ tells neither what is new nor what was resolved."""
    if code not in before or code not in now:
        return False
    if per_table:
        return table not in before[code] and table not in now[code]
    return before[code] == now[code]


@dataclass(frozen=True)
class SincePrevious:
    """How this audit's flagged records compare with the previous audit in the run history.

    `previous_as_of` is None when the history holds no earlier audit: every record is then new.
    `new` holds the records the previous audit did not flag though it checked them alike,
    `recurring` those it flagged too; a record in neither was flagged by a rule that the previous
    audit did not run alike (left out, skipped, crashed), which tells neither. `resolved` lists the
    records flagged then, by a rule that ran now, and not flagged now.
    """

    previous_as_of: date | None
    new: frozenset[Fingerprint]
    resolved: tuple[Fingerprint, ...]
    recurring: frozenset[Fingerprint] = frozenset()

    def mark(self, fingerprint: Fingerprint) -> str | None:
        """`new`, `recurring`, or None when the previous audit did not check it alike."""
        if fingerprint in self.new:
            return "new"
        return "recurring" if fingerprint in self.recurring else None


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
    since_previous: SincePrevious | None = None  # set only when a run history is configured
    # the tables the config names: a record of a table left out of it cannot have been fixed
    configured: frozenset[str] = frozenset()

    def coverage(self) -> dict[str, frozenset[str]]:
        """The rules that ran, with the tables of their skipped parts (see `coverage`)."""
        return coverage((r.code, r.status.value, r.reason) for r in self.rules)


class Unit(StrEnum):
    """Units of METRICS.md §1.1 (DECISIONS D7: per-month and per-period money is `currency`)."""

    CURRENCY = "currency"
    FRACTION = "fraction"
    RATIO = "ratio"
    COUNT = "count"
    DAYS = "days"
    MONTHS = "months"
    CURRENCY_PER_DAY = "currency_per_day"


MetricScalar = float | int | None
# A metric's value: a number, or for stage_conversion a list of stage rows and for
# marketing_spend_by_channel a {channel: amount} mapping (DECISIONS D7).
MetricData = float | int | list[dict[str, Any]] | dict[str, float] | None


@dataclass(frozen=True)
class MetricResult:
    """One metric for one period: its value, or why there is none (METRICS.md §1.1-§1.2, D9)."""

    value: MetricData
    status: str = "ok"  # ok | null | unavailable
    reason: str | None = None
    warnings: tuple[str, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)


def change(value: MetricData, previous: MetricData, unit: Unit) -> tuple[float | None, str | None]:
    """The change from `previous` to `value` and its kind (D5): `pp` for fractions, `rel` (the
    change relative to the size of the previous value) otherwise. The kind depends on `previous`
    alone: None when it is null or 0; the change is None too without a current value."""
    if not isinstance(previous, int | float) or previous == 0:
        return None, None
    kind = "pp" if unit is Unit.FRACTION else "rel"
    if not isinstance(value, int | float):
        return None, kind
    if unit is Unit.FRACTION:
        return float(value - previous), kind
    return float((value - previous) / abs(previous)), kind


@dataclass(frozen=True)
class MetricValue:
    """A metric with its comparison: the JSON entry of DECISIONS D5."""

    key: str
    unit: Unit
    family: str
    current: MetricResult
    previous: MetricResult | None
    partial: bool

    @property
    def previous_value(self) -> MetricData:
        return self.previous.value if self.previous is not None else None

    @property
    def delta_kind(self) -> str | None:
        return change(self.current.value, self.previous_value, self.unit)[1]

    @property
    def delta(self) -> float | None:
        return change(self.current.value, self.previous_value, self.unit)[0]


@dataclass(frozen=True)
class PeriodSpan:
    label: str
    start: date
    end: date


@dataclass(frozen=True)
class BreakdownRow:
    key: str | None
    metrics: tuple[MetricValue, ...]


@dataclass(frozen=True)
class MetricsReport:
    """Everything `revops metrics` computed, before any rendering."""

    as_of: date
    currency: str
    period: PeriodSpan
    effective_end: date
    partial: bool
    previous: PeriodSpan | None
    compare: str  # previous | yoy | period_to_date | none
    metrics: tuple[MetricValue, ...]
    breakdown_by: str | None = None
    breakdown: tuple[BreakdownRow, ...] = ()
    fiscal_year_start_month: int = 1  # printed in the report header (METRICS §2.2)
