"""The metric registry: every v1 metric key of METRICS.md §4 with its unit and family (D6).

A metric is a plain function `(ctx) -> MetricResult` registered with `@metric(key, unit)`; the
runner evaluates it for the period and for the comparison period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from revops_cli.results import MetricResult, Unit

if TYPE_CHECKING:
    from revops_cli.metrics.context import MetricContext

Compute = Callable[["MetricContext"], MetricResult]

FAMILIES = {
    "A": "recurring revenue",
    "B": "churn and retention",
    "C": "revenue",
    "D": "unit economics",
    "E": "sales and pipeline",
}

# The 79 keys of DECISIONS D6, in catalogue order, with their catalogue section.
ORDER: tuple[tuple[str, str], ...] = (
    ("mrr", "A1"), ("mrr_start", "A1"), ("arr", "A2"), ("arr_start", "A2"),
    ("new_mrr", "A3"), ("expansion_mrr", "A3"), ("contraction_mrr", "A3"), ("churned_mrr", "A3"),
    ("reactivation_mrr", "A3"), ("net_new_mrr", "A3"),
    ("customers_start", "A4"), ("customers", "A4"), ("new_customers", "A4"),
    ("reactivated_customers", "A4"), ("churned_customers", "A4"),
    ("mrr_growth_rate", "A5"), ("arr_growth_rate", "A5"), ("arpa", "A6"), ("asp_new_mrr", "A7"),
    ("customer_churn_rate", "B1"), ("customer_churn_rate_monthly", "B1"),
    ("gross_mrr_churn_rate", "B2"), ("net_mrr_churn_rate", "B2"),
    ("nrr", "B3"), ("grr", "B3"), ("nrr_ttm", "B3"), ("grr_ttm", "B3"),
    ("expansion_rate", "B4"), ("quick_ratio", "B5"),
    ("renewal_rate", "B6"), ("renewal_rate_amount", "B6"),
    ("revenue", "C1"), ("revenue_recurring", "C1"), ("revenue_non_recurring", "C1"),
    ("revenue_growth_rate", "C2"), ("revenue_growth_rate_yoy", "C2"),
    ("revenue_predictability", "C3"), ("gross_margin", "C4"), ("gross_profit", "C4"),
    ("marketing_spend", "D1"), ("sales_spend", "D1"), ("sm_spend", "D1"),
    ("marketing_spend_by_channel", "D1"), ("cost_per_lead", "D1"), ("marketing_spend_ratio", "D1"),
    ("cac", "D2"), ("cac_marketing", "D2"),
    ("ltv", "D3"), ("ltv_gm", "D3"), ("customer_lifetime_months", "D3"),
    ("ltv_to_cac", "D4"), ("cac_payback_months", "D5"), ("magic_number", "D6"),
    ("bookings", "E1"), ("bookings_new_business", "E1"), ("bookings_expansion", "E1"),
    ("bookings_renewal", "E1"), ("bookings_count", "E1"),
    ("win_rate", "E2"), ("win_rate_amount", "E2"), ("avg_deal_size", "E3"),
    ("sales_cycle_days", "E4"), ("sales_cycle_days_median", "E4"),
    ("pipeline_created_amount", "E5"), ("pipeline_created_count", "E5"),
    ("pipeline_velocity", "E6"), ("pipeline_velocity_period", "E6"),
    ("open_pipeline_amount", "E7"), ("weighted_pipeline_amount", "E7"),
    ("pipeline_coverage", "E7"), ("weighted_pipeline_coverage", "E7"),
    ("forecast_accuracy", "E8"), ("forecast_bias", "E8"), ("forecast_accuracy_wape", "E8"),
    ("leads_created", "E9"), ("lead_conversion_rate", "E9"), ("lead_to_customer_rate", "E9"),
    ("stage_conversion", "E10"),
    ("revenue_uncollectible", "C1"),
)  # fmt: skip
SECTION = dict(ORDER)
BREAKDOWN_SECTIONS = ("E1", "E2", "E3", "E4", "E9")  # CLI.md: --by breaks these down


@dataclass(frozen=True)
class Metric:
    """One metric key: how to compute it, its unit and where it sits in the catalogue."""

    key: str
    unit: Unit
    compute: Compute
    doc: str

    @property
    def section(self) -> str:
        return SECTION[self.key]

    @property
    def family(self) -> str:
        return FAMILIES[self.section[0]]

    @property
    def breakdown(self) -> bool:
        return self.section in BREAKDOWN_SECTIONS


METRICS: dict[str, Metric] = {}


def metric(key: str, unit: Unit) -> Callable[[Compute], Compute]:
    """Register the function computing `key`; refuses unknown and duplicate keys."""
    if key not in SECTION:
        raise ValueError(f"{key} is not a v1 metric key (DECISIONS D6)")

    def register(compute: Compute) -> Compute:
        if key in METRICS:
            raise ValueError(f"duplicate metric key {key}")
        METRICS[key] = Metric(key, unit, compute, compute.__doc__ or "")
        return compute

    return register


def ordered() -> list[Metric]:
    """The registered metrics in catalogue order."""
    return [METRICS[key] for key, _ in ORDER if key in METRICS]
