"""Export stage: canonical tables -> emulator inputs, one module per format.

    dcnet export --format all --input data/synthetic --out data/export

The topology (nodes, links, generated names) is built once by pipeline/export/topology/; each
format is a plug-in module of this package, named in the one registry EXPORTERS (format ->
module), with a `write(topo, out_dir, params) -> summary` and pure builders beside it; a new
format is a module plus one registry line. Formats import only topology/ and wire.py, never
this dispatcher. Every format gets its own folder `<out>/<format>/`, written into a
temporary folder and renamed into place once every requested format is complete (pipeline/io.py
`atomic_dir`): no stale file from an earlier, larger export survives, and a failed export (disk
full, a crash) leaves the previous folders as they were, never a half-written one.
On the dask engine (`dcnet export --engine dask`) the formats run as tasks instead
(on_engine.py), with the same folders. JSON/NDJSON outputs are deterministic: keys sorted, compact separators (pretty-printed with a fixed 2-space indent where meant to be
read), rows in a fixed order.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from contextlib import ExitStack
from pathlib import Path

from pipeline.util import no_gc
from pipeline.params import default

# The registry of exporters: format name -> module (imported when the format is written, so
# `dcnet export -f graphml` does not load the others).
EXPORTERS = {
    "mininet": "pipeline.export.mininet",
    "merak": "pipeline.export.merak",
    "alcor": "pipeline.export.alcor",
    "containerlab": "pipeline.export.containerlab",
    "graphml": "pipeline.export.graphml",
}
FORMATS = tuple(EXPORTERS)

def parse_formats(fmt: str) -> list[str]:
    from pipeline.errors import InputError

    names = [f.strip() for f in fmt.split(",") if f.strip()]
    if names == ["all"]:
        return list(FORMATS)
    bad = [f for f in names if f not in FORMATS]
    if bad or not names:
        raise InputError(f"--format {fmt}: unknown format; choose from {', '.join(FORMATS)}, all")
    return names


def _module(fmt: str):
    import importlib

    return importlib.import_module(EXPORTERS[fmt])


def export_tables(tables: dict, formats: list[str], out: Path, params: dict,
                  derive_fabric: bool = False, on_format=None, on_written=None) -> dict:
    """Build the topology and write every requested format under `out/<format>/`.

    params: the whole params.yaml dict (sections `export` and `fabric`). Returns the report
    (topology summary + per-format summaries), deterministic; timings go to `on_format`;
    `on_written(format)` is called as each format is written (a progress bar)."""
    with no_gc():
        return _export(tables, formats, Path(out), params, derive_fabric, on_format,
                       on_written or (lambda fmt: None))


def _export(tables, formats, out, params, derive_fabric, on_format, on_written) -> dict:
    from pipeline.io import atomic_dir, writing
    from pipeline.export.topology import build_topology, require_tables

    exp = dict(params.get("export") or {})
    need_fabric = needs_fabric(formats)
    require_tables(tables, derive_fabric, need_fabric)  # bad input fails before any work starts
    with ExitStack() as folders:  # on leaving: every format folder renamed into place, or none
        jobs = [(fmt, folders.enter_context(atomic_dir(out / fmt)), exp) for fmt in formats]
        workers = min(int(exp.get("workers") or default("export.workers")), len(jobs))
        forked = workers > 1 and "fork" in mp.get_all_start_methods()
        with writing(out), ExitStack() as pools:
            early = _start_tables_only(tables, jobs, pools) if forked else None
            topo = build_topology(tables, dict(params.get("fabric") or {}), derive_fabric,
                                  require_fabric=need_fabric)
            if forked:
                topo.names_csv()  # shared by three formats: build it once, before forking
                late = [j for j in jobs if early is None or j[0] not in early[0]]
                results = _run_forked(topo, late, workers, on_written) if late else {}
                if early is not None:
                    for fmt, result in early[1].get():
                        results[fmt] = result
                        on_written(fmt)
            else:
                results = {}
                for fmt, target, exp in jobs:
                    results[fmt] = _write_one(topo, fmt, target, exp)
                    on_written(fmt)
    report = {"topology": topo.summary, "formats": {}}
    for fmt in formats:
        summary, seconds = results[fmt]
        report["formats"][fmt] = summary
        if on_format:
            on_format(fmt, seconds)
    return report


def _start_tables_only(tables: dict, jobs: list, pools: ExitStack):
    """Fork the formats that read only the tables (`NEEDS_TOPOLOGY = False`, e.g. the Alcor
    stream) before the topology is built, so they run beside it: ({formats}, async result) or
    None."""
    early = [j for j in jobs if not needs_topology(j[0])]
    if not early:
        return None
    global _FORKED_TOPO
    _FORKED_TOPO = TablesOnly.of(tables)
    try:
        pool = pools.enter_context(mp.get_context("fork").Pool(len(early)))
    finally:
        _FORKED_TOPO = None
    return {j[0] for j in early}, pool.map_async(_forked_job, early, chunksize=1)


class TablesOnly:
    """What a plug-in with `NEEDS_TOPOLOGY = False` reads of the topology: its tables."""

    def __init__(self, tables: dict):
        self.tables = tables

    @classmethod
    def of(cls, tables: dict) -> "TablesOnly":
        """The tables as the topology holds them (hosts conformed)."""
        from schemas.model import conform

        return cls({**tables, "hosts": conform(tables["hosts"], "hosts")})


def needs_fabric(formats: list[str]) -> bool:
    """Whether any of the formats draws the physical fabric (a plug-in's NEEDS_FABRIC)."""
    return any(getattr(_module(f), "NEEDS_FABRIC", True) for f in formats)


def needs_topology(fmt: str) -> bool:
    """False for a plug-in that reads only the tables (NEEDS_TOPOLOGY = False)."""
    return getattr(_module(fmt), "NEEDS_TOPOLOGY", True)


def _write_one(topo, fmt: str, target: Path, exp: dict):
    t0 = time.perf_counter()
    summary = _module(fmt).write(topo, target, exp)
    return summary, time.perf_counter() - t0


# Formats run in forked workers (`export.workers`): the topology is built once in the parent and
# inherited copy-on-write, never pickled. fork, not forkserver/spawn, for exactly that reason;
# the CLI starts no threads before this point, and pyarrow re-initialises its pools after fork.
_FORKED_TOPO = None
# heaviest first, so two workers finish at about the same time
_COST = {"alcor": 0, "containerlab": 1, "graphml": 2, "merak": 3, "mininet": 4}


def _forked_job(job):
    fmt, target, exp = job
    return fmt, _write_one(_FORKED_TOPO, fmt, target, exp)


def _run_forked(topo, jobs, workers: int, on_written) -> dict:
    global _FORKED_TOPO
    _FORKED_TOPO = topo
    try:
        ctx = mp.get_context("fork")
        jobs = sorted(jobs, key=lambda j: _COST.get(j[0], 9))
        with ctx.Pool(workers) as pool:
            results = {}
            for fmt, result in pool.imap_unordered(_forked_job, jobs, chunksize=1):
                results[fmt] = result
                on_written(fmt)
            return results
    finally:
        _FORKED_TOPO = None
