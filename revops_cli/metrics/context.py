"""What a metric sees: the dataset, one evaluated period window, and the results of other metrics.

Frames that several metrics share (customer MRR at the grid dates, deals closed in the period) are
built once per run through `shared`, whatever number of metrics and windows use them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import date, timedelta
from typing import Any, Literal, TypeVar

import polars as pl

from revops_cli.load.dataset import Dataset
from revops_cli.metrics.registry import METRICS
from revops_cli.periods import FiscalCalendar, Period, Window, evaluate
from revops_cli.results import MetricData, MetricResult

T = TypeVar("T")
UNAVAILABLE_PREFIXES = ("missing_table", "missing_column", "missing_input")


class Unavailable(Exception):
    """A metric cannot be computed: a table, column or input is missing (METRICS §1.2, D9)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def no_fx_reason(rows: dict[str, int]) -> str:
    """D9's `no_fx_rate:<CUR>` when every input row lacks a rate: one currency, the one with the
    most rows (ties: the first in alphabetical order), whichever metric reports it."""
    return "no_fx_rate:" + min(rows, key=lambda currency: (-rows[currency], currency))


def ok(
    value: MetricData, inputs: dict[str, Any] | None = None, warnings: tuple[str, ...] = ()
) -> MetricResult:
    """A computed value."""
    return MetricResult(value, "ok", None, warnings, inputs or {})


def null(
    reason: str, inputs: dict[str, Any] | None = None, warnings: tuple[str, ...] = ()
) -> MetricResult:
    """No value: `unavailable` for missing tables, columns and inputs, else `null` (D9)."""
    status = "unavailable" if reason.startswith(UNAVAILABLE_PREFIXES) else "null"
    return MetricResult(None, status, reason, warnings, inputs or {})


def divide(
    numerator: float | None,
    denominator: float | None,
    inputs: dict[str, Any] | None = None,
    warnings: tuple[str, ...] = (),
) -> MetricResult:
    """numerator / denominator; null with `zero_denominator` when the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return null("zero_denominator", inputs, warnings)
    return ok(numerator / denominator + 0.0, inputs, warnings)  # + 0.0: 0 / -100 is 0, not -0


def inherit(*results: MetricResult) -> MetricResult | None:
    """The first input without a value: a derived metric inherits its status and reason (D9)."""
    for result in results:
        if result.status != "ok" or result.value is None:
            return MetricResult(None, result.status, result.reason, result.warnings, {})
    return None


def ratio_of(
    ctx: MetricContext,
    numerator: str,
    denominator: str,
    warnings: Literal["numerator", "denominator", "both"] = "numerator",
) -> MetricResult:
    """`numerator / denominator` of two other metrics of the window; a missing input is inherited
    (D9), a zero denominator is null. `warnings` says whose warnings the result carries."""
    top, bottom = ctx.value(numerator), ctx.value(denominator)
    missing = inherit(top, bottom)
    if missing is not None:
        return missing
    carried = {
        "numerator": top.warnings,
        "denominator": bottom.warnings,
        "both": tuple(dict.fromkeys((*top.warnings, *bottom.warnings))),
    }[warnings]
    inputs = {numerator: number(top), denominator: number(bottom)}
    return divide(number(top), number(bottom), inputs, carried)


def number(result: MetricResult) -> float:
    """The numeric value of a result that `inherit` found to be ok."""
    assert isinstance(result.value, int | float)
    return float(result.value)


class MetricContext:
    """One period window over the dataset; `value(key)` computes any metric for it, once."""

    def __init__(
        self,
        dataset: Dataset,
        window: Window,
        calendar: FiscalCalendar,
        cache: dict[Hashable, Any] | None = None,
    ) -> None:
        self.ds = dataset
        self.config = dataset.config
        self.options = dataset.config.metrics
        self.as_of = dataset.as_of
        self.tz = self.options.timezone
        self.window = window
        self.period: Period = window.period
        self.start: date = window.period.start  # p_start
        self.end: date = window.end  # E
        self.opening: date = window.opening  # O
        self.closing: date = window.closing  # C
        self.partial = window.partial
        self.calendar = calendar
        self.cache: dict[Hashable, Any] = cache if cache is not None else {}
        self._results: dict[str, MetricResult] = {}

    # --- other metrics and other windows -----------------------------------------------------

    def value(self, key: str) -> MetricResult:
        """The result of metric `key` for this window (computed once)."""
        with self._lock(("value", id(self), key)):
            if key not in self._results:
                try:
                    self._results[key] = METRICS[key].compute(self)
                except Unavailable as missing:
                    self._results[key] = null(missing.reason)
                except pl.exceptions.ColumnNotFoundError as exc:
                    # a column the config maps and the file lacks (S001) is a missing column
                    reason = self.ds.absent_column(exc)
                    if reason is None:
                        raise
                    self._results[key] = null(reason)
        return self._results[key]

    def sub(self, window: Window) -> MetricContext:
        """Another window over the same data, sharing this run's cache."""
        return self.shared(
            ("window", window), lambda: MetricContext(self.ds, window, self.calendar, self.cache)
        )

    def sub_period(self, period: Period) -> MetricContext:
        """A whole other period, evaluated at the same as-of day."""
        return self.sub(evaluate(period, max(self.as_of, period.start)))

    def shared(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value built once per run (frames that do not depend on the window, or keyed by it)."""
        with self._lock(key):
            if key not in self.cache:
                self.cache[key] = built = build()
                if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
                    # listed by name for `built`: scanning the whole cache for each of a
                    # thousand months made a century's lookback quadratic (minutes)
                    self.cache.setdefault(("built", key[0]), []).append((key[1], built))
        value: T = self.cache[key]
        return value

    def built(self, name: str, kind: type[T]) -> list[tuple[Any, T]]:
        """(argument, value) of every `kind` value built so far under a key `(name, argument)`."""
        done = list(self.cache.get(("built", name), ()))  # a copy: other threads may append
        return [(argument, value) for argument, value in done if isinstance(value, kind)]

    def _lock(self, key: Hashable) -> threading.RLock:
        """The lock of one cached value: windows are computed in threads (runner.py), and a
        value wanted by both is built by one while the other waits. Values depend on others
        without cycles, so two threads never wait for each other."""
        lock: threading.RLock = self.cache.setdefault(("lock", key), threading.RLock())
        return lock

    # --- data --------------------------------------------------------------------------------

    def need(self, table: str, *columns: str) -> pl.DataFrame:
        """The canonical frame of `table`; Unavailable when it or one of `columns` is missing."""
        frame = self.ds.table(table)
        if frame is None:
            raise Unavailable(f"missing_table:{table}")
        for column in columns:
            if column not in frame.columns:
                raise Unavailable(f"missing_column:{table}.{column}")
        return frame

    def has(self, table: str, *columns: str) -> bool:
        frame = self.ds.table(table)
        return frame is not None and all(c in frame.columns for c in columns)

    def day(self, column: str) -> pl.Expr:
        """A date or datetime column as a date in metrics.timezone (§1.3)."""
        col = pl.col(column)
        return col.dt.convert_time_zone(self.tz).dt.date() if column.endswith("_at") else col

    def in_period(self, expr: pl.Expr) -> pl.Expr:
        """p_start <= date <= E (§1.3)."""
        return expr.is_between(pl.lit(self.start), pl.lit(self.end), closed="both")

    def days_before(self, days: int) -> date:
        return self.end - timedelta(days=days)
