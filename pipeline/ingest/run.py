"""Ingest planner and runner: a raw dump folder -> every canonical table, plus a report.

Files are detected by content (gzip magic, JSON / NDJSON / CSV), never by name; parsing is in
pipeline/ingest/parse.py. This module finds the files, fans the work out to `workers`
processes, and concatenates the results in file order, so the output does not depend on
scheduling.

Work units: a file is one unit, except big files, which are cut at object boundaries into
chunks of ~CHUNK_BYTES (positions are kept), so that one huge file still uses every worker and
no process ever holds more than one chunk's decoded objects. Runs of tiny objects are cut from
one chunk up (decoded, they take ~30x their size). A gzip file is gunzipped streaming, never
past `max_decompressed_bytes`; a big one is spilled to a temporary file and cut like a plain
file. Everything passed over (hidden, README*, FIFOs, dangling symlinks, symlinked folders) is
listed in the report with its reason.

Engines (pipeline/engine.py): the local engine runs units in this machine's process pool; the
dask engine runs them as Dask tasks. Results are taken in unit order on both, so the tables
and report are byte-identical. Dask units hold paths, never file bytes: workers read the dump
(and the planner's temporary files) themselves, so a remote cluster needs them on a shared
filesystem at the same paths.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pipeline.util import no_gc
from pipeline.errors import InputError
from pipeline.params import default

# Tunables: params ingest.<name in lower case> (defaults in pipeline/params.py; tests use tiny values).
SPLIT_ABOVE_BYTES = default("ingest.split_above_bytes")  # decoded files above this are split
CHUNK_BYTES = default("ingest.chunk_bytes")
POOL_MIN_BYTES = default("ingest.pool_min_bytes")  # below this total, process start-up costs more
MAX_DECOMPRESSED_BYTES = default("ingest.max_decompressed_bytes")  # per gzip file (gzip bombs)
# Deflate expands at most ~1032x: a gzip file this small cannot exceed the split size, so a
# worker gunzips it in memory; bigger ones are streamed by the planner (see _plan_gzip).
_DEFLATE_MAX_RATIO = 1032

ON_BAD_FILE = ("error", "skip")


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


def discover(raw_dir: Path) -> tuple[list[str], list[dict]]:
    """(data files, passed over) under raw_dir, recursively. Data files are sorted
    dataset-relative posix paths; every other entry is passed over with its reason, so the
    report can list it: hidden files and folders, README* (documentation), symlinked folders
    (not followed: they may loop or leave the dataset), dangling symlinks, FIFOs, sockets and
    devices. Names that are not UTF-8 are data files shown with backslash escapes; ingest
    refuses them as bad files (see _name_problem)."""
    import stat

    files, passed = [], []

    def rel_of(root, name):
        return Path(root, name).relative_to(raw_dir).as_posix()

    for root, dirs, names in os.walk(raw_dir):
        keep = []
        for d in sorted(dirs):
            if d.startswith("."):
                passed.append({"file": display(rel_of(root, d)) + "/", "reason": "hidden folder"})
            elif os.path.islink(os.path.join(root, d)):
                passed.append({"file": display(rel_of(root, d)) + "/",
                               "reason": "symlinked folder, not followed"})
            else:
                keep.append(d)
        dirs[:] = keep
        for f in names:
            rel = rel_of(root, f)
            path = os.path.join(root, f)
            reason = None
            if f.startswith("."):
                reason = "hidden file"
            elif f.lower().startswith("readme"):
                reason = "README* is taken as documentation (rename the file to ingest it)"
            else:
                try:
                    mode = os.stat(path).st_mode
                except FileNotFoundError:
                    reason = "dangling symlink"
                except OSError as e:
                    reason = f"cannot stat ({e.strerror or e})"
                else:
                    if not stat.S_ISREG(mode):
                        kind = ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
                                else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                                else "folder" if stat.S_ISDIR(mode) else "special file")
                        reason = f"not a regular file ({kind})"
            if reason is None:
                files.append(rel)
            else:
                passed.append({"file": display(rel), "reason": reason})
    files.sort(key=display)
    passed.sort(key=lambda p: p["file"])
    return files, passed


def display(rel: str) -> str:
    """A path as it can be printed and stored: bytes that are not UTF-8 (surrogate escapes
    from the file system) shown as \\xNN."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace")


def _name_problem(rel: str) -> str | None:
    if display(rel) != rel:
        return "file name is not valid UTF-8; rename the file to ingest it"
    return None


