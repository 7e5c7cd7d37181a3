"""`dcnet export`: the formats asked for (or params `export.formats`), the tables read, every
format written under OUT/<format>/, and the export report written beside them."""

from __future__ import annotations

from pathlib import Path

from pipeline import io
from pipeline.errors import InputError
from pipeline.export import export_tables, parse_formats


def run(params: dict, input: Path, out: Path, fmt: str | None = None, derive_fabric: bool = False,
        report: Path | None = None, on_format=None, on_written=None, engine=None) -> dict:
    """The export stage; returns the report (also written to `report`, default
    OUT/_export_report.json). `on_format(format, seconds)` is called per format written, at
    the end; `on_written(format)` as each is written. `engine`: None (this machine's
    processes) or a pipeline.engine.DaskEngine (pipeline/export/on_engine.py); the same
    folders and report either way."""
    formats = parse_formats(fmt or ",".join((params.get("export") or {}).get("formats") or ["all"]))
    if engine is None:
        tables = io.read_tables(input)  # outside the try below: its errors name the file already
    else:
        from pipeline.export.on_engine import REQUIRED_TABLES, export_on_engine

        tables = io.read_tables(input, REQUIRED_TABLES)  # the tasks read the rest themselves
    try:
        if engine is None:
            rep = export_tables(tables, formats, out, params, derive_fabric,
                                on_format=on_format, on_written=on_written)
        else:
            rep = export_on_engine(engine, input, tables, formats, out, params, derive_fabric,
                                   on_format=on_format, on_written=on_written)
    except InputError as e:
        raise InputError(f"{input}: {e}") from e
    io.write_json(rep, report or out / "_export_report.json")
    return rep
