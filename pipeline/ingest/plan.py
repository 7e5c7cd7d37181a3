"""Planning a dump into work units: a file is one unit, a big one is cut into chunks at
object boundaries, a gzip file is gunzipped streaming (never past the cap) and a big one
spilled to a temporary file, then cut like a plain file. Units are made lazily, in file
order, as workers free up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.ingest.files import name_problem


# Deflate expands at most ~1032x: a gzip file this small cannot exceed the split size, so a
# worker gunzips it in memory; bigger ones are streamed by the planner (see _plan_gzip).
_DEFLATE_MAX_RATIO = 1032


@dataclass
class Unit:
    file_idx: int
    rel: str
    path: str | None = None      # whole file, read by the worker
    data: bytes | None = None    # whole file given in memory
    chunk: object = None         # chunks.Chunk of a big file (read from `path` unless it has data)
    fmt: str = ""                # format of a chunked file
    gz: bool = False
    last: bool = True            # last unit of its file
    decompressed: bool = False   # a gzip file already gunzipped (into `data` or a temp `path`)
    cap: int = 0                 # ingest.max_decompressed_bytes
    problem: str = ""            # a bad file found while planning (reported by the worker)
    # `path` is a temporary file standing in for `data` (dask engine: units hold paths); the
    # worker then treats the unit exactly like the in-memory one
    spilled: bool = False


class TempFiles:
    """Temporary files holding gunzipped files, removed once their file's last unit is done,
    and all of them when ingest ends (or fails). `folder`: None for the system's."""

    def __init__(self, folder: str | None = None):
        self.folder = folder or None
        self.paths: set[str] = set()

    def new(self):
        import tempfile

        fh = tempfile.NamedTemporaryFile(prefix="dcnet-ingest-", suffix=".json", delete=False,
                                         dir=self.folder)
        self.paths.add(fh.name)
        return fh

    def release(self, path: str | None) -> None:
        if path in self.paths:
            self.paths.discard(path)
            _unlink(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.paths:
            _unlink(p)
        self.paths.clear()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def plan_files(raw_dir: Path, files: list[str], sizes: list[int], tun: dict,
                temps: TempFiles, paths_only: bool = False) -> Iterator[Unit]:
    """Units in file order; big files are read and split here, lazily, as workers free up.
    `paths_only`: units name files instead of holding bytes (for workers on other machines)."""
    from pipeline.ingest.sources import alcor_stream

    split_above, chunk = tun["split_above_bytes"], tun["chunk_bytes"]
    cap = tun["max_decompressed_bytes"]
    for i, (rel, size) in enumerate(zip(files, sizes)):
        path = raw_dir / rel
        # names that cannot be read, and Alcor request streams (captures link lines far
        # apart), go to one worker whole
        if name_problem(rel) or alcor_stream.is_stream_file(path):
            yield Unit(i, rel, path=str(path), cap=cap)
            continue
        try:
            with open(path, "rb") as fh:
                gz = fh.read(2) == _GZIP_MAGIC
        except OSError:
            gz = False  # the worker reports the problem
        if gz and size > split_above // _DEFLATE_MAX_RATIO:
            yield from _plan_gzip(i, rel, path, split_above, chunk, cap, temps, paths_only)
            continue
        # Runs of tiny objects cost ~30x their size once decoded: split them from one chunk up.
        if not gz and (size > split_above or (size > chunk and _tiny_items(path))):
            split = _split_plain(i, rel, str(path), chunk, gz=False, decompressed=False)
            if split is not None:
                yield from split
                continue
        yield Unit(i, rel, path=str(path), cap=cap)


_GZIP_MAGIC = b"\x1f\x8b"


def _tiny_items(path: Path) -> bool:
    import mmap

    import numpy as np

    from pipeline.ingest.chunks import items_are_tiny

    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return items_are_tiny(mm, np)
    except (OSError, ValueError):
        return False  # the worker reports an unreadable file


def _split_plain(i: int, rel: str, path: str, chunk: int, gz: bool,
                 decompressed: bool) -> Iterator[Unit] | None:
    import mmap

    from pipeline.ingest.chunks import plan_chunks

    with open(path, "rb") as fh:
        # mmap: the boundary scan needs no copy of the file, and workers read their own range
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            chunks = plan_chunks(mm, chunk)
    if chunks is None:
        return None
    fmt = "ndjson" if chunks[0].mode == "ndjson" else "json"
    return (Unit(i, rel, path=path, chunk=ch, fmt=fmt, gz=gz, decompressed=decompressed,
                 last=k == len(chunks) - 1)
            for k, ch in enumerate(chunks))


def _plan_gzip(i: int, rel: str, path: Path, split_above: int, chunk: int, cap: int,
               temps: TempFiles, paths_only: bool = False) -> Iterator[Unit]:
    """A gzip file that may be big: gunzip it streaming (never past `cap`). Up to
    `split_above` bytes it goes to a worker in memory (`paths_only`: in a temporary file);
    beyond, it is spilled to a temporary file and split like a plain big file, so memory grows
    with the chunk, not the file."""
    from pipeline.ingest.chunks import items_are_tiny
    from pipeline.ingest.decode import BadFile, gunzip_pieces, refuse_binary

    def bad(problem: str) -> Unit:
        # a unit whose worker reports the problem (keeps the error path in one place)
        return Unit(i, rel, data=b"", problem=problem)

    import numpy as np

    pieces, held = [], 0
    try:
        with open(path, "rb") as fh:
            stream = gunzip_pieces(fh, cap)
            for piece in stream:
                if not pieces:  # refuse binary content now, not after gunzipping all of it
                    refuse_binary(piece)
                pieces.append(piece)
                held += len(piece)
                if held > split_above:
                    break
            else:
                data = b"".join(pieces)
                # runs of tiny objects cost ~30x their size once decoded: split those too
                if held <= chunk or not items_are_tiny(data, np):
                    if paths_only and data:
                        yield _spill(i, rel, data, cap, temps)
                    else:
                        yield Unit(i, rel, data=data, cap=cap, decompressed=True)
                    return
                pieces = [data]
            out = temps.new()
            with out:
                for piece in pieces:
                    out.write(piece)
                pieces = []
                for piece in stream:
                    out.write(piece)
    except BadFile as e:
        yield bad(str(e))
        return
    except OSError as e:
        yield bad(f"cannot read the file ({e.strerror or e})")
        return
    split = _split_plain(i, rel, out.name, chunk, gz=True, decompressed=True)
    if split is None:  # not splittable: one worker reads the gunzipped file whole
        yield Unit(i, rel, path=out.name, cap=cap, gz=True, decompressed=True)
    else:
        yield from split


def _spill(i: int, rel: str, data: bytes, cap: int, temps: TempFiles) -> Unit:
    """The in-memory unit of a gunzipped file, its bytes written to a temporary file."""
    out = temps.new()
    with out:
        out.write(data)
    return Unit(i, rel, path=out.name, cap=cap, decompressed=True, spilled=True)
