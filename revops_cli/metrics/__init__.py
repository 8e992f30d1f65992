"""Revenue metrics of METRICS.md: registered by family, computed per period by the runner."""

from __future__ import annotations

# Importing a family module registers its metrics.
from revops_cli.config import Config
from revops_cli.metrics import (  # noqa: F401
    finance,
    forecasting,
    funnel,
    recurring,
    retention,
    sales,
    unit_economics,
)
from revops_cli.metrics.registry import METRICS, ORDER, Metric, ordered
from revops_cli.metrics.runner import compute_metrics

# Mapped columns that no metric reads: `revops metrics` neither parses nor types them. A test
# computes every metric of the sample and toy data with and without them and compares.
UNREAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "owners": ("name", "email"),
    "accounts": ("name", "domain", "industry", "country", "created_at", "lifecycle_stage"),
    "leads": ("email", "first_name", "last_name", "company", "last_activity_at"),
    "deals": ("name", "last_activity_at", "forecast_category", "lead_id"),
    "customers": ("email", "name", "created_at"),
    "subscriptions": ("plan",),
    "invoices": ("paid_at",),
}


def unread_columns(config: Config) -> dict[str, tuple[str, ...]]:
    """UNREAD_COLUMNS, plus the stage history's `entered_at` unless deals close on it (§1.7):
    the stage funnel (E10) reads only which stages a deal entered."""
    if config.metrics.deals.close_date_source == "stage_history":
        return UNREAD_COLUMNS
    return {**UNREAD_COLUMNS, "deal_stage_history": ("entered_at",)}


__all__ = [
    "METRICS",
    "ORDER",
    "UNREAD_COLUMNS",
    "Metric",
    "compute_metrics",
    "ordered",
    "unread_columns",
]
