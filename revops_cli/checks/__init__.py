"""The audit: rules registered by family, run by the runner over a Dataset."""

from __future__ import annotations

# Importing a family module registers its rules.
from revops_cli.checks import (  # noqa: F401
    accounts,
    billing,
    dates,
    deals,
    duplicates,
    forecasts,
    leads,
    links,
    owners,
    reconcile,
    slippage,
    structure,
    validity,
)
from revops_cli.checks.registry import RULES, Rule
from revops_cli.checks.runner import run_rules, select_and_run, select_rules


def rule_catalog() -> dict[str, dict[str, object]]:
    """Every rule code with its parameters and their defaults (for config validation)."""
    return {code: dict(rule.params) for code, rule in RULES.items()}


__all__ = ["RULES", "Rule", "rule_catalog", "run_rules", "select_and_run", "select_rules"]
