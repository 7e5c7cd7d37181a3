"""stats.hist against a plain reference: counts of the values as JSON scalars (nulls as None)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from pipeline.synthesize.stats import hist, json_scalar


def reference(values) -> dict:
    """{json of the value (or joint row): count}, one element at a time."""
    if isinstance(values, pd.DataFrame):
        rows = [tuple(json_scalar(values[c].iloc[i]) for c in values.columns)
                for i in range(len(values))]
        return dict(Counter(json.dumps(list(r)) for r in rows))
    return dict(Counter(json.dumps(json_scalar(v)) for v in pd.Series(values).tolist()))


def as_dict(histogram: list) -> dict:
    return {json.dumps(value): count for value, count in histogram}


floats = st.one_of(st.none(), st.just(float("nan")), st.sampled_from([0.0, 1.5, -2.0, 1e9]))
texts = st.one_of(st.none(), st.sampled_from(["", "a", "b", "ACTIVE"]))
ints = st.one_of(st.none(), st.integers(-3, 3))
bools = st.one_of(st.none(), st.booleans())


def column(draw, kind: str, size: int) -> pd.Series:
    if kind == "float":
        return pd.Series(draw(st.lists(floats, min_size=size, max_size=size)), dtype="float64")
    if kind == "string":
        return pd.Series(draw(st.lists(texts, min_size=size, max_size=size)), dtype="string[pyarrow]")
    if kind == "Int64":
        return pd.Series(draw(st.lists(ints, min_size=size, max_size=size)), dtype="Int64")
    if kind == "boolean":
        return pd.Series(draw(st.lists(bools, min_size=size, max_size=size)), dtype="boolean")
    # object: NaN, None and pd.NA side by side, as merged frames hold them
    return pd.Series(draw(st.lists(st.one_of(floats, texts, st.just(pd.NA)), min_size=size,
                                   max_size=size)), dtype=object)


KINDS = ["float", "string", "Int64", "boolean", "object"]


@st.composite
def frames(draw):
    size = draw(st.integers(0, 30))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    return pd.DataFrame({f"c{i}": column(draw, k, size) for i, k in enumerate(kinds)})


@settings(max_examples=150, deadline=None)
@given(frames())
def test_hist_of_a_frame_counts_its_rows_as_json(frame):
    got = hist(frame)
    assert as_dict(got) == reference(frame)
    assert len(got) == len(as_dict(got))  # every value once: NaN, NA and None merged


@settings(max_examples=150, deadline=None)
@given(frames())
def test_hist_of_a_column_counts_its_values_as_json(frame):
    col = frame.iloc[:, 0]
    got = hist(col)
    assert as_dict(got) == reference(col)
    assert len(got) == len(as_dict(got))
    assert sum(count for _, count in got) == len(col)


def test_hist_is_sorted_numbers_then_text():
    got = hist(pd.Series([2.0, np.nan, 1.0, 2.0], dtype="float64"))
    assert got == [[None, 1], [1.0, 1], [2.0, 2]]
    assert hist(pd.Series(["b", None, "a", "b"], dtype="string")) == [[None, 1], ["a", 1], ["b", 2]]
