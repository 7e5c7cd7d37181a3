"""Vectorized text (ids, MACs, addresses, timestamps) and conformed frames from arrow columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.synthesize.common import SOURCE_FILE
from schemas.model import TABLES, conform


# pandas keeps string columns as arrow large_string: build them so, or every column is re-cast
LS = pa.large_string()
_IP_HI = None  # "a.b." for the upper 16 bits, built on first use
_IP_LO = None  # "c.d"
_HEX16 = None  # "%x" of 0..65535 (IPv6 host part)


def text_from_bytes(buf: np.ndarray) -> pa.Array:
    """Fixed-width ASCII rows (n, w) uint8 -> a pyarrow string array, without Python strings."""
    n, w = buf.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    data = pa.py_buffer(np.ascontiguousarray(buf).reshape(-1))
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data)


def hex_ascii(b: np.ndarray) -> np.ndarray:
    """(n, k) bytes -> (n, 2k) lower-case hex ASCII (bytes.hex is the fastest path numpy has)."""
    b = np.ascontiguousarray(b, dtype=np.uint8)
    return np.frombuffer(b.tobytes().hex().encode(), np.uint8).reshape(len(b), 2 * b.shape[1])


def uuid_text(b: np.ndarray) -> pa.Array:
    """(n, 16) random bytes -> RFC 4122 version-4 UUID texts."""
    b = b.copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    h = hex_ascii(b)
    out = np.full((len(b), 36), ord("-"), dtype=np.uint8)
    out[:, 0:8], out[:, 9:13], out[:, 14:18] = h[:, 0:8], h[:, 8:12], h[:, 12:16]
    out[:, 19:23], out[:, 24:36] = h[:, 16:20], h[:, 20:32]
    return text_from_bytes(out)


def mac_text(first: int, salt: int, counter: np.ndarray) -> pa.Array:
    c = np.asarray(counter, dtype=np.uint64)
    b = np.empty((len(c), 6), dtype=np.uint8)
    b[:, 0], b[:, 1] = first, salt
    for i in range(4):
        b[:, 2 + i] = (c >> np.uint64(8 * (3 - i))) & np.uint64(255)
    h = hex_ascii(b)
    out = np.full((len(c), 17), ord(":"), dtype=np.uint8)
    for i in range(6):
        out[:, 3 * i:3 * i + 2] = h[:, 2 * i:2 * i + 2]
    return text_from_bytes(out)


def ip4_text(x) -> pa.Array:
    """IPv4 integers -> dotted quads (two table lookups and one join)."""
    global _IP_HI, _IP_LO
    if _IP_HI is None:
        _IP_HI = pa.array([f"{i >> 8}.{i & 255}." for i in range(65536)], LS)
        _IP_LO = pa.array([f"{i >> 8}.{i & 255}" for i in range(65536)], LS)
    x = np.asarray(x, dtype=np.int64)
    if len(x) == 0:
        return pa.array([], LS)
    return pc.binary_join_element_wise(_IP_HI.take(pa.array(x >> 16)), _IP_LO.take(pa.array(x & 65535)),
                                       pa.scalar("", LS))


def hex16_text(x) -> pa.Array:
    global _HEX16
    if _HEX16 is None:
        _HEX16 = pa.array([f"{i:x}" for i in range(65536)], LS)
    return _HEX16.take(pa.array(np.asarray(x, dtype=np.int64)))


_DATES = None


def time_text(seconds: np.ndarray) -> pa.Array:
    """Seconds since TIME_BASE -> 'YYYY-MM-DDTHH:MM:SSZ' (fixed width, from lookup tables)."""
    global _DATES
    if _DATES is None:
        days = np.datetime64("2024-01-01") + np.arange(3 * 366)
        _DATES = np.frombuffer("".join(str(d) + "T" for d in days).encode(), np.uint8).reshape(-1, 11)
    s = np.asarray(seconds, dtype=np.int64)
    day, sod = s // 86400, s % 86400
    hh, mm, ss = sod // 3600, (sod // 60) % 60, sod % 60
    out = np.empty((len(s), 20), dtype=np.uint8)
    out[:, 0:11] = _DATES[day]
    for col, v in ((11, hh), (14, mm), (17, ss)):
        out[:, col] = 48 + v // 10
        out[:, col + 1] = 48 + v % 10
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord("Z")
    return text_from_bytes(out)


def const_text(value: str | None, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, LS)
    return pa.array([value], LS).take(pa.array(np.zeros(n, dtype=np.int32)))


def pick(strings, idx) -> pa.Array:
    """strings[idx] (strings: a list or pyarrow array); idx < 0 gives null."""
    arr = strings if isinstance(strings, pa.Array) else pa.array(list(strings), LS)
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0:
        return pa.array([], arr.type)
    if len(arr) == 0:
        return pa.nulls(len(idx), arr.type)
    mask = idx < 0
    return arr.take(pa.array(np.where(mask, 0, idx), mask=mask if mask.any() else None))


def num_text(x) -> pa.Array:
    return pc.cast(pa.array(np.asarray(x, dtype=np.int64)), LS)


def join_text(*parts) -> pa.Array:
    parts = [pa.scalar(p, LS) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*parts, pa.scalar("", LS))


def where(mask, a, b) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def bool_array(values, null=None) -> pa.Array:
    v = np.asarray(values, dtype=bool)
    return pa.array(v, pa.bool_(), mask=None if null is None else np.asarray(null, dtype=bool))


def int_array(values, null=None) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    return pa.array(v, pa.int64(), mask=None if null is None else np.asarray(null, dtype=bool))


def concat(parts: list[pa.Array]) -> pa.Array:
    parts = [p for p in parts if p is not None]
    return pa.concat_arrays([p.cast(parts[0].type) if p.type != parts[0].type else p for p in parts])


_TYPES = None


def _types_mapper(t):
    global _TYPES
    if _TYPES is None:
        _TYPES = {LS: pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow"),
                  pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}
    return _TYPES.get(t)


_ARROW = {"string": LS, "Int64": pa.int64(), "boolean": pa.bool_(), "Float64": pa.float64()}


def table_frame(name: str, cols: dict[str, pa.Array]) -> pd.DataFrame:
    """A conformed DataFrame from arrow columns; absent columns null, provenance filled."""
    t = TABLES[name]
    n = len(next(iter(cols.values()))) if cols else 0
    arrays = {}
    for c in t.columns:
        if c.name == "source_file":
            arrays[c.name] = const_text(SOURCE_FILE, n)
        elif c.name == "source_pos":
            arrays[c.name] = pa.array(np.arange(n, dtype=np.int64))
        elif c.name in cols:
            a = cols[c.name]
            arrays[c.name] = a if a.type == _ARROW[c.dtype] else a.cast(_ARROW[c.dtype])
        else:
            arrays[c.name] = pa.nulls(n, _ARROW[c.dtype])
    df = pa.table(arrays).to_pandas(types_mapper=_types_mapper)
    return df


def with_provenance(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df = df.reset_index(drop=True).copy()
    df["source_file"] = pd.array([SOURCE_FILE] * len(df), dtype="string")
    df["source_pos"] = pd.array(np.arange(len(df)), dtype="Int64")
    return conform(df, name)
