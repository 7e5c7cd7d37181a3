"""Ingest on Dask into an output folder: the workers write the tables, this process keeps order.

Each unit's task parses it (worker.run_unit) and writes every table it produced as an Arrow IPC
file into `_units/` of the output folder being written, returning only the file names and row
counts. When every unit is done, the output files (`<table>.parquet`, or the parts of
`engine.partition_rows` rows, cut by row rank in file order as io.TableParts cuts them) are
written by one task each from the unit files they span, and `_units/` is removed. The dcnet
process converts no row: the same bytes as the local engine (tests/shared/test_engine.py), with
its per-row work spread over the workers. Workers need the output folder on a filesystem they
share with the dcnet process, as they need the dump.
"""

from __future__ import annotations

import functools
import shutil
import uuid
from pathlib import Path
from typing import NamedTuple

UNITS = "_units"


class UnitTable(NamedTuple):
    """One table of one unit, as its task wrote it."""

    path: str | None  # the Arrow IPC file (None: no row)
    rows: int
    errors: int  # rows with ingest errors


def units_folder(out) -> Path:
    """The folder of the unit files inside `out` (an io.TablesOut being written)."""
    folder = Path(out.folder) / UNITS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def unit_task(folder: Path):
    """What a Dask task runs on a unit: parse it and write its tables into `folder`."""
    return functools.partial(_unit_to_files, str(folder))


def _unit_to_files(folder: str, unit):
    """("ok", {table: UnitTable}, summary), or the unit's "bad" result as it is."""
    import pyarrow as pa

    from pipeline.ingest.worker import run_unit_task

    res = run_unit_task(unit)
    if res[0] != "ok":
        return res
    _, tables, summary = res
    out = {}
    for name, tbl in tables.items():
        errors = tbl.num_rows - tbl.column("ingest_errors").null_count
        path = None
        if tbl.num_rows:
            path = str(Path(folder) / f"{uuid.uuid4().hex}.{name}.arrow")
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, tbl.schema) as writer:
                writer.write_table(tbl)
        out[name] = UnitTable(path, tbl.num_rows, errors)
    return ("ok", out, summary)


def write_tables(engine, out, pieces: dict[str, list], folder: Path) -> None:
    """Every model table into `out` from its unit files `pieces` {table: [(file, rows)]} in
    row order, one task per output file; then the unit files go."""
    from pipeline import io
    from schemas import model

    client = engine.client
    jobs = []
    for name in model.TABLES:
        listed = pieces.get(name, [])
        for file, spans in io.cut_by_rank(name, [rows for _, rows in listed], out.rows_per_part):
            slices = [(listed[i][0], lo, hi) for i, lo, hi in spans]
            jobs.append((name, file, client.submit(_write_file, name, str(Path(out.folder) / file),
                                                   slices, pure=False)))
    entries = client.gather([fut for *_, fut in jobs])
    io.record_written([(out, name, file, entry) for (name, file, _), entry in zip(jobs, entries)])
    shutil.rmtree(folder)


def _write_file(name: str, path: str, slices: list) -> dict:
    """One output file of table `name` from (unit file, first row, end row) slices; its
    manifest entry."""
    import pyarrow as pa

    from pipeline import io
    from pipeline.ingest.frames import to_frame

    tables = []
    for file, lo, hi in slices:  # mapped, not copied: only the slice is converted
        tables.append(pa.ipc.open_file(pa.memory_map(file)).read_all().slice(lo, hi - lo))
    df = to_frame(name, tables)
    io.write_table(df, Path(path))
    return io.file_entry(Path(path), len(df))
