"""Ingest runner: a raw dump folder -> every canonical table, plus a report.

Files are found by files.py and detected by content (gzip magic, JSON / NDJSON / CSV), never
by name; parsing is in parse.py. This module fans the units out to `workers` processes (or
Dask) and takes the results in file order, so the output does not depend on scheduling; with
an output folder (`dcnet ingest`), each file's rows are written as soon as it is done
(io.TableParts), so this process never holds the whole dump.

Work units (plan.py; worker.py runs one): a file is one unit, except big files, which are cut at object boundaries into
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
from collections import deque
from pathlib import Path
from typing import Callable, Iterable

from pipeline.util import no_gc
from pipeline.errors import InputError
from pipeline.ingest.files import discover, display
from pipeline.ingest.plan import TempFiles, Unit, plan_files
from pipeline.ingest.frames import to_frame
from pipeline.ingest.worker import run_unit, run_unit_task
from pipeline.params import default

# Tunables: params ingest.<name in lower case> (defaults in pipeline/params.py; tests use tiny values).
SPLIT_ABOVE_BYTES = default("ingest.split_above_bytes")  # decoded files above this are split
CHUNK_BYTES = default("ingest.chunk_bytes")
POOL_MIN_BYTES = default("ingest.pool_min_bytes")  # below this total, process start-up costs more
MAX_DECOMPRESSED_BYTES = default("ingest.max_decompressed_bytes")  # per gzip file (gzip bombs)
ON_BAD_FILE = ("error", "skip")


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
               engine=None, out=None):
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

    `out`: a pipeline.io.TablesOut (`io.writing_tables`) to write the tables into as the files
    are read, in file order, instead of returning them (tables is then None): this process
    then holds only the files in flight and up to two parts per table, not the whole dump.
    The files written are the same as writing the returned tables.
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
    with TempFiles(getattr(engine, "temp_dir", None)) as temps:
        units = plan_files(raw_dir, files, sizes, tun, temps, paths_only=engine is not None)
        frames, report = _ingest(units, files, sizes, str(raw_dir), on_bad,
                                 workers if use_pool else 1, on_file, engine, temps.release, out)
    report["passed_over"] = passed_over
    report["files_passed_over"] = len(passed_over)
    return frames, report


def ingest_payloads(payloads: dict[str, bytes], params: dict, label: str = "<memory>"):
    """Same as ingest_dir over in-memory files {relative path: bytes}, in this process."""
    on_bad, _, tun = _check_params(params)
    files = sorted(payloads)
    cap = tun["max_decompressed_bytes"]
    units = (Unit(i, rel, data=payloads[rel], cap=cap) for i, rel in enumerate(files))
    return _ingest(units, files, [len(payloads[f]) for f in files], label, on_bad, 1, None)


def _one_line(msg: str) -> str:
    # file names and CSV header cells may hold line breaks; the CLI promises one line
    return msg.replace("\r", "\\r").replace("\n", "\\n")


def _worker_init() -> None:
    gc.disable()


def _execute(units: Iterable[Unit], workers: int, on_bad: str, label: str,
             on_unit: Callable[[Unit, tuple], None], engine=None,
             release: Callable[[str | None], None] | None = None,
             task: Callable | None = None) -> dict[int, str]:
    """Run units (on the dask engine, else in a process pool when workers > 1) and hand
    results over in unit order. Returns {file index: problem} for bad files; raises at the
    first one unless skipping. `release(path)` is called once a file's last unit is done.
    `task`: what a Dask task runs on a unit (default: run_unit, paused collector)."""
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
        with closing(engine.run_ordered(task or run_unit_task, units, describe=name)) as results:
            for u, res in results:
                handle(u, res)
        return bad

    if workers <= 1:
        for u in units:
            handle(u, run_unit(u))
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
                inflight.append((u, ex.submit(run_unit, u)))
            while inflight:
                v, fut = inflight.popleft()
                handle(v, fut.result())
        except BaseException:
            for _, fut in inflight:
                fut.cancel()
            raise
    return bad


def _ingest(units, files, sizes, label, on_bad, workers, on_file, engine=None, release=None,
            out=None):
    from schemas import model

    n = len(files)
    per_file: list[list] = [[] for _ in files]
    reports: dict[int, dict] = {}
    parts: dict[str, list] = {t: [] for t in model.TABLES}
    n_err = dict.fromkeys(model.TABLES, 0)
    rows = dict.fromkeys(model.TABLES, 0)
    if on_file:
        on_file(0, n, display(files[0]))

    # On Dask with an output folder the workers write (worker_tables.py): a unit's tables come
    # back as files of the units folder with their row counts, and are cut into the output's
    # files by tasks at the end; this process only keeps the order.
    spread = engine is not None and out is not None
    units_dir = None
    if spread:
        import pipeline.ingest.worker_tables as worker_tables

        units_dir = worker_tables.units_folder(out)

    def done(i: int) -> None:
        """File i is read and good; every earlier file is done (units come in order)."""
        reports[i] = _file_report(files[i], sizes[i], per_file[i])
        for _, tables, _ in per_file[i]:
            for t, tbl in tables.items():
                if spread:  # a worker_tables.UnitTable: the rows are in its file
                    n_err[t] += tbl.errors
                    rows[t] += tbl.rows
                    if tbl.rows:
                        parts[t].append((tbl.path, tbl.rows))
                    continue
                n_err[t] += tbl.num_rows - tbl.column("ingest_errors").null_count
                rows[t] += tbl.num_rows
                if out is None:
                    parts[t].append(tbl)
                elif tbl.num_rows:
                    out.table(t).append(to_frame(t, [tbl]))
        per_file[i] = []

    def on_unit(u: Unit, res: tuple) -> None:
        per_file[u.file_idx].append(res)
        if u.last:
            done(u.file_idx)
            if on_file:
                on_file(u.file_idx + 1, n, display(u.rel))

    with no_gc():
        task = worker_tables.unit_task(units_dir) if spread else None
        bad = _execute(units, workers, on_bad, label, on_unit, engine, release, task)

        file_reports, unknown_files, skipped = [], [], []
        for i, rel in enumerate(files):
            if i in bad:
                skipped.append({"file": display(rel), "reason": bad[i]})
                continue
            rep = reports[i] if i in reports else _file_report(rel, sizes[i], per_file[i])
            file_reports.append(rep)
            for reason, (count, first) in sorted(rep.pop("_unknown").items(), key=lambda kv: kv[1][1]):
                unknown_files.append({"file": rel, "reason": reason, "objects": count, "first_pos": first})
        if spread:
            frames = None
            worker_tables.write_tables(engine, out, parts, units_dir)
        elif out is None:
            frames = {t: to_frame(t, parts.pop(t)) for t in list(parts)}
        else:
            frames = None
            for t in model.TABLES:  # every model table is in the output, empty ones too
                if t not in out.tables:
                    out.table(t).append(to_frame(t, []))

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
        "tables": {t: int(rows[t]) for t in model.TABLES},
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
