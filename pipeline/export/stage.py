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
    try:
        if engine is None:
            rep = export_tables(io.read_tables(input), formats, out, params, derive_fabric,
                                on_format=on_format, on_written=on_written)
        else:
            from pipeline.export import _module
            from pipeline.export.on_engine import export_on_engine
            from pipeline.export.topology import require_tables

            # bad input fails here, before any task starts (the tasks read the tables themselves)
            need_fabric = any(getattr(_module(f), "NEEDS_FABRIC", True) for f in formats)
            require_tables(io.read_tables(input, ["hosts", "fabric_switches", "fabric_links"]),
                           derive_fabric, need_fabric)
            rep = export_on_engine(engine, input, formats, out, params, derive_fabric,
                                   on_format=on_format, on_written=on_written)
    except InputError as e:
        raise InputError(f"{input}: {e}") from e
    io.write_json(rep, report or out / "_export_report.json")
    return rep
