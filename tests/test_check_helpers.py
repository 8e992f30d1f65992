"""Helpers the rules share (checks/context.py), against their plain definitions."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from revops_cli.checks.context import Context, joined_per_key
from revops_cli.checks.duplicates import KEY, MEMBERS, _clusters
from tests.toy import toy_dataset


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


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", ""])), max_size=12))
def test_clusters_are_the_rows_whose_non_null_key_repeats(keys: list[str | None]) -> None:
    ctx = Context(toy_dataset())
    frame = pl.DataFrame(  # `_row`: every loaded table has its row numbers
        {"_row": range(1, len(keys) + 1), "owner_id": [f"o{i:02d}" for i in range(len(keys))],
         "k": keys},
        schema={"_row": pl.Int64, "owner_id": pl.String, "k": pl.String},
    )  # fmt: skip
    found = _clusters(ctx, "owners", frame, pl.col("k").replace("", None))
    ids_by_key: dict[str, list[str]] = {}
    for index, key in enumerate(keys):
        if key:  # null and empty keys never cluster
            ids_by_key.setdefault(key, []).append(f"o{index:02d}")
    expected = [
        (f"o{i:02d}", key, ", ".join(ids_by_key[key]))
        for i, key in enumerate(keys)
        if key and len(ids_by_key[key]) > 1
    ]
    assert found.select("record_id", KEY, MEMBERS).rows() == expected
