"""`dcnet check-export`: the consumers asked for checked against their contracts, the findings
written as JSON beside the export."""

from __future__ import annotations

from pathlib import Path

from pipeline import io
from pipeline.check_export import CHECKERS, check_export
from pipeline.check_export.core import ConsumerReport
from pipeline.errors import InputError


def run(export_dir: Path, consumers: list[str] | None = None,
        report: Path | None = None, on_done=None) -> list[ConsumerReport]:
    """The check-export stage; one report per consumer (also written to `report`, default
    DIR/_check_report.json). Raises InputError for a missing folder, an unknown consumer, or
    a folder holding no consumer's export."""
    if not export_dir.is_dir():
        raise InputError(f"{export_dir}: export folder does not exist")
    bad = [c for c in consumers or [] if c not in CHECKERS]
    if bad:
        raise InputError(f"--consumer {bad[0]}: unknown; choose from {', '.join(CHECKERS)}")
    reports = check_export(export_dir, consumers or None, on_done=on_done)
    if not any(r.present for r in reports):
        raise InputError(f"{export_dir}: no consumer folder (alcor/, merak/, mininet/, containerlab/) "
                         f"to check")
    io.write_json({"consumers": [r.to_dict() for r in reports]},
                  report or export_dir / "_check_report.json")
    return reports
