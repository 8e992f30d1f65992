"""Helpers the rules share (checks/context.py), against their plain definitions."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.checks.context import joined_per_key


def test_each_key_gets_its_sorted_values_and_a_key_without_values_gets_empty_text() -> None:
    frame = pl.DataFrame(
        {
            "sub": ["s1", "s2", "s2", "s3", "s4", "s4"],
            "cus": ["c1", "c9", "c2", None, None, "c5"],
        }
    )
    rows = sorted(joined_per_key(frame, "sub", "cus", "holders").rows())
    assert rows == [("s1", "c1"), ("s2", "c2, c9"), ("s3", ""), ("s4", "c5")]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), st.sampled_from("xyz"))),
        max_size=10,
    )
)
def test_joined_per_key_equals_the_plain_group_by(rows: list[tuple[str, str | None]]) -> None:
    frame = pl.DataFrame(rows, schema={"k": pl.String, "v": pl.String}, orient="row")
    plain = frame.group_by("k").agg(pl.col("v").drop_nulls().sort().str.join(", ").alias("j"))
    assert sorted(joined_per_key(frame, "k", "v", "j").rows()) == sorted(plain.rows())
