"""Where a stage's work runs: `local` (this machine's processes, the default) or `dask`.

params.yaml `engine:` (read with plain dict access; the CLI's --engine/--scheduler override it):

    engine:
      kind: local        # local | dask
      address: ""        # dask: a running scheduler, e.g. tcp://10.0.0.5:8786
      workers: 2         # dask without an address: dcnet starts a LocalCluster of this many
                         # worker processes, 1 thread each, and stops it at the end
      temp_dir: ""       # dask: folder for ingest's temporary files (gunzipped files); "" =
                         # the system's. Give a shared one when workers run on other machines
      partition_rows: 250000  # rows per partition of a table: Dask (validate), and on disk: a
                              # bigger table is written as a folder of parts (pipeline/io.py)
      memory_limit: ""   # dask LocalCluster: memory per worker ("4GB"); past 60% of it a worker
                         # spills the data it holds to disk. "" = Dask's default (the machine's
                         # memory split among the workers). A running scheduler's workers keep
                         # their own limit

Ingest, validate, synthesize's shards (synthesize.shards > 1) and export run on Dask so far
(issue 14).
Outputs are byte-identical whatever the engine and the partitioning.
Dask is imported only when the dask engine is opened, so `dcnet --help` and the local engine
never pay for it.
"""

from __future__ import annotations

import os
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from pipeline.errors import InputError, StageFailed
from pipeline.io import partition_rows
from pipeline.params import default

KINDS = ("local", "dask")
DEFAULT_WORKERS = default("engine.workers")  # the params definition holds the default
DEFAULT_PARTITION_ROWS = default("engine.partition_rows")
CONNECT_TIMEOUT = "10s"


@dataclass(frozen=True)
class EngineSpec:
    kind: str = "local"
    address: str = ""
    workers: int = DEFAULT_WORKERS
    temp_dir: str = ""
    partition_rows: int = DEFAULT_PARTITION_ROWS
    memory_limit: int | None = None  # bytes per LocalCluster worker; None: Dask's default


def spec_from_params(params: dict, kind: str | None = None, address: str | None = None) -> EngineSpec:
    """The engine of params.yaml's `engine:` section, overridden by the CLI's --engine and
    --scheduler (a scheduler address alone means the dask engine)."""
    section = params.get("engine") or {}
    if not isinstance(section, dict):
        raise InputError(f"params engine must be a mapping (kind, address, workers), got {section!r}")
    if address and kind == "local":
        raise InputError("--scheduler needs --engine dask (the local engine has no scheduler)")
    chosen = kind or ("dask" if address else str(section.get("kind") or "local"))
    if chosen not in KINDS:
        source = "--engine" if kind else "params engine.kind"
        raise InputError(f"{source} must be one of {', '.join(KINDS)}, got '{chosen}'")
    addr = address if address else ("" if kind == "local" else section.get("address") or "")
    if not isinstance(addr, str):
        raise InputError(f"params engine.address must be a scheduler address string, got {addr!r}")
    raw_workers = section.get("workers", DEFAULT_WORKERS)
    try:
        workers = int(raw_workers)
    except (TypeError, ValueError):
        workers = 0
    if workers < 1 or isinstance(raw_workers, bool):
        raise InputError(f"params engine.workers must be a positive integer, got {raw_workers!r}")
    temp_dir = section.get("temp_dir") or ""
    if not isinstance(temp_dir, str):
        raise InputError(f"params engine.temp_dir must be a folder path, got {temp_dir!r}")
    return EngineSpec(chosen, addr.strip(), workers, temp_dir, partition_rows(params),
                      _memory_limit(section.get("memory_limit")))


def _memory_limit(raw) -> int | None:
    """Bytes of params engine.memory_limit ("4GB", "512 MiB", a number of bytes); None for
    "" (Dask's default)."""
    if raw in (None, ""):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    if isinstance(raw, str):
        from dask.utils import parse_bytes  # dask.utils only: cheap, and only when set

        try:
            value = parse_bytes(raw)
        except (ValueError, TypeError):
            value = 0
        if value > 0:
            return value
    raise InputError(f"params engine.memory_limit must be a size such as 4GB (or \"\" for Dask's "
                     f"default), got {raw!r}")


class DaskEngine:
    """A connected dask.distributed Client; runs tasks with a bounded number in flight."""

    kind = "dask"

    def __init__(self, client, started_cluster: bool, temp_dir: str = "",
                 partition_rows: int = DEFAULT_PARTITION_ROWS):
        self.client = client
        self.started_cluster = started_cluster
        self.temp_dir = temp_dir  # where stages put files their tasks read ("" = system's)
        self.partition_rows = partition_rows  # rows per partition of a table (validate)

    def run_ordered(self, fn: Callable, items: Iterable, per_worker: int = 2,
                    describe: Callable[[object], str] = repr) -> Iterator[tuple]:
        """(item, fn(item)) in item order, fn running as Dask tasks. At most `per_worker` tasks
        per worker thread are in flight, and `items` is consumed only as results are taken, so
        memory holds a bounded number of items and results (the planner reads files lazily).
        Closing the iterator early (the caller raised) cancels what is still in flight.
        `describe(item)` names an item in the one-line error when workers die running it."""
        window = max(1, per_worker * sum(self.client.nthreads().values()))
        inflight: deque = deque()
        try:
            for item in items:
                while len(inflight) >= window:
                    yield self._take(inflight, describe)
                # pure=False: units are never shared, and hashing their arguments would cost time
                inflight.append((item, self.client.submit(fn, item, pure=False)))
            while inflight:
                yield self._take(inflight, describe)
        finally:
            if inflight:
                self.client.cancel([fut for _, fut in inflight])

    @staticmethod
    def _take(inflight: deque, describe: Callable[[object], str]) -> tuple:
        from distributed import KilledWorker

        item, fut = inflight.popleft()
        try:
            return item, fut.result()
        except KilledWorker:
            # e.g. each worker that tried it was killed for using too much memory
            raise StageFailed(f"{describe(item)}: dask workers died while processing it (out of "
                              "memory? give the workers more)") from None
        finally:
            fut.release()


@contextmanager
def open_engine(spec: EngineSpec, announce: Callable[[str], None] | None = None):
    """Yield None for the local engine, a DaskEngine for dask: connected to spec.address, or to
    a LocalCluster started here (then `announce` gets one line naming its dashboard) and
    stopped on exit."""
    if spec.kind == "local":
        yield None
        return
    if spec.temp_dir and not os.path.isdir(spec.temp_dir):
        raise InputError(f"params engine.temp_dir: {spec.temp_dir} is not a folder")
    import logging

    from distributed import Client, LocalCluster

    cluster = None
    if spec.address:
        try:
            client = Client(spec.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"cannot connect to the dask scheduler at {spec.address} "
                             f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    else:
        import warnings

        with warnings.catch_warnings():
            # "Port 8787 is already in use ...": another port is taken, and announced below
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            # processes, not threads: parsing holds the GIL
            cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                                   silence_logs=logging.WARNING,
                                   memory_limit=spec.memory_limit or "auto")
        client = Client(cluster, set_as_default=False)
        if announce:
            announce(f"dask: started a LocalCluster of {spec.workers} worker processes; "
                     f"dashboard {client.dashboard_link}{_bokeh_note()}")
    try:
        yield DaskEngine(client, started_cluster=cluster is not None, temp_dir=spec.temp_dir,
                         partition_rows=spec.partition_rows)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _bokeh_note() -> str:
    import importlib.util

    # without bokeh the dashboard only serves a page asking for it
    return "" if importlib.util.find_spec("bokeh") else " (its plots need bokeh>=3.1 installed)"
