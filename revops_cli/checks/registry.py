"""The rule registry: every audit rule with its permanent code, name, severity, params and basis.

A rule is a plain function `(ctx, params, out) -> None` that adds the offending rows of each table
it checks to `out` (see context.py); the runner turns them into findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from revops_cli.results import Severity

if TYPE_CHECKING:
    from revops_cli.checks.context import Collector, Context

Params = Mapping[str, Any]
Check = Callable[["Context", Params, "Collector"], None]

BASES = ("pipeline", "arr", "invoice", "extra_rows", "-")


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

    @property
    def title(self) -> str:
        """The first line of the rule's docstring."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name

    @property
    def family(self) -> str:
        return self.code[0]


RULES: dict[str, Rule] = {}
FAMILY_ORDER = "SVTIOLADUBRF"  # the order of CHECKS.md's families


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
    **params: Any,
) -> Callable[[Check], Check]:
    """Register a rule; refuses a code or name that is already taken."""
    if basis not in BASES:
        raise ValueError(f"{code}: unknown basis {basis!r}")

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"duplicate rule code {code}")
        if any(r.name == name for r in RULES.values()):
            raise ValueError(f"duplicate rule name {name}")
        RULES[code] = Rule(
            code, name, severity, tables, basis, dict(params), check, message, check.__doc__ or ""
        )
        return check

    return register