def _check_params(params: dict) -> tuple[str, int, dict]:
    on_bad = str(params.get("on_bad_file", default("ingest.on_bad_file")))
    if on_bad not in ON_BAD_FILE:
        raise InputError(f"params ingest.on_bad_file must be one of {', '.join(ON_BAD_FILE)}, got '{on_bad}'")
    sizes = {}
    for key, fallback in (("workers", default("ingest.workers")), ("split_above_bytes", SPLIT_ABOVE_BYTES),
                         ("chunk_bytes", CHUNK_BYTES), ("pool_min_bytes", POOL_MIN_BYTES),
                         ("max_decompressed_bytes", MAX_DECOMPRESSED_BYTES)):
        try:
            sizes[key] = max(1, int(params.get(key, fallback) or fallback))
        except (TypeError, ValueError):
            raise InputError(f"params ingest.{key} must be an integer, got {params.get(key)!r}") from None
    return on_bad, sizes.pop("workers"), sizes


def ingest_dir(raw_dir: Path, params: dict, on_file: Callable[[int, int, str], None] | None = None,
               engine=None):
    """Read every data file under `raw_dir` into the canonical tables.

    Returns (tables, report): tables maps every name of model.TABLES to a conformed DataFrame
    (empty ones included); report is JSON-able (per-file formats, kinds and row counts, table
    counts, unknown and skipped files). Raises InputError for a missing/empty folder and, unless
    params["on_bad_file"] == "skip", for the first bad file in path order.

    With workers > 1 and enough data, parsing runs in a "forkserver" process pool, so a script
    calling this must guard its entry point with `if __name__ == "__main__":` (as usual with
    multiprocessing); the dcnet CLI, pytest and notebooks need nothing.

    `engine`: None for the local engine, else a pipeline.engine.DaskEngine; every unit then
    runs as a Dask task (whatever the size of the input and ingest.workers).
    """
    raw_dir = Path(raw_dir)
    on_bad, workers, tun = _check_params(params)
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: input folder does not exist")
    files, passed_over = discover(raw_dir)
    if not files:
        raise InputError(f"{raw_dir}: no data files found ("
                         + (f"{len(passed_over)} entries passed over, e.g. {passed_over[0]['file']}: "
                            f"{passed_over[0]['reason']}" if passed_over else "the folder is empty")
                         + ")")
    sizes = [(raw_dir / f).stat().st_size for f in files]
    use_pool = workers > 1 and sum(sizes) >= tun["pool_min_bytes"]
    with _TempFiles(getattr(engine, "temp_dir", None)) as temps:
        units = _plan_files(raw_dir, files, sizes, tun, temps, paths_only=engine is not None)
        frames, report = _ingest(units, files, sizes, str(raw_dir), on_bad,
                                 workers if use_pool else 1, on_file, engine, temps.release)
    report["passed_over"] = passed_over
    report["files_passed_over"] = len(passed_over)
    return frames, report


class _TempFiles:
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


def ingest_payloads(payloads: dict[str, bytes], params: dict, label: str = "<memory>"):
    """Same as ingest_dir over in-memory files {relative path: bytes}, in this process."""
    on_bad, _, tun = _check_params(params)
    files = sorted(payloads)
    cap = tun["max_decompressed_bytes"]
    units = (Unit(i, rel, data=payloads[rel], cap=cap) for i, rel in enumerate(files))
    return _ingest(units, files, [len(payloads[f]) for f in files], label, on_bad, 1, None)


def _plan_files(raw_dir: Path, files: list[str], sizes: list[int], tun: dict,
                temps: _TempFiles, paths_only: bool = False) -> Iterator[Unit]:
    """Units in file order; big files are read and split here, lazily, as workers free up.
    `paths_only`: units name files instead of holding bytes (for workers on other machines)."""
    from pipeline.ingest.sources import alcor_stream

    split_above, chunk = tun["split_above_bytes"], tun["chunk_bytes"]
    cap = tun["max_decompressed_bytes"]
    for i, (rel, size) in enumerate(zip(files, sizes)):
        path = raw_dir / rel
        # names that cannot be read, and Alcor request streams (captures link lines far
        # apart), go to one worker whole
        if _name_problem(rel) or alcor_stream.is_stream_file(path):
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
               temps: _TempFiles, paths_only: bool = False) -> Iterator[Unit]:
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


def _spill(i: int, rel: str, data: bytes, cap: int, temps: _TempFiles) -> Unit:
    """The in-memory unit of a gunzipped file, its bytes written to a temporary file."""
    out = temps.new()
    with out:
        out.write(data)
    return Unit(i, rel, path=out.name, cap=cap, decompressed=True, spilled=True)


