"""What every exporter writes with: deterministic JSON (keys sorted, fixed separators), the
column readers (a column as a Python list or as one Arrow array), CSV and text built in Arrow,
and one file from the parts that tasks wrote side by side."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import orjson


def dumps(obj) -> bytes:
    """Compact JSON, keys sorted."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def dumps_pretty(obj) -> bytes:
    """Keys sorted, a fixed 2-space indent, a final newline (files meant to be read)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def pylist(s) -> list:
    """A Series as a Python list, nulls (NA, NaN) as None. Iterating a pandas Series element by
    element is ~50x slower on pyarrow-backed columns; every exporter goes through this."""
    return s.to_numpy(dtype=object, na_value=None).tolist()


def arrow_column(series, type_=None):
    """The column as one Arrow array of `type_` (default large_string; zero-copy for
    Arrow-backed columns), for the exporters that build their text a column at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc

    type_ = type_ or pa.large_string()
    arr = pa.array(series) if series.dtype != object \
        else pa.array(series.to_numpy(dtype=object, na_value=None), type=type_)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if arr.type == type_ else pc.cast(arr, type_)


def part_name(name: str, part: int, parts: int) -> str:
    """The file part `part` of `parts` writes: `name` itself when there is one part."""
    return name if parts == 1 else f"{name}.part{part:05d}"


def join_parts(folder: Path, name: str, part_files: list[str]) -> None:
    """`folder/name` from its part files (names from part_name, joined in part order), which
    are removed; nothing to do for a single part already written under `name`."""
    part_files = sorted(part_files)
    if part_files == [name]:
        return
    with open(folder / name, "wb") as whole:
        for part in part_files:
            with open(folder / part, "rb") as fh:
                shutil.copyfileobj(fh, whole, 1 << 24)
            (folder / part).unlink()


def end_to_end(text):
    """The values of an Arrow string array without nulls, end to end, as one buffer (no copy,
    no Python string per value)."""
    import numpy as np
    import pyarrow as pa

    if len(text) == 0:
        return pa.py_buffer(b"")
    if text.type != pa.large_string():  # 64-bit offsets read below
        text = text.cast(pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
    first, last = int(offsets[text.offset]), int(offsets[text.offset + len(text)])
    return text.buffers()[2].slice(first, last - first)


def csv_text(frame) -> str:
    """util.csv_text of the frame's columns, each cell as util.csv_column gives it (None -> "",
    a formula start -> a leading apostrophe), built in Arrow when there are several columns,
    all of text, and no cell needs quoting (the per-value Python took ~0.5 s of a 280k-row
    names.csv); else by util.csv_text itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipeline.util import _CSV_SPECIAL, CSV_SPECIAL, FORMULA_STARTS, csv_column
    from pipeline.util import csv_text as csv_text_by_row

    header = [str(c) for c in frame.columns]
    columns = _text_columns(frame)
    texts = [end_to_end(c.drop_null()).to_pybytes() for c in columns or []]
    if columns is None or len(header) < 2 or _CSV_SPECIAL.search("".join(header)) \
            or any(ch.encode() in text for text in texts for ch in CSV_SPECIAL):
        return csv_text_by_row(header, [csv_column(pylist(frame[c])) for c in frame.columns])
    string = pa.large_string()
    cells = []
    for column, text in zip(columns, texts):
        starts = [pc.starts_with(column, ch) for ch in FORMULA_STARTS if ch.encode() in text]
        if starts:  # the apostrophe util.csv_cell puts before a formula start
            column = pc.if_else(functools.reduce(pc.or_, starts), pc.binary_join_element_wise(
                pa.scalar("'", string), column, pa.scalar("", string)), column)
        cells.append(pc.fill_null(column, ""))
    rows = pc.binary_join_element_wise(*cells, pa.scalar(",", string))
    lines = pc.binary_join_element_wise(rows, pa.scalar("\n", string), pa.scalar("", string))
    return ",".join(header) + "\n" + end_to_end(lines).to_pybytes().decode()


def _text_columns(frame) -> list | None:
    """Every column as an Arrow string array, or None unless all are object columns of strings
    and None (anything else keeps util's formatting)."""
    import pyarrow as pa

    if any(frame[c].dtype != object for c in frame.columns):
        return None
    try:
        return [arrow_column(frame[c]) for c in frame.columns]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
