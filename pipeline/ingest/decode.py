"""Bytes of one raw file -> text ingest can parse: gzip (streamed, capped at
`ingest.max_decompressed_bytes`), the UTF-8 BOM, UTF-8 and JSON error messages, binary refusal.
Every problem is a BadFile whose message says what; the caller adds which file."""

from __future__ import annotations

import gzip
import io
import zlib

import orjson

from pipeline.params import default


class BadFile(Exception):
    """A file-level problem; the message says what, the caller adds which file."""


GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
WS = b" \t\r\n"


DEFAULT_MAX_DECOMPRESSED = default("ingest.max_decompressed_bytes")
_PIECE = 1 << 20


def gunzip_pieces(fileobj, cap: int, piece: int = _PIECE):
    """Decompressed pieces of a gzip stream (concatenated members included), streamed: memory
    holds one piece. Raises BadFile past `cap` decompressed bytes or on a corrupt stream."""
    total = 0
    try:
        with gzip.GzipFile(fileobj=fileobj) as g:
            while True:
                out = g.read(piece)
                if not out:
                    return
                total += len(out)
                if total > cap:
                    raise BadFile(f"decompresses to more than {cap:,} bytes, the cap of "
                                  "ingest.max_decompressed_bytes")
                yield out
    except (OSError, EOFError, zlib.error) as e:
        raise BadFile(f"corrupt or truncated gzip ({e})") from None


def decompress(data: bytes, cap: int = DEFAULT_MAX_DECOMPRESSED) -> tuple[bytes, bool]:
    """Gunzip when the gzip magic is there (names are not trusted). Returns (bytes, was_gzip)."""
    if data[:2] != GZIP_MAGIC:
        return data, False
    return b"".join(gunzip_pieces(io.BytesIO(data), cap)), True


def strip_bom(data: bytes) -> bytes:
    if data.startswith(BOM):
        data = data[3:]
    return data


def utf8_problem(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return utf8_message(data, e)
    return None


def utf8_message(data: bytes, e: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, e.start) + 1
    return f"not valid UTF-8 (byte 0x{data[e.start]:02x} at line {line}, offset {e.start})"


def json_error(e: orjson.JSONDecodeError, line0: int = 0) -> str:
    msg = str(e.msg).split(":")[0] if e.msg else "invalid JSON"
    if "depth" in msg or "recursion" in msg:
        return (f"JSON nested too deeply at line {e.lineno + line0} column {e.colno} "
                "(more than 1,024 levels)")
    return f"malformed JSON at line {e.lineno + line0} column {e.colno} ({msg})"


def refuse_binary(head: bytes) -> None:
    """Raise BadFile when the first bytes of a (decompressed) file hold a NUL byte: no JSON,
    NDJSON or CSV text does."""
    nul = head.find(b"\0", 0, 1 << 16)
    if nul >= 0:
        raise BadFile(f"binary data (NUL byte at offset {nul}), not JSON, NDJSON or CSV")


def type_name(v) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(v), type(v).__name__)
