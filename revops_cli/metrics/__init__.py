"""Revenue metrics of METRICS.md: registered by family, computed per period by the runner."""

from __future__ import annotations

# Importing a family module registers its metrics.
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

__all__ = ["METRICS", "ORDER", "Metric", "compute_metrics", "ordered"]
