"""One line per record: the runner's step (D3) and the audit summary's distinct records."""

from __future__ import annotations

from unittest.mock import patch

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.checks import runner
from revops_cli.checks.registry import RULES
from revops_cli.checks.runner import _per_record
from revops_cli.report.audit import _record_revenue

SCHEMA = {
    "code": pl.String,
    "table": pl.String,
    "severity": pl.String,
    "record_id": pl.String,
    "detail": pl.String,
    "amount": pl.Float64,
}


def test_a_record_flagged_twice_is_one_line_with_both_details_and_the_larger_amount() -> None:
    flagged = pl.DataFrame(
        [
            ("D001", "deals", "warning", "d2", "past due", 50.0),
            ("D001", "deals", "warning", "d1", "stale", 100.0),
            ("D001", "deals", "warning", "d2", "no owner", 80.0),
            ("D001", "deals", "warning", "d2", "past due", None),
            ("D001", "deals", "error", "d2", "bad amount", -5.0),
        ],
        schema=SCHEMA,
        orient="row",
    )
    expected = [
        ("D001", "deals", "warning", "d2", "past due; no owner", 80.0),
        ("D001", "deals", "warning", "d1", "stale", 100.0),
        ("D001", "deals", "error", "d2", "bad amount", -5.0),  # a negative amount as it is
    ]
    assert _per_record(flagged).rows() == expected
    with patch.object(runner, "SMALL", 0):  # the path for big frames
        assert _per_record(flagged).rows() == expected


def _grouped(flagged: pl.DataFrame) -> pl.DataFrame:
    """The plain definition: a group-by over every line."""
    return flagged.group_by("code", "table", "severity", "record_id", maintain_order=True).agg(
        pl.col("detail").drop_nulls().unique(maintain_order=True).str.join("; "),
        pl.col("amount").fill_null(0.0).max().alias("revenue_at_risk"),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["D001", "D002"]),
            st.sampled_from(["deals", "leads"]),
            st.sampled_from(["error", "info"]),
            st.sampled_from(["a", "b", "c"]),
            st.one_of(st.none(), st.sampled_from(["x", "y", ""])),
            st.one_of(st.none(), st.floats(-5, 5)),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_per_record_equals_the_plain_group_by(rows: list[tuple[object, ...]]) -> None:
    flagged = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    # the runner then reads an empty detail as none and a missing amount as 0
    tidy = [pl.col("detail").replace("", None), pl.col("revenue_at_risk").fill_null(0.0)]
    expected = _grouped(flagged).with_columns(tidy)
    assert _per_record(flagged).with_columns(tidy).to_dicts() == expected.to_dicts()
    with patch.object(runner, "SMALL", 0):  # the path for big frames
        assert _per_record(flagged).with_columns(tidy).to_dicts() == expected.to_dicts()


RECORDS = {"code": pl.String, "table": pl.String, "record_id": pl.String}
RECORDS |= {"revenue_at_risk": pl.Float64}


def test_a_record_flagged_by_two_rules_counts_once() -> None:
    records = pl.DataFrame(
        [
            ("D001", "deals", "d1", 10.0),
            ("D002", "deals", "d1", 30.0),
            ("L001", "leads", "d1", 0.0),
            ("D001", "deals", "d2", 1.5),
        ],
        schema=RECORDS,
        orient="row",
    )
    assert sorted(_record_revenue(records)) == [0.0, 1.5, 30.0]


def test_a_rule_without_a_basis_adds_no_amount_to_a_record() -> None:
    # d1 (-500) is flagged by D001 (pipeline) and D006 (no basis): its largest basis amount is
    # D001's -500, not D006's 0; d2 was flagged by D006 alone, so it counts 0
    records = pl.DataFrame(
        [
            ("D001", "deals", "d1", -500.0),
            ("D006", "deals", "d1", 0.0),
            ("D006", "deals", "d2", 0.0),
        ],
        schema=RECORDS,
        orient="row",
    )
    assert sorted(_record_revenue(records)) == [-500.0, 0.0]


def test_records_without_an_id_are_shown_first_among_equal_amounts() -> None:
    records = pl.DataFrame(
        [
            ("D005", "error", "deals", "d2", "a", 10.0),
            ("D005", "error", "deals", None, "b", 10.0),
            ("D005", "error", "deals", "d1", "c", 10.0),
            ("D005", "error", "deals", "d9", "d", 50.0),
        ],
        schema=runner.RECORD_COLUMNS,
        orient="row",
    )
    (finding,) = runner._findings(records, RULES, {("D005", "deals"): 7}, samples=3)
    assert [(s.record_id, s.detail) for s in finding.samples] == [
        ("d9", "d"),
        ("None", "b"),
        ("d1", "c"),
    ]
    assert (finding.count, finding.checked, finding.revenue_at_risk) == (4, 7, 80.0)
