"""One file's bytes or one chunk -> collected objects: JSON (one document), NDJSON (one
object per line) or CSV, told apart by content, never by name. No file system access but
reading a chunk's range (run.py does the I/O and the parallelism)."""

from __future__ import annotations

import orjson

from pipeline.ingest.chunks import Chunk
from pipeline.ingest.collect import Collected, walk_document
from pipeline.ingest.decode import (DEFAULT_MAX_DECOMPRESSED, WS, BadFile, decompress, json_error,
                                    refuse_binary, strip_bom, type_name, utf8_message,
                                    utf8_problem)
from pipeline.ingest.sources.csv import parse_csv


# First bytes of a JSON document that is not an object or array (a scalar: not data either).
_SCALAR_HEADS = frozenset(b'"-0123456789tfn')


def parse_payload(data: bytes, cap: int = DEFAULT_MAX_DECOMPRESSED,
                  decompressed: bool = False) -> tuple[Collected, str, bool]:
    """A whole file's bytes -> (collected objects, format, gzipped). Raises BadFile.
    `decompressed`: the caller gunzipped the bytes already (the file was gzip)."""
    if not data:
        raise BadFile("empty file")
    if decompressed:
        gz = True
    else:
        data, gz = decompress(data, cap)
    data = strip_bom(data)
    head = data.lstrip(WS)[:1]
    if not head:
        raise BadFile("empty file" + (" (after gunzip)" if gz else ""))
    col = Collected()
    if head in (b"{", b"["):
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            bad = utf8_problem(data)
            if bad:
                raise BadFile(bad) from None
            if head == b"{" and _first_line_is_object(data):
                parse_ndjson(data, col, 0)
                return col, "ndjson", gz
            raise BadFile(json_error(e)) from None
        walk_document(doc, col)
        return col, "json", gz
    # Not JSON: a CSV text, decoded once. Binary data (e.g. NUL bytes) is refused first.
    refuse_binary(data)
    if head[0] in _SCALAR_HEADS:
        try:
            doc = orjson.loads(data)  # fails at the first bad byte: cheap for a CSV
        except orjson.JSONDecodeError:
            pass
        else:
            raise BadFile(f"expected a JSON object or an array of objects, got {type_name(doc)}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadFile(utf8_message(data, e)) from None
    del data
    parse_csv(text, col)
    return col, "csv", gz


def _first_line_is_object(data: bytes) -> bool:
    start = len(data) - len(data.lstrip(WS))
    nl = data.find(b"\n", start)
    if nl < 0:
        return False
    try:
        return type(orjson.loads(data[start:nl])) is dict
    except orjson.JSONDecodeError:
        return False


def parse_ndjson(data: bytes, col: Collected, line0: int) -> None:
    """One JSON object per line; position = 0-based line index (blank lines count)."""
    for i, line in enumerate(data.split(b"\n")):
        if not line.strip(WS):
            continue
        try:
            o = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            bad = utf8_problem(line)
            if bad:
                raise BadFile(f"line {line0 + i + 1}: {bad}") from None
            e.lineno = 1  # one line was parsed: the message counts lines of the file
            raise BadFile(json_error(e, line0 + i)) from None
        if type(o) is not dict:
            raise BadFile(f"line {line0 + i + 1}: expected a JSON object, got {type_name(o)}")
        col.add_dict(o, line0 + i, sequential=False)


def parse_chunk(ch: Chunk, path: str | None = None) -> Collected:
    """Parse one slice; its bytes travel with it or are read from `path`."""
    data = ch.data
    if data is None:
        with open(path, "rb") as fh:
            fh.seek(ch.start)
            data = fh.read(ch.end - ch.start)
    col = Collected()
    col.ignored_keys.update(ch.ignored_keys)
    if ch.mode == "ndjson":
        parse_ndjson(data, col, ch.pos0)
        return col
    try:
        doc = orjson.loads(b"[" + data + b"]")
    except orjson.JSONDecodeError as e:
        what = "nested too deeply" if "depth" in str(e.msg) else "malformed JSON"
        raise BadFile(f"{what} in the objects from position {ch.pos0} "
                      f"({str(e.msg).split(':')[0]})") from None
    walk_document(doc, col, ch.pos0, ch.key)
    return col
