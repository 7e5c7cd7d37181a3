"""Deterministic JSON for every exporter: keys sorted, fixed separators."""

from __future__ import annotations

import orjson


def dumps(obj) -> bytes:
    """Compact JSON, keys sorted."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def dumps_pretty(obj) -> bytes:
    """Keys sorted, a fixed 2-space indent, a final newline (files meant to be read)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