def _run_unit(u: Unit):
    """Parse one unit. Returns ("ok", tables, summary) or ("bad", problem)."""
    import pipeline.ingest.parse as parse
    from pipeline.ingest.decode import DEFAULT_MAX_DECOMPRESSED, BadFile
    from pipeline.ingest.sources import alcor_stream
    from pipeline.ingest.tables import build_tables

    try:
        problem = u.problem or _name_problem(u.rel)
        if problem:
            raise BadFile(problem)
        if u.chunk is not None:
            col = parse.parse_chunk(u.chunk, u.path)
            fmt, gz = u.fmt, u.gz
        else:
            data = u.data
            if data is None:
                with open(u.path, "rb") as fh:
                    data = fh.read()
            cap = u.cap or DEFAULT_MAX_DECOMPRESSED
            stream = alcor_stream.parse_unit(data, u.rel, cap)
            if stream is not None:
                return stream
            col, fmt, gz = parse.parse_payload(data, cap, decompressed=u.decompressed)
            del data
        kinds = {t: len(r) for t, r in col.recs.items() if r}
        if col.labels:
            kinds["project_labels"] = len(col.labels)
        tables = build_tables(col, u.rel)
    except BadFile as e:
        if u.chunk is None and not u.spilled and alcor_stream.beside_stream(u.path):
            return alcor_stream.unknown_file()  # e.g. the K6 script
        return ("bad", str(e))
    except OSError as e:
        return ("bad", f"cannot read the file ({e.strerror or e})")
    except RecursionError:  # a value nested too deeply to store (orjson reads 1,024 levels)
        return ("bad", "JSON nested too deeply to store")
    except MemoryError:
        return ("bad", "out of memory while parsing the file (split it, or lower "
                       "ingest.chunk_bytes)")
    summary = {"format": fmt, "gzip": gz, "objects": kinds,
               "rows": {t: tbl.num_rows for t, tbl in tables.items()},
               "unknown": col.unknown, "ignored_keys": sorted(col.ignored_keys),
               "redacted": col.redacted}
    return ("ok", tables, summary)


def _one_line(msg: str) -> str:
    # file names and CSV header cells may hold line breaks; the CLI promises one line
    return msg.replace("\r", "\\r").replace("\n", "\\n")



def _worker_init() -> None:
    gc.disable()


def _run_unit_task(u: Unit):
    """_run_unit as a Dask task, the collector paused while it runs (the local pool pauses it
    for good in its workers; a Dask worker runs its own code between tasks)."""
    with no_gc():
        return _run_unit(u)


def _execute(units: Iterable[Unit], workers: int, on_bad: str, label: str,
             on_unit: Callable[[Unit, tuple], None], engine=None,
             release: Callable[[str | None], None] | None = None) -> dict[int, str]:
    """Run units (on the dask engine, else in a process pool when workers > 1) and hand
    results over in unit order. Returns {file index: problem} for bad files; raises at the
    first one unless skipping. `release(path)` is called once a file's last unit is done."""
    bad: dict[int, str] = {}

    def handle(u: Unit, res: tuple) -> None:
        if u.last and release:  # earlier units of the file were handled before (unit order)
            release(u.path)
        if u.file_idx in bad:  # an earlier chunk of this file was bad (skip mode)
            return
        if res[0] == "bad":
            problem = _one_line(res[1])
            if on_bad == "error":
                raise InputError(_one_line(f"{display(Path(label, u.rel).as_posix())}: {problem}"))
            bad[u.file_idx] = problem
            return
        on_unit(u, res)

    if engine is not None:
        from contextlib import closing

        # closing: an error in handle() cancels the units still in flight
        name = lambda u: _one_line(display(Path(label, u.rel).as_posix()))  # noqa: E731
        with closing(engine.run_ordered(_run_unit_task, units, describe=name)) as results:
            for u, res in results:
                handle(u, res)
        return bad

    if workers <= 1:
        for u in units:
            handle(u, _run_unit(u))
        return bad

    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # forkserver, not fork: the CLI's progress bar runs a thread, and forking a threaded
    # process can deadlock; the server preloads the parsing modules once.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.ingest.parse", "pipeline.ingest.tables"])
    inflight: deque = deque()
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as ex:
        try:
            for u in units:
                while len(inflight) >= 2 * workers:
                    v, fut = inflight.popleft()
                    handle(v, fut.result())
                inflight.append((u, ex.submit(_run_unit, u)))
            while inflight:
                v, fut = inflight.popleft()
                handle(v, fut.result())
        except BaseException:
            for _, fut in inflight:
                fut.cancel()
            raise
    return bad


