"""pipeline/util.py: the CSV helpers equal the csv module (and the formula guard) they speed up."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings, strategies as st

from pipeline.util import csv_cell, csv_column, csv_text


def _csv_module(header, columns) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns))
    return buf.getvalue()


text = st.one_of(st.text(max_size=8), st.sampled_from(
    ["", "a,b", 'say "hi"', "two\nlines", "cr\r", "=1+1", "-3", "@x", " lead", "plain"]))
# mostly strings (the fast path), sometimes None or a number (the csv module's path)
cell = st.one_of(text, text, text, st.none(), st.integers())


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.tuples(
    st.lists(st.text(min_size=1, max_size=6), min_size=width, max_size=width),
    st.integers(0, 6).flatmap(lambda rows: st.lists(
        st.lists(cell, min_size=rows, max_size=rows), min_size=width, max_size=width)))))
def test_csv_text_is_what_the_csv_module_writes(case):
    header, columns = case
    cells = [csv_column(col) for col in columns]
    assert cells == [[csv_cell(v) for v in col] for col in columns]
    assert csv_text(header, cells) == _csv_module(header, cells)


def test_csv_text_quotes_what_needs_it():
    columns = [["a", 'say "hi"', "x"], ["b,c", "d", "two\nlines"]]
    assert csv_text(["k", "v"], columns) == 'k,v\na,"b,c"\n"say ""hi""",d\nx,"two\nlines"\n'
    assert csv_text(["k", "v"], [["a"], ["b"]]) == "k,v\na,b\n"
