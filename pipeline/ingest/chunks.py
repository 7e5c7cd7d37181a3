"""Splitting big files so several processes can parse one file: cut at object boundaries
(array items, list-form items, NDJSON lines) into ranges of about a target size, keeping
every object's position."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from pipeline.ingest.decode import WS
from pipeline.ingest.sources.neutron import LIST_KEYS


@dataclass
class Chunk:
    """A slice of a big file: bytes [start, end) of its decoded content."""

    mode: str                  # "array" (items of a JSON array / of list key `key`) or "ndjson"
    pos0: int                  # position (or line index) of the slice's first object
    start: int
    end: int
    key: str | None = None
    data: bytes | None = None  # the slice itself; None = read the range from the file
    ignored_keys: tuple = ()


def plan_chunks(buf, target: int) -> list[Chunk] | None:
    """Cut a big document (bytes or mmap) into ranges of ~`target` bytes at object boundaries,
    with one validating scan (msgspec.Raw keeps offsets, decodes nothing).

    Returns None when the file is not a plain list form, array or NDJSON; the caller then
    parses it whole (which also produces the precise error message for malformed input).
    """
    try:
        import msgspec
        import numpy as np
    except ImportError:  # pragma: no cover - both are in the lock file
        return None
    n = len(buf)
    i = 0
    while i < n and buf[i] in WS:
        i += 1
    head = buf[i:i + 1]
    base = np.frombuffer(buf, np.uint8).ctypes.data

    def ranges(raws, key, pos0):
        per = max(1, int(len(raws) * target / max(n, 1)))
        out = []
        for a in range(0, len(raws), per):
            first, last = raws[a], raws[min(a + per, len(raws)) - 1]
            s = np.frombuffer(first, np.uint8).ctypes.data - base
            e = np.frombuffer(last, np.uint8).ctypes.data - base + memoryview(last).nbytes
            out.append(Chunk("array", pos0 + a, s, e, key))
        return out

    if head in (b"[", b"{") and items_are_tiny(buf, np):
        return _scanned_chunks(buf, i, target, np)
    if head == b"[":
        try:
            return ranges(msgspec.json.decode(buf, type=list[msgspec.Raw]), None, 0) or None
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return None  # deep nesting: the whole-file parse words the error
    if head != b"{":
        return None
    try:
        top = msgspec.json.decode(buf, type=dict[str, list[msgspec.Raw] | None])
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        # not one list-form document: NDJSON (one object per line, bare or wrapped) is cut at
        # line ends; anything else is parsed whole, which words the error precisely
        return _ndjson_ranges(buf, target, np) if _first_line_object(buf, i) else None
    if not any(k in LIST_KEYS for k in top) or not all(k in LIST_KEYS or k.endswith("_links") for k in top):
        return None
    chunks: list[Chunk] = []
    pos = 0
    for k, raws in top.items():
        if k in LIST_KEYS and raws:
            chunks += ranges(raws, k, pos)
            pos += len(raws)
    if chunks:
        chunks[0].ignored_keys = tuple(k for k in top if k.endswith("_links"))
    return chunks or None


def _first_line_object(buf, i: int) -> bool:
    nl = buf.find(b"\n", i)
    if nl < 0:
        return False
    try:
        return type(orjson.loads(bytes(buf[i:nl]))) is dict
    except orjson.JSONDecodeError:
        return False


# msgspec's Raw slices cost ~50 bytes each: above about one item per this many bytes, the
# planner switches to pipeline.ingest.jsonscan, slower but with memory bounded by its block.
_BYTES_PER_RAW = 64


def items_are_tiny(buf, np, block: int = 16 << 20) -> bool:
    """Whether listing every item of `buf` as a msgspec Raw would take more memory than the
    file itself. Objects are counted by '{' (nested ones too: an upper bound), other values
    (numbers, strings) by commas, generously."""
    braces = commas = 0
    for start in range(0, len(buf), block):
        arr = np.frombuffer(buf, np.uint8, count=min(block, len(buf) - start), offset=start)
        braces += int(np.count_nonzero(arr == 123))
        commas += int(np.count_nonzero(arr == 44))
    return max(braces, commas // 32) * _BYTES_PER_RAW >= len(buf)


def _scanned_chunks(buf, i: int, target: int, np) -> list[Chunk] | None:
    import pipeline.ingest.jsonscan as jsonscan

    def decode_key(raw: bytes):
        try:
            k = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return k if type(k) is str else None

    def is_list_key(k: str) -> bool:
        return k in LIST_KEYS

    res = jsonscan.plan_cuts(buf, target, decode_key, is_list_key)
    if res is None or res == jsonscan.SEVERAL_DOCUMENTS:
        return _ndjson_ranges(buf, target, np) if _first_line_object(buf, i) else None
    cuts, keys = res
    if keys and (not any(k in LIST_KEYS for k in keys)
                 or not all(k in LIST_KEYS or k.endswith("_links") for k in keys)):
        return None
    chunks = [Chunk("array", c.pos0, c.start, c.end, c.key) for c in cuts]
    if chunks:
        chunks[0].ignored_keys = tuple(k for k in keys if k.endswith("_links"))
    return chunks or None


def _ndjson_ranges(buf, target: int, np) -> list[Chunk]:
    arr = np.frombuffer(buf, np.uint8)
    out, start, line0 = [], 0, 0
    while start < len(buf):
        end = buf.find(b"\n", start + target)
        end = len(buf) if end < 0 else end + 1
        out.append(Chunk("ndjson", line0, start, end))
        line0 += int(np.count_nonzero(arr[start:end] == 10))
        start = end
    return out