def _ingest(units, files, sizes, label, on_bad, workers, on_file, engine=None, release=None):
    import pyarrow as pa

    from schemas import model

    n = len(files)
    per_file: list[list] = [[] for _ in files]
    if on_file:
        on_file(0, n, display(files[0]))

    def on_unit(u: Unit, res: tuple) -> None:
        per_file[u.file_idx].append(res)
        if u.last and on_file:
            on_file(u.file_idx + 1, n, display(u.rel))

    with no_gc():
        bad = _execute(units, workers, on_bad, label, on_unit, engine, release)

        parts: dict[str, list] = {t: [] for t in model.TABLES}
        file_reports, unknown_files, skipped = [], [], []
        for i, rel in enumerate(files):
            if i in bad:
                skipped.append({"file": display(rel), "reason": bad[i]})
                continue
            rep = _file_report(rel, sizes[i], per_file[i])
            file_reports.append(rep)
            for reason, (count, first) in sorted(rep.pop("_unknown").items(), key=lambda kv: kv[1][1]):
                unknown_files.append({"file": rel, "reason": reason, "objects": count, "first_pos": first})
            for _, tables, _ in per_file[i]:
                for t, tbl in tables.items():
                    parts[t].append(tbl)
            per_file[i] = []
        n_err = {t: sum(x.num_rows - x.column("ingest_errors").null_count for x in parts[t]) for t in parts}
        frames = {t: _to_frame(t, parts.pop(t), pa) for t in list(parts)}

    redacted: dict[str, int] = {}
    for f in file_reports:
        for k, v in f["redacted"].items():
            redacted[k] = redacted.get(k, 0) + v
    report = {
        "input": label,
        "files_total": n,
        "files_ingested": len(file_reports),
        "objects": sum(sum(f["objects"].values()) for f in file_reports),
        "unknown_objects": sum(u["objects"] for u in unknown_files),
        # values of secret-like keys (passwords, keys, tokens) replaced by "<redacted>"
        "redacted_values": sum(redacted.values()),
        "redacted_keys": dict(sorted(redacted.items())),
        "tables": {t: int(len(df)) for t, df in frames.items()},
        "rows_with_ingest_errors": n_err,
        "files": file_reports,
        "unknown_files": unknown_files,
        "skipped_files": skipped,
    }
    return frames, report


def _file_report(rel: str, size: int, results: list) -> dict:
    objects: dict[str, int] = {}
    rows: dict[str, int] = {}
    unknown: dict[str, list] = {}
    ignored: set = set()
    redacted: dict[str, int] = {}
    fmt, gz = "", False
    for _, _, s in results:
        for k, v in s["redacted"].items():
            redacted[k] = redacted.get(k, 0) + v
        fmt, gz = fmt or s["format"], gz or s["gzip"]
        for k, v in s["objects"].items():
            objects[k] = objects.get(k, 0) + v
        for k, v in s["rows"].items():
            rows[k] = rows.get(k, 0) + v
        for reason, (count, first) in s["unknown"].items():
            u = unknown.setdefault(reason, [0, first])
            u[0] += count
            u[1] = min(u[1], first)
        ignored.update(s["ignored_keys"])
    return {"file": rel, "format": fmt, "gzip": gz, "bytes": size,
            "objects": dict(sorted(objects.items())), "rows": dict(sorted(rows.items())),
            "unknown_objects": sum(u[0] for u in unknown.values()),
            "ignored_keys": sorted(ignored), "redacted": dict(sorted(redacted.items())),
            "_unknown": unknown}


_EMPTY: dict = {}


def _to_frame(name: str, tables: list, pa):
    import pandas as pd

    from pipeline.ingest.rows import SCHEMAS
    from schemas import model

    if not tables:
        # cached: building an empty frame costs milliseconds, per table, per call
        if name not in _EMPTY:
            _EMPTY[name] = _to_frame(name, [SCHEMAS[name].empty_table()], pa)
        return _EMPTY[name].copy()
    tbl = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    mapper = {pa.string(): pd.StringDtype("pyarrow"), pa.int64(): pd.Int64Dtype(),
              pa.bool_(): pd.BooleanDtype(), pa.float64(): pd.Float64Dtype()}
    df = tbl.to_pandas(types_mapper=mapper.get)
    return model.conform(df, name)
