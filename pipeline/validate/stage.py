"""`dcnet validate`'s file I/O: read the ingested tables, validate, write both outputs and the
report (the checks run on the engine given; the files are the same on every engine)."""

from __future__ import annotations

from pathlib import Path

from pipeline import io
from pipeline.validate.core import STEPS, ValidationResult, enforce_limits, validate_tables

__all__ = ["RUN_STEPS", "enforce_limits", "run"]

RUN_STEPS = ("read", *STEPS, "write")  # what `on_step` reports, in order


def run(input_dir: Path, out: Path, quarantine: Path, report: Path, params: dict | None = None,
        engine=None, rows_per_part: int | None = None, on_step=None) -> ValidationResult:
    """`rows_per_part`: tables with more rows are written as folders of parts (io.write_tables).
    `on_step(name, i, n)`: called as the i-th of the n RUN_STEPS starts (a progress bar)."""
    def step(name):
        if on_step:
            on_step(name, RUN_STEPS.index(name), len(RUN_STEPS))

    step("read")
    if engine is not None:  # the workers read, check and write the tables (on_engine.py)
        from pipeline.validate.on_engine import validate_folder

        rep = validate_folder(engine, input_dir, out, quarantine, rows_per_part, step)
        io.write_json(rep, report)
        return ValidationResult({}, {}, rep)
    tables = io.read_tables(input_dir)
    result = validate_tables(tables, params, engine=engine, on_step=step)
    step("write")
    io.write_tables(result.valid, out, rows_per_part=rows_per_part)
    io.write_tables(result.quarantine, quarantine, rows_per_part=rows_per_part)
    io.write_json(result.report, report)
    return result
