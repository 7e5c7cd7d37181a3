"""Deterministic JSON for every exporter (keys sorted, fixed separators), and one file from the
parts that tasks wrote side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson


def dumps(obj) -> bytes:
    """Compact JSON, keys sorted."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def dumps_pretty(obj) -> bytes:
    """Keys sorted, a fixed 2-space indent, a final newline (files meant to be read)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


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
