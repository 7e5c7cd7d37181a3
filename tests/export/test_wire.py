"""The exporters' shared text helpers: CSV built in Arrow gives util.csv_text's bytes, and
rows written end to end from any slice of a string array."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import util
from pipeline.export import wire


def by_row(frame: pd.DataFrame) -> str:
    """What util gives, one value at a time (the reference)."""
    from pipeline.export.topology import pylist

    return util.csv_text([str(c) for c in frame.columns],
                         [util.csv_column(pylist(frame[c])) for c in frame.columns])


# text with every character the two paths treat specially: formula starts, quoting, non-ASCII
cell = st.one_of(st.none(), st.just(float("nan")),
                 st.text(alphabet=st.sampled_from(list('ab=+-@\t\r\n,"\' é')), max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.lists(st.lists(cell, min_size=n, max_size=n),
                                                    max_size=8).map(lambda rows: (n, rows))))
def test_csv_text_gives_util_bytes_for_any_text(shape):
    width, rows = shape
    frame = pd.DataFrame(rows or None, columns=[f"c{i}" for i in range(width)], dtype=object)
    assert wire.csv_text(frame) == by_row(frame)


def test_csv_text_of_numbers_and_plain_text():
    plain = pd.DataFrame({"short": ["v1", "=v2", None], "id": ["a", "-b", "@c"]}, dtype=object)
    assert wire.csv_text(plain) == "short,id\nv1,a\n'=v2,'-b\n,'@c\n" == by_row(plain)
    numbers = pd.DataFrame({"a": [1.5, None], "b": ["x", "y"]})
    assert wire.csv_text(numbers) == by_row(numbers)
    mixed = pd.DataFrame({"a": [1, "x"], "b": ["x", "y"]}, dtype=object)
    assert wire.csv_text(mixed) == by_row(mixed)


def test_a_cell_holding_any_character_gives_util_bytes():
    for char in [chr(i) for i in range(128)] + ["é"]:
        frame = pd.DataFrame({"a": [f"x{char}y", char], "b": ["p", None]}, dtype=object)
        assert wire.csv_text(frame) == by_row(frame), repr(char)


@pytest.mark.parametrize("type_", ["string", "large_string"])
def test_rows_are_written_end_to_end_from_any_slice_of_a_string_array(type_):
    rows = pa.array(["<a/>\n", "<bé/>\n", "", "<c/>\n"], getattr(pa, type_)())
    assert bytes(wire.end_to_end(rows)) == "<a/>\n<bé/>\n<c/>\n".encode()
    assert bytes(wire.end_to_end(rows.slice(1, 2))) == "<bé/>\n".encode()
    assert bytes(wire.end_to_end(rows.slice(4))) == b""
