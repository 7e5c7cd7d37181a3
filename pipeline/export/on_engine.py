"""The export as Dask tasks (`dcnet export --engine dask`): the same folders, byte for byte.

Tasks carry paths, not tables: each reads the input folder itself (a shared filesystem, as for
ingest) and writes into the format's temporary folder under OUT. A worker builds the topology
once and keeps it for its next task of the same export (one entry per worker process, dropped
when the export ends). A format with `write_group`/`finish` is written by one task per worker
thread, then `finish` here joins their results: containerlab's lab files (parts 1, 1 + n,
1 + 2n, ... for the first task; then parts.json), the Alcor stream (its port requests in one
range of the ports per task, in setup order) and the GraphML document (a range of its slices
per task); part files are joined in order. Mininet and Merak are one task each. The report is
the local engine's: same topology summary, formats in the order asked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pipeline.util import no_gc

# (input folder, params of the topology) -> tables / topology, in a worker process
_WORKER_CACHE: dict = {}
TOPOLOGY_ONLY = "_topology"  # a task that only builds the topology (for the report's summary)
REQUIRED_TABLES = ["hosts", "fabric_switches", "fabric_links"]  # what require_tables reads


def export_on_engine(engine, input_dir: Path, required: dict, formats: list[str], out: Path,
                     params: dict, derive_fabric: bool = False, on_format=None,
                     on_written=None) -> dict:
    """export_tables' folders and report, written by Dask tasks (see the module doc).
    `required`: the tables require_tables reads (REQUIRED_TABLES of `input_dir`), checked here
    so bad input fails before any task starts."""
    from contextlib import ExitStack

    from pipeline.export import _COST, _module, needs_fabric, needs_topology
    from pipeline.export.topology import require_tables
    from pipeline.io import atomic_dir, writing

    exp = dict(params.get("export") or {})
    need_fabric = needs_fabric(formats)
    require_tables(required, derive_fabric, need_fabric)
    shared = (str(Path(input_dir).resolve()), dict(params.get("fabric") or {}), derive_fabric,
              need_fabric, exp)
    threads = max(1, sum(engine.client.nthreads().values()))
    with ExitStack() as folders, writing(out):  # every format folder renamed into place, or none
        targets = {fmt: folders.enter_context(atomic_dir(Path(out) / fmt)) for fmt in formats}
        tasks = []
        for fmt in sorted(formats, key=lambda f: _COST.get(f, 9)):  # heaviest first
            groups = threads if hasattr(_module(fmt), "write_group") else 1
            tasks += [(fmt, str(targets[fmt]), group, groups) for group in range(groups)]
        if not any(needs_topology(f) for f in formats):
            tasks.append((TOPOLOGY_ONLY, "", 0, 1))  # no format builds it: the report still has it
        pieces: dict = {fmt: [] for fmt in formats}
        seconds: dict = dict.fromkeys(formats, 0.0)
        summary = None
        try:
            for (_, (fmt, _, _, groups)), (result, took, topo_summary) in engine.run_ordered(
                    _task, [(shared, t) for t in tasks], per_worker=2, describe=_describe):
                summary = summary or topo_summary
                if fmt == TOPOLOGY_ONLY:
                    continue
                pieces[fmt].append(result)
                seconds[fmt] += took
                if len(pieces[fmt]) == groups and on_written:
                    on_written(fmt)
        finally:
            engine.client.run(_drop_cache)
        summaries = {fmt: _module(fmt).finish(targets[fmt], pieces[fmt])
                     if hasattr(_module(fmt), "finish") else pieces[fmt][0] for fmt in formats}
    if on_format:
        for fmt in formats:
            on_format(fmt, seconds[fmt])
    return {"topology": summary, "formats": summaries}


def _describe(item) -> str:
    fmt, _, group, groups = item[1]
    return f"export {fmt} (task {group + 1} of {groups})"


def _task(item):
    """One format (or one group of containerlab's parts) in a worker: (result, seconds, the
    topology's summary or None when the task did not build it)."""
    from pipeline.export import TablesOnly, _module, needs_topology

    shared, (fmt, target, group, groups) = item
    input_dir, fabric, derive_fabric, need_fabric, exp = shared
    with no_gc():
        t0 = time.perf_counter()
        if fmt != TOPOLOGY_ONLY and not needs_topology(fmt):
            topo, summary = TablesOnly.of(_tables(input_dir)), None
        else:
            topo = _topology(input_dir, fabric, derive_fabric, need_fabric)
            summary = topo.summary
        if fmt == TOPOLOGY_ONLY:
            return None, 0.0, summary
        module = _module(fmt)
        if groups > 1:
            result = module.write_group(topo, Path(target), exp, group, groups)
        else:
            result = module.write(topo, Path(target), exp)
        return result, time.perf_counter() - t0, summary


def _tables(input_dir: str) -> dict:
    from pipeline import io

    key = ("tables", input_dir)
    if key not in _WORKER_CACHE:
        _WORKER_CACHE.clear()  # one export's data per worker
        _WORKER_CACHE[key] = io.read_tables(Path(input_dir))
    return _WORKER_CACHE[key]


def _topology(input_dir: str, fabric: dict, derive_fabric: bool, need_fabric: bool):
    from pipeline.export.topology import build_topology

    key = ("topology", input_dir, json.dumps(fabric, sort_keys=True, default=str), derive_fabric,
           need_fabric)
    if key not in _WORKER_CACHE:
        tables = _tables(input_dir)
        _WORKER_CACHE[key] = build_topology(tables, fabric, derive_fabric, require_fabric=need_fabric)
    return _WORKER_CACHE[key]


def _drop_cache() -> None:
    _WORKER_CACHE.clear()
