"""The rule registry: every audit rule with its permanent code, name, severity, params and basis.

A rule is a plain function `(ctx, params, out) -> None` that adds the offending rows of each table
it checks to `out` (see context.py); the runner turns them into findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from revops_cli.results import Severity

if TYPE_CHECKING:
    from revops_cli.checks.context import Collector, Context

Params = Mapping[str, Any]
Check = Callable[["Context", Params, "Collector"], None]

# The money a rule's revenue at risk sums (CHECKS.md "Money"); a rule may say it more precisely,
# as the "at risk" column of CHECKS.md does ("arr of the smaller")
BASES = ("pipeline", "arr", "invoice", "abs difference", "-", "0")


@dataclass(frozen=True)
class Rule:
    """One audit rule (CHECKS.md "Rules of version 1")."""

    code: str
    name: str
    severity: Severity
    tables: tuple[str, ...]
    basis: str
    params: dict[str, Any]
    check: Check
    message: str  # "{n} {table} ..." with {n} the count and {table} the table name
    doc: str = field(default="")
    severity_note: str = ""  # where the severity differs from the default (S005: deal stages)

    @property
    def title(self) -> str:
        """The first line of the rule's docstring."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name

    @property
    def family(self) -> str:
        return self.code[0]


RULES: dict[str, Rule] = {}
FAMILY_ORDER = "SVTIOLADUBRF"  # the order of CHECKS.md's families

# Rules of several tables whose parts each check one table and report on it alone (the owners of
# O002 are needed by every part; its other reads only price the records): a part skipped for a
# table that is not loaded hides only that table's records. The other rules of several tables
# (A001, D001, I*, R*, U003, U005, and O001 and O003, whose accounts part reads the open deals)
# report on one table from others, so a skipped part hides records of a table that did load.
PER_TABLE_PARTS = frozenset(
    {"S001", "S002", "S003", "S004", "S005", "S006", "T001", "T002", "T003"}
    | {"V001", "V003", "V005", "V006", "O002"}
)


def per_table(code: str) -> bool:
    """Whether a skipped part of rule `code` hides only the records of its own table: the rules
    of PER_TABLE_PARTS and every rule of one table (a part skipped there skips the rule)."""
    found = RULES.get(code)
    return code in PER_TABLE_PARTS or (found is not None and len(found.tables) == 1)


def without_basis() -> frozenset[str]:
    """The rules with no basis amount (CHECKS.md's at risk `-`). Their records' 0 is no amount:
    a record's largest basis amount, which the summary counts, is among the other rules' only
    (a deal of -500 flagged by D001 and D006 counts -500, as by D001 alone)."""
    return frozenset(code for code, rule in RULES.items() if rule.basis == "-")


def basis_amount() -> pl.Expr:
    """A flagged record's `revenue_at_risk` as a basis amount: null for the rules without one
    (`without_basis`). Its max over a record's lines, nulls filled with 0, is what the record
    counts once in the summary."""
    return pl.when(~pl.col("code").is_in(sorted(without_basis()))).then("revenue_at_risk")


def catalogue() -> list[Rule]:
    """Every rule in CHECKS.md's order: by family, then by code."""
    return sorted(RULES.values(), key=lambda r: (FAMILY_ORDER.index(r.family), r.code))


def rule(
    code: str,
    name: str,
    severity: Severity,
    tables: tuple[str, ...],
    message: str,
    basis: str = "-",
    severity_note: str = "",
    **params: Any,
) -> Callable[[Check], Check]:
    """Register a rule; refuses a code or name that is already taken."""
    if not basis.startswith(BASES):
        raise ValueError(f"{code}: unknown basis {basis!r}")

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"duplicate rule code {code}")
        if any(r.name == name for r in RULES.values()):
            raise ValueError(f"duplicate rule name {name}")
        doc = check.__doc__ or ""
        RULES[code] = Rule(
            code, name, severity, tables, basis, dict(params), check, message, doc, severity_note
        )
        return check

    return register
