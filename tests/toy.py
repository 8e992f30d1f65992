"""The toy dataset of METRICS.md §3 (tests/fixtures/toy), loaded once per test session."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from revops_cli.config import load_config
from revops_cli.load.dataset import Dataset, load_dataset
from revops_cli.metrics import compute_metrics
from revops_cli.results import MetricsReport, MetricValue

TOY = Path(__file__).parent / "fixtures" / "toy"
AS_OF = date(2024, 10, 5)


@cache
def toy_dataset(as_of: date = AS_OF) -> Dataset:
    return load_dataset(load_config(TOY / "revops.yaml"), as_of)


@cache
def toy_report(period: str = "2024-Q3", compare: str = "previous") -> MetricsReport:
    return compute_metrics(toy_dataset(), period, compare)


def toy_metric(key: str, period: str = "2024-Q3") -> MetricValue:
    """One metric of the toy report."""
    return next(m for m in toy_report(period).metrics if m.key == key)
